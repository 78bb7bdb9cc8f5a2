/**
 * Bundles the Webhook Settings element into one self-contained ES module,
 * admin-ui/dist/webhook-settings.js, that the admin router serves at `{router}/ui/webhook-settings.js`.
 * Run with `tsx admin-ui/build.ts`; tests import `buildAdminUi()`.
 */
import { build } from 'esbuild';
import { stat } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

export const ADMIN_UI_ENTRY = fileURLToPath(new URL('./src/webhook-settings.ts', import.meta.url));
export const ADMIN_UI_BUNDLE = fileURLToPath(new URL('./dist/webhook-settings.js', import.meta.url));

export async function buildAdminUi(options: { minify?: boolean; outfile?: string } = {}): Promise<{ outfile: string; bytes: number }> {
  const outfile = options.outfile ?? ADMIN_UI_BUNDLE;
  const result = await build({
    entryPoints: [ADMIN_UI_ENTRY],
    outfile,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: ['chrome111', 'firefox113', 'safari16.4', 'edge111'],
    minify: options.minify ?? true,
    sourcemap: false,
    // Lit is BSD-3-Clause: keep its notice with the code that ships.
    legalComments: 'eof',
    // Lit's production build, without dev-mode warnings.
    conditions: ['production'],
    charset: 'utf8',
    logLevel: 'silent',
    tsconfigRaw: { compilerOptions: { useDefineForClassFields: false, target: 'ES2022' } },
  });
  if (result.errors.length > 0) throw new Error(result.errors.map((e) => e.text).join('\n'));
  return { outfile, bytes: (await stat(outfile)).size };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const started = Date.now();
  buildAdminUi().then(({ outfile, bytes }) => {
    console.log(`admin UI: ${outfile} (${(bytes / 1024).toFixed(1)} KiB) in ${Date.now() - started} ms`);
  }, (error) => {
    console.error(error);
    process.exitCode = 1;
  });
}
