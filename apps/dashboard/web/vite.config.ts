import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vite'

// Built into ../dist/web, loaded from /dashboard/ on the server's own origin. No inline scripts or
// styles end up in index.html, so the server's Content Security Policy needs no 'unsafe-inline'.
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/dashboard/',
  build: {
    outDir: fileURLToPath(new URL('../dist/web', import.meta.url)),
    emptyOutDir: true,
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    target: 'es2022',
  },
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
})
