/**
 * The agent ↔ server contract: every request and response body, defined once
 * as a JSON schema (TypeBox) with its TypeScript type. The server validates
 * and serialises with these schemas (response schemas also keep fields that
 * were never meant to leave the server from leaking); the agent and the admin
 * CLI type their calls with them. Field names are snake_case on the wire, as
 * in SPIRE's APIs.
 *
 * The schemas are the package's `@k8s-attest/core/wire` entry, loaded by what
 * validates or serialises (the server's routes, the agent's client); the main
 * entry carries only their types, and the paths and limits of
 * `wire-constants.ts`, so a caller that needs no schema — an operator's command,
 * the dashboard — never loads the schema library.
 */
import { type Static, Type } from 'typebox'
import { ATTEST_ERROR_CODES } from './errors.ts'
import { MAX_CSR_BYTES, MAX_TOKEN_BYTES } from './wire-constants.ts'

/** The node attestors this system implements. */
export const AttestorTypeSchema = Type.Union([Type.Literal('k8s_psat'), Type.Literal('k8s_sat')], {
  description: 'Node attestor: k8s_psat (projected, audience-bound token) or k8s_sat (service account token)',
})
/** One of the node attestors, `"k8s_psat"` or `"k8s_sat"`. */
export type AttestorType = Static<typeof AttestorTypeSchema>

/** A SPIRE selector, e.g. `{ type: "k8s_psat", value: "agent_ns:spire" }`. */
export const SelectorSchema = Type.Object(
  {
    type: Type.String({ minLength: 1, description: 'Selector type: the attestor name' }),
    value: Type.String({ minLength: 1, description: 'Selector value, e.g. "cluster:demo"' }),
  },
  { additionalProperties: false },
)
/** A selector object as it travels on the wire. */
export type Selector = Static<typeof SelectorSchema>

const SpiffeIdString = Type.String({ minLength: 1, maxLength: 2048, description: 'SPIFFE ID' })
const PemCertificates = Type.Array(Type.String({ minLength: 1 }), {
  description: 'PEM certificates',
})
const Csr = Type.String({
  minLength: 1,
  maxLength: MAX_CSR_BYTES,
  description: 'PKCS#10 certificate signing request, PEM',
})

/** `POST /v1/attest` body. */
export const AttestRequestSchema = Type.Object(
  {
    attestation: Type.Object(
      {
        type: AttestorTypeSchema,
        payload: Type.Object(
          {
            cluster: Type.String({
              minLength: 1,
              maxLength: 253,
              description: 'Name of the cluster in the server configuration',
            }),
            token: Type.String({
              minLength: 1,
              maxLength: MAX_TOKEN_BYTES,
              description: 'The service account token, as read from the agent pod',
            }),
          },
          { additionalProperties: false },
        ),
      },
      { additionalProperties: false },
    ),
    csr: Csr,
  },
  { additionalProperties: false },
)
/** Body of `POST /v1/attest`. */
export type AttestRequest = Static<typeof AttestRequestSchema>

/** The answer to a successful attestation or renewal. */
export const SvidResponseSchema = Type.Object(
  {
    spiffe_id: SpiffeIdString,
    svid: Type.Array(Type.String({ minLength: 1 }), {
      minItems: 1,
      description: 'The X.509 SVID chain, PEM, leaf first',
    }),
    bundle: PemCertificates,
    selectors: Type.Array(SelectorSchema),
    expires_at: Type.String({ format: 'date-time', description: "The SVID's notAfter, RFC 3339" }),
    reattestable: Type.Boolean({
      description: 'Whether the agent renews by attesting again (k8s_psat) rather than over mTLS (k8s_sat)',
    }),
  },
  { additionalProperties: false },
)
/** An issued SVID with its bundle and the agent's selectors. */
export type SvidResponse = Static<typeof SvidResponseSchema>

/** `POST /v1/attest` answer. */
export const AttestResponseSchema = SvidResponseSchema
/** Answer to `POST /v1/attest`. */
export type AttestResponse = SvidResponse

/** `POST /v1/renew` body (the caller authenticates with its current SVID over mTLS). */
export const RenewRequestSchema = Type.Object({ csr: Csr }, { additionalProperties: false })
/** Body of `POST /v1/renew`. */
export type RenewRequest = Static<typeof RenewRequestSchema>

/** `POST /v1/renew` answer. */
export const RenewResponseSchema = SvidResponseSchema
/** Answer to `POST /v1/renew`. */
export type RenewResponse = SvidResponse

/** One key of a SPIFFE bundle in JWKS form (SPIFFE Trust Domain and Bundle spec). */
export const SpiffeBundleKeySchema = Type.Object(
  {
    kty: Type.String(),
    crv: Type.Optional(Type.String()),
    x: Type.Optional(Type.String()),
    y: Type.Optional(Type.String()),
    n: Type.Optional(Type.String()),
    e: Type.Optional(Type.String()),
    use: Type.Literal('x509-svid'),
    x5c: Type.Array(Type.String(), { minItems: 1, maxItems: 1 }),
  },
  { additionalProperties: false },
)
/** One JWKS key of a SPIFFE bundle. */
export type SpiffeBundleKey = Static<typeof SpiffeBundleKeySchema>

/** `GET /v1/bundle` answer: the CA certificates as PEM and as a SPIFFE bundle. */
export const BundleResponseSchema = Type.Object(
  {
    trust_domain: Type.String({ minLength: 1 }),
    x509_authorities: PemCertificates,
    spiffe_bundle: Type.Object(
      {
        keys: Type.Array(SpiffeBundleKeySchema),
        spiffe_sequence: Type.Integer({ minimum: 0 }),
        spiffe_refresh_hint: Type.Integer({ minimum: 0, description: 'Seconds' }),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
)
/** Answer to `GET /v1/bundle`. */
export type BundleResponse = Static<typeof BundleResponseSchema>

/** Every error body: RFC 9457 problem details plus the stable `code`. */
export const ProblemSchema = Type.Object(
  {
    type: Type.String({ description: 'URI naming the error, urn:k8s-attest:error:<code>' }),
    title: Type.String(),
    status: Type.Integer({ minimum: 400, maximum: 599 }),
    detail: Type.String(),
    // Type.Enum rather than a union of literals mapped from the list: a mapped
    // array is not a tuple, and its static type collapses to `never`.
    code: Type.Enum(ATTEST_ERROR_CODES, {
      description: 'Stable error code; branch on this, never on the text',
    }),
    check: Type.Optional(Type.String({ description: 'The check that failed' })),
    cluster: Type.Optional(Type.String()),
    value: Type.Optional(Type.String({ description: 'The offending value (never a token)' })),
    expected: Type.Optional(Type.String()),
    retry_after_seconds: Type.Optional(Type.Integer({ minimum: 0 })),
  },
  { additionalProperties: false },
)
/** An error body (RFC 9457 problem details with `code`). */
export type Problem = Static<typeof ProblemSchema>

/** An attested agent, as the admin API shows it. */
export const AgentViewSchema = Type.Object(
  {
    spiffe_id: SpiffeIdString,
    attestor: AttestorTypeSchema,
    cluster: Type.String(),
    selectors: Type.Array(SelectorSchema),
    svid_serial: Type.String({ description: 'Serial number of the current SVID, hex' }),
    svid_expires_at: Type.String({ format: 'date-time' }),
    first_attested_at: Type.String({ format: 'date-time' }),
    last_attested_at: Type.String({ format: 'date-time' }),
    banned: Type.Boolean(),
  },
  { additionalProperties: false },
)
/** An attested agent as the admin API shows it. */
export type AgentView = Static<typeof AgentViewSchema>

/** `GET /v1/admin/agents` query. */
export const AgentListQuerySchema = Type.Object(
  {
    cluster: Type.Optional(Type.String({ minLength: 1, maxLength: 253 })),
    attestor: Type.Optional(AttestorTypeSchema),
    selector: Type.Optional(
      Type.String({
        minLength: 3,
        // A label selector is at most ~340 characters (a 253-character key, a 63-character value).
        maxLength: 1024,
        description: 'type:value, e.g. k8s_psat:agent_ns:spire',
      }),
    ),
    banned: Type.Optional(Type.Boolean()),
    state: Type.Optional(
      Type.Union([Type.Literal('attested'), Type.Literal('expired'), Type.Literal('banned')], {
        description: 'attested (SVID valid), expired (SVID expired, not banned) or banned',
      }),
    ),
    search: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 256,
        description: 'Text the SPIFFE ID or a selector value contains, ignoring case (a node or pod name)',
      }),
    ),
    sort: Type.Optional(
      Type.Union(
        [Type.Literal('spiffe_id'), Type.Literal('last_attested_at'), Type.Literal('svid_expires_at')],
        { description: 'Order of the listing (ties by SPIFFE ID); default spiffe_id' },
      ),
    ),
    order: Type.Optional(
      Type.Union([Type.Literal('asc'), Type.Literal('desc')], { description: 'Default asc' }),
    ),
    page_size: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 50 })),
    page_token: Type.Optional(
      Type.String({ minLength: 1, maxLength: 4096, description: 'next_page_token of the previous page' }),
    ),
  },
  { additionalProperties: false },
)
/** Query of `GET /v1/admin/agents`. */
export type AgentListQuery = Static<typeof AgentListQuerySchema>

/** `GET /v1/admin/agents` answer. */
export const AgentListResponseSchema = Type.Object(
  {
    agents: Type.Array(AgentViewSchema),
    next_page_token: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
)
/** Answer to `GET /v1/admin/agents`. */
export type AgentListResponse = Static<typeof AgentListResponseSchema>

/** What a configuration reload changed for one node attestor, by cluster name. */
export const ClusterChangesSchema = Type.Object(
  {
    added: Type.Array(Type.String()),
    changed: Type.Array(Type.String()),
    removed: Type.Array(Type.String()),
  },
  { additionalProperties: false },
)
/** Clusters a reload added, changed (any key of theirs, allow-lists included) and removed. */
export type ClusterChanges = Static<typeof ClusterChangesSchema>

/** `POST /v1/admin/reload` answer: the configuration file was applied. */
export const ConfigReloadResponseSchema = Type.Object(
  {
    /** The configuration file that was read. */
    config_file: Type.String(),
    k8s_psat: ClusterChangesSchema,
    k8s_sat: ClusterChangesSchema,
  },
  { additionalProperties: false },
)
/** Answer to `POST /v1/admin/reload`. */
export type ConfigReloadResponse = Static<typeof ConfigReloadResponseSchema>
