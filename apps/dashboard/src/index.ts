import { fileURLToPath } from 'node:url'

/**
 * Where `pnpm build` (Vite) writes the dashboard's browser files: `index.html` and the hashed
 * scripts and styles under `assets/`. The server serves them at `/dashboard/`. Both this source
 * file and its compiled copy in `dist/` sit one directory below the package, so one relative path
 * serves both.
 */
export const DASHBOARD_ASSETS_DIR: string = fileURLToPath(new URL('../dist/web/', import.meta.url))

/** The path the dashboard is served under; its assets are built to be loaded from there. */
export const DASHBOARD_BASE_PATH = '/dashboard/'
