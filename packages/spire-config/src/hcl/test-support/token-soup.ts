/**
 * Pieces of HCL text the property tests join at random ("token soup"): identifiers, numbers,
 * white space and line ends, every punctuation mark, quotes and escapes, comment markers,
 * heredoc markers, template openers and template keywords. Most joins are invalid, which is the
 * point: the scanner and the parser meet every pair of these in every order.
 */
export const HCL_TOKEN_PIECES: readonly string[] = [
  ...['a', 'b', '1', '2.5', 'é', '.', ' ', '\n', '\r\n', '\t', '=', ':', ',', '-'],
  ...['"', '\\', '$', '%', '{', '}', '[', ']', '(', ')', '~', '#', '//', '/*', '*/'],
  ...['<<EOF\n', '<<-EOF\n', 'EOF', '${', '%{', 'if', 'for', 'in'],
]
