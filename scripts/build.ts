// `npm run build`: the operator and the migration tool as the image runs them, each bundled with the packages
// it imports into dist/ (dist/main.js, dist/migrate/cli.js), whitespace and syntax minified.
// `node scripts/build.ts --outdir=<folder>` writes them elsewhere (the benchmarks build into their scratch
// folder); the folder is emptied first.
//
// Why a bundle and not tsc's one file per module: a Node.js process keeps the source text of every module it
// loads, and @kubernetes/client-node alone is about 2,800 generated modules. Loaded as files they cost the
// operator about 80 MiB of resident memory before it holds any object; bundled and minified, far less
// (docs/benchmarks.md, "Memory"). Identifiers keep their names, so stack traces and error names read as in
// the source.
//
// A provider's SDK is imported when the first store of its kind needs it (src/providers/load-client.ts); the
// split keeps each one in a chunk of its own that is read only then. GCP's client stays a package on disk:
// google-gax reads its protocol definitions from files next to its own modules.
//
// The output is written ASCII only (scripts/ascii-source.ts says why).
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { build, transform } from 'esbuild';
import { asciiSource } from './ascii-source.ts';

const root = path.resolve(import.meta.dirname, '..');
const outdirFlag = process.argv.find((arg) => arg.startsWith('--outdir='));
const outdir = outdirFlag ? path.resolve(outdirFlag.slice('--outdir='.length)) : path.join(root, 'dist');

/** Packages that must stay files in node_modules (the image keeps the production dependencies). */
const unbundled = ['@google-cloud/secret-manager', 'google-gax', 'google-auth-library'];

await rm(outdir, { recursive: true, force: true });
const result = await build({
  absWorkingDir: root,
  entryPoints: { main: 'src/main.ts', 'migrate/cli': 'src/migrate/cli.ts' },
  outdir,
  bundle: true,
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  platform: 'node',
  format: 'esm',
  target: 'node24',
  external: unbundled,
  minifyWhitespace: true,
  minifySyntax: true,
  keepNames: true,
  legalComments: 'linked',
  write: false,
  logLevel: 'warning',
  // CommonJS packages inside an ES module bundle still call require() for Node's built-in modules.
  banner: {
    js: "import { createRequire as __secretlinkRequire } from 'node:module';const require = __secretlinkRequire(import.meta.url);",
  },
});

let files = 0;
let bytes = 0;
for (const file of result.outputFiles) {
  await mkdir(path.dirname(file.path), { recursive: true });
  if (!file.path.endsWith('.js')) {
    await writeFile(file.path, file.contents);
    continue;
  }
  const text = asciiSource(file.text);
  // A character the rewrite cannot escape where it stands fails here, not when the operator loads the chunk.
  await transform(text, { loader: 'js', format: 'esm', logLevel: 'silent' });
  await writeFile(file.path, text);
  files++;
  bytes += Buffer.byteLength(text);
}

console.log(
  `${path.relative(root, outdir) || outdir}: ${files} files, ${(bytes / 1024 / 1024).toFixed(1)} MiB of JavaScript`,
);
