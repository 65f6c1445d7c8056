// Builds GraphiQL, its styles, fonts and Monaco's workers into gateway/static/graphiql/, which the
// server serves (gateway/graphiql.py). Every file name carries a hash of its content, each has a
// gzipped copy beside it, and manifest.json names the two files the page loads.
// Run by `make install` after `npm ci`; by hand: `npm run build` in clients/.
import { readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import * as esbuild from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
const outdir = join(here, '..', '..', 'gateway', 'static', 'graphiql');

const common = {
  bundle: true,
  minify: true,
  format: 'iife',
  target: ['chrome110', 'firefox110', 'safari16'],
  outdir,
  entryNames: '[name]-[hash]',
  assetNames: '[name]-[hash]',
  metafile: true,
  logLevel: 'warning',
  define: { 'process.env.NODE_ENV': '"production"' },
};

// The file esbuild wrote for an entry point (metafile paths are relative, through node_modules/).
function outputOf(result, entryPoint) {
  const [file, output] = Object.entries(result.metafile.outputs).find(([, o]) => o.entryPoint?.endsWith(entryPoint));
  return { file: basename(file), cssBundle: output.cssBundle && basename(output.cssBundle) };
}

await rm(outdir, { recursive: true, force: true });

// Monaco's workers, by the label Monaco asks for (workers.js): separate files, as workers are.
const workerModules = {
  editor: 'monaco-editor/esm/vs/editor/editor.worker.js',
  json: 'monaco-editor/esm/vs/language/json/json.worker.js',
  graphql: 'monaco-graphql/esm/graphql.worker.js',
};
const workers = await esbuild.build({ ...common, entryPoints: workerModules, entryNames: '[name].worker-[hash]' });
const workerFiles = Object.fromEntries(
  Object.entries(workerModules).map(([label, module]) => [label, outputOf(workers, module).file]),
);

const page = await esbuild.build({
  ...common,
  entryPoints: { graphiql: join(here, 'index.js') },
  loader: { '.ttf': 'file', '.woff': 'file', '.woff2': 'file', '.svg': 'file' },
  define: { ...common.define, MONACO_WORKERS: JSON.stringify(workerFiles) },
});
const main = outputOf(page, 'graphiql/index.js');
const manifest = { script: main.file, stylesheet: main.cssBundle, workers: workerFiles };
// Compressed once here rather than on every request (the script is megabytes).
for (const file of await readdir(outdir)) {
  const content = await readFile(join(outdir, file));
  await writeFile(join(outdir, `${file}.gz`), gzipSync(content, { level: 9 }));
}
await writeFile(join(outdir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
console.log(`GraphiQL built into ${outdir}: ${main.file}, ${manifest.stylesheet}`);
