// `node scripts/release/cli.ts chart`: regenerate charts/secretlink and config/prometheus/prometheusrule.yaml
// from config/ (`--check`: only say what is stale). `manifest [--out=dist/install.yaml]`: the release's
// single-file install manifest. kubectl is the test environment's (built or reused like the other binaries).
import fs from 'node:fs/promises';
import path from 'node:path';
import { ensureComponent } from '../../test/env/build.ts';
import { kubernetes, repoRoot } from '../../test/env/components.ts';
import { consoleProgress } from '../../test/env/progress.ts';
import { generatedFiles, releaseManifest, staleFiles, writeFiles } from './generated.ts';

const [command, ...flags] = process.argv.slice(2);
const { kubectl } = await ensureComponent(kubernetes, consoleProgress('[release]'));

if (command === 'chart') {
  const files = await generatedFiles(kubectl!, repoRoot);
  if (flags.includes('--check')) {
    const stale = staleFiles(files, repoRoot);
    if (stale.length > 0) {
      console.error(`Generated files are stale; run \`make chart\`:\n  ${stale.join('\n  ')}`);
      process.exit(1);
    }
    console.log('charts/secretlink and config/prometheus/prometheusrule.yaml match config/');
  } else {
    await writeFiles(files, repoRoot);
    console.log(`wrote ${files.size} files`);
  }
} else if (command === 'manifest') {
  const out = path.resolve(
    repoRoot,
    flags.find((flag) => flag.startsWith('--out='))?.slice('--out='.length) ?? 'dist/install.yaml',
  );
  await fs.mkdir(path.dirname(out), { recursive: true });
  await fs.writeFile(out, await releaseManifest(kubectl!, repoRoot));
  console.log(`wrote ${path.relative(repoRoot, out)}`);
} else {
  console.error('usage: node scripts/release/cli.ts chart [--check] | manifest [--out=dist/install.yaml]');
  process.exit(2);
}
