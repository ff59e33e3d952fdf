// Bundles GraphiQL, its Monaco workers and the upstream-calls panel into
// ../gateway/http/explorer_assets (git-ignored), which the gateway serves at /graphiql/.
// Everything comes from the pinned packages in package-lock.json: nothing from a CDN.
import { build } from 'esbuild';
import { rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const outdir = fileURLToPath(new URL('../gateway/http/explorer_assets/', import.meta.url));
await rm(outdir, { recursive: true, force: true });

const common = {
  absWorkingDir: here,
  bundle: true,
  minify: true,
  legalComments: 'linked',
  define: { 'process.env.NODE_ENV': '"production"' },
  logLevel: 'warning',
  outdir,
};

await build({
  ...common,
  entryPoints: { main: 'src/main.jsx' },
  format: 'esm',
  jsx: 'automatic',
  loader: { '.ttf': 'file', '.woff': 'file', '.woff2': 'file', '.svg': 'dataurl' },
  assetNames: '[name]-[hash]',
});

await build({
  ...common,
  entryPoints: {
    'editor.worker': 'monaco-editor/esm/vs/editor/editor.worker.js',
    'json.worker': 'monaco-editor/esm/vs/language/json/json.worker.js',
    'graphql.worker': 'monaco-graphql/esm/graphql.worker.js',
  },
  format: 'iife',
});
