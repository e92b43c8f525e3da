/**
 * The dashboard's sign-in page, rendered by the server: a plain HTML form (it works without
 * script), styled by {@link SIGN_IN_CSS} from the same origin. It is the only page served
 * without a session, and it shows nothing about the server.
 */

/** Where the sign-in page is, and where its form posts. */
export const SIGN_IN_PATH = '/dashboard/sign-in'

/** Its stylesheet's path (no inline styles: the Content Security Policy forbids them). */
export const SIGN_IN_CSS_PATH = '/dashboard/sign-in.css'

/** The sign-in page; with `problem`, a sentence saying why the last attempt failed. */
export function signInPage(problem?: string): string {
  const alert =
    problem === undefined
      ? ''
      : `<p class="problem" role="alert" id="sign-in-problem">${escapeHtml(problem)}</p>`
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign in · k8s-attest</title>
<link rel="stylesheet" href="${SIGN_IN_CSS_PATH}">
</head>
<body>
<main>
<h1>k8s-attest</h1>
<p>Agents dashboard. Sign in with the server's admin bearer token (the file named by
<code>bearer_token_file</code> in the server's configuration), or open this page with an admin X.509 SVID.</p>
${alert}
<form method="post" action="${SIGN_IN_PATH}">
<label for="token">Admin token</label>
<input id="token" name="token" type="password" autocomplete="current-password" required minlength="1" maxlength="4096"${problem === undefined ? '' : ' aria-describedby="sign-in-problem" aria-invalid="true"'} autofocus>
<button type="submit">Sign in</button>
</form>
</main>
</body>
</html>
`
}

/** The sign-in page's stylesheet. */
export const SIGN_IN_CSS = `:root { color-scheme: light dark; font-family: system-ui, sans-serif; }
body { margin: 0; min-height: 100vh; display: grid; place-items: center; background: Canvas; color: CanvasText; }
main { width: min(28rem, 100% - 2rem); line-height: 1.5; }
h1 { font-size: 1.6rem; margin: 0 0 0.5rem; }
form { display: grid; gap: 0.5rem; margin-top: 1rem; }
label { font-weight: 600; }
input { font: inherit; padding: 0.6rem; border: 1px solid #6b6b6b; border-radius: 6px; background: Field; color: FieldText; }
button { font: inherit; font-weight: 600; padding: 0.6rem 1rem; border: 0; border-radius: 6px; background: #0b57d0; color: #fff; cursor: pointer; }
input:focus-visible, button:focus-visible { outline: 3px solid #f59e0b; outline-offset: 2px; }
.problem { border-left: 4px solid #b3261e; padding: 0.4rem 0.8rem; background: color-mix(in srgb, #b3261e 12%, Canvas); }
code { font-size: 0.95em; }
`

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`)
}
