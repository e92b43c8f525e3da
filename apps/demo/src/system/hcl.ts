/**
 * HCL literals for the configuration files the demo writes: values come from the demo's own
 * paths and names, and must reach the server and agent exactly as given.
 */

/**
 * An HCL string literal: JSON's escaping is a subset HCL reads the same way, plus HCL's own
 * escapes for the template sequences `${` and `%{`, which would otherwise be interpolated.
 */
export function hcl(value: string): string {
  // Replacer functions: in a replacement string, `$$` itself means a single `$`.
  return JSON.stringify(value)
    .replaceAll('${', () => '$${')
    .replaceAll('%{', () => '%%{')
}

/** An HCL list of string literals. */
export function hclList(values: readonly string[]): string {
  return `[${values.map(hcl).join(', ')}]`
}
