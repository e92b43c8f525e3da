import { AjvCompiler, type Options as AjvOptions, type BuildCompilerFromPool } from '@fastify/ajv-compiler'

/** What fastify hands a compiled validator factory for each route part (see `@fastify/ajv-compiler`). */
interface RoutePart {
  readonly httpPart?: string
}

/** One pool, as fastify's own: Ajv instances are shared by contexts with the same schemas and options. */
const buildFromPool = AjvCompiler()

/**
 * fastify's validator (Ajv through `@fastify/ajv-compiler`, with the app's own Ajv options),
 * except that JSON bodies are never type-coerced. fastify's default `coerceTypes: 'array'`
 * would accept `"csr": ["<pem>"]` for a string and turn `"cluster": false` into `"false"`;
 * a JSON body has real types, and a wrong one is a schema error (`ATT_ERR_BAD_REQUEST`).
 * Query strings, path parameters and headers are text by nature, so they keep fastify's
 * coercion (`page_size=10` is the integer 10).
 */
export const strictBodyValidator: BuildCompilerFromPool = (externalSchemas, options) => {
  const coercing = buildFromPool(externalSchemas, options)
  // fastify's options are Ajv's (never JTD mode): the cast only narrows the union.
  const strictOptions = {
    ...options,
    customOptions: { ...(options?.customOptions as AjvOptions | undefined), coerceTypes: false },
  } as Parameters<BuildCompilerFromPool>[1]
  const strict = buildFromPool(externalSchemas, strictOptions)
  // The pool's type says (schema) => …, but fastify calls it with the route part.
  const compile = (route: RoutePart) => (route.httpPart === 'body' ? strict : coercing)(route as never)
  return compile as unknown as ReturnType<BuildCompilerFromPool>
}
