// Finds or builds the binaries of one component. A user-supplied folder wins; otherwise a cache entry keyed
// by version and by the pinned module files is verified against its manifest, and rebuilt when stale or broken.
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { lastLines, runCommand, sha256File } from './command.ts';
import { type Component, componentsDir } from './components.ts';
import { cacheRoot } from './paths.ts';
import { formatDuration, type Progress } from './progress.ts';

export type BinaryPaths = Record<string, string>;

export class ComponentUnavailableError extends Error {
  constructor(component: Component, what: string, hint: string) {
    super(
      `${component.name} ${component.version}: ${what}\n` +
        `To use binaries you already have, set ${component.binDirVariable} to a folder holding ` +
        `${Object.keys(component.binaries).join(', ')}. ${hint}`,
    );
    this.name = 'ComponentUnavailableError';
  }
}

interface Manifest {
  component: string;
  version: string;
  sha256: Record<string, string>;
}

export async function ensureComponent(component: Component, progress: Progress): Promise<BinaryPaths> {
  const supplied = suppliedBinaries(component);
  const missing = Object.keys(component.binaries).filter((bin) => !(bin in supplied));
  if (missing.length === 0) return supplied;

  const entry = path.join(
    cacheRoot(),
    'bin',
    `${component.name}-${component.version}-${await moduleFingerprint(component)}`,
  );
  if (await cacheEntryIsIntact(entry, component, progress))
    return { ...binariesIn(entry, component), ...supplied };

  await build(component, entry, progress);
  return { ...binariesIn(entry, component), ...supplied };
}

function suppliedBinaries(component: Component): BinaryPaths {
  const dir = process.env[component.binDirVariable];
  if (!dir) return {};
  const found: BinaryPaths = {};
  for (const bin of Object.keys(component.binaries)) {
    const candidate = path.join(dir, bin);
    if (existsSync(candidate)) found[bin] = candidate;
  }
  return found;
}

function binariesIn(entry: string, component: Component): BinaryPaths {
  return Object.fromEntries(Object.keys(component.binaries).map((bin) => [bin, path.join(entry, bin)]));
}

/** Changes whenever the pinned modules, the overlay or the link flags change, so an old build is not reused. */
async function moduleFingerprint(component: Component): Promise<string> {
  const hash = createHash('sha256');
  const moduleDir = path.join(componentsDir, component.module);
  const ownSources = readdirSync(moduleDir).filter((file) => /^go\.(mod|sum)$|\.go$/.test(file));
  const files = [
    ...ownSources.sort().map((file) => [file, path.join(moduleDir, file)]),
    ...Object.values(component.overlay ?? {}).map((file) => [file, path.join(componentsDir, file)]),
  ];
  for (const [name, full] of files) hash.update(name!).update(readFileSync(full!));
  hash.update(component.ldflags ?? '').update(`${process.platform}-${process.arch}`);
  return hash.digest('hex').slice(0, 12);
}

/** True when every binary matches the manifest written at build time; a stale or broken entry is removed. */
export async function cacheEntryIsIntact(
  entry: string,
  component: Component,
  progress: Progress,
): Promise<boolean> {
  if (!existsSync(entry)) return false;
  try {
    const manifest = JSON.parse(await fs.readFile(path.join(entry, 'manifest.json'), 'utf8')) as Manifest;
    for (const bin of Object.keys(component.binaries)) {
      if (manifest.sha256[bin] !== (await sha256File(path.join(entry, bin))))
        throw new Error(`${bin} changed`);
    }
    return true;
  } catch (error) {
    progress.note(`cache entry ${entry} is stale or broken (${(error as Error).message}); rebuilding`);
    await fs.rm(entry, { recursive: true, force: true });
    return false;
  }
}

async function build(component: Component, entry: string, progress: Progress): Promise<void> {
  await requireGo(component);
  const moduleDir = path.join(componentsDir, component.module);
  await removeAbandonedBuilds(entry);
  const staging = `${entry}.building-${process.pid}-${randomBytes(4).toString('hex')}`;
  await fs.mkdir(staging, { recursive: true });
  const env = goEnvironment(component);
  const started = Date.now();
  const names = Object.keys(component.binaries).join(', ');
  progress.step(
    `building ${component.name} ${component.version} (${names}) from Go modules; a cold build takes minutes`,
  );
  const heartbeat = setInterval(
    () => progress.note(`still building ${component.name} (${formatDuration(Date.now() - started)})`),
    30_000,
  );
  try {
    const args = ['build', '-trimpath', '-o', `${staging}/`];
    if (component.ldflags) args.push(`-ldflags=${component.ldflags}`);
    if (component.overlay) args.push(`-overlay=${await writeOverlay(component, staging, env)}`);
    const packages = Object.values(component.binaries);
    const command = `cd ${moduleDir} && go ${args.join(' ')} ${packages.join(' ')}`;
    const { code, output } = await runCommand('go', [...args, ...packages], { cwd: moduleDir, env });
    if (code !== 0) {
      throw new ComponentUnavailableError(
        component,
        `the build failed (exit ${code}).\nCommand: ${command}\nLast output:\n${lastLines(output, 25)}`,
        'Otherwise fix the Go toolchain or network access to the module proxy and run again.',
      );
    }
    // go build names a binary after its package folder; rename to the names the environment expects.
    for (const [bin, pkg] of Object.entries(component.binaries)) {
      const built = path.join(staging, path.basename(pkg.replace(/\/v\d+$/, '')));
      if (built !== path.join(staging, bin)) await fs.rename(built, path.join(staging, bin));
    }
    const manifest: Manifest = { component: component.name, version: component.version, sha256: {} };
    for (const bin of Object.keys(component.binaries))
      manifest.sha256[bin] = await sha256File(path.join(staging, bin));
    await fs.writeFile(path.join(staging, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    await publish(staging, entry);
    progress.step(`built ${component.name} in ${formatDuration(Date.now() - started)}`);
  } finally {
    clearInterval(heartbeat);
    await fs.rm(staging, { recursive: true, force: true });
  }
}

/** Removes the staging folders of builds whose process died (killed mid-build, machine restarted). */
async function removeAbandonedBuilds(entry: string): Promise<void> {
  const prefix = `${path.basename(entry)}.building-`;
  const parent = path.dirname(entry);
  for (const name of await fs.readdir(parent).catch(() => [])) {
    if (!name.startsWith(prefix)) continue;
    const pid = Number(name.slice(prefix.length).split('-')[0]);
    if (!processIsAlive(pid)) await fs.rm(path.join(parent, name), { recursive: true, force: true });
  }
}

function processIsAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return true; // not ours to judge
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** A concurrent run may have published the same entry first; either copy is equally good. */
async function publish(staging: string, entry: string): Promise<void> {
  try {
    await fs.rename(staging, entry);
  } catch (error) {
    if (!existsSync(path.join(entry, 'manifest.json'))) throw error;
  }
}

async function requireGo(component: Component): Promise<void> {
  // A missing `go` surfaces as a spawn error (ENOENT): code -1.
  const { code } = await runCommand('go', ['version']);
  if (code !== 0) {
    throw new ComponentUnavailableError(
      component,
      'Go is not installed (no `go` on PATH), so it cannot be built from its pinned modules.',
      'Or install Go 1.26 or newer.',
    );
  }
}

function goEnvironment(component: Component): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, GOFLAGS: '-mod=mod', CGO_ENABLED: '0' };
  if (component.noSumDb) env.GONOSUMDB = [process.env.GONOSUMDB, component.noSumDb].filter(Boolean).join(',');
  return env;
}

async function writeOverlay(component: Component, staging: string, env: NodeJS.ProcessEnv): Promise<string> {
  const moduleDir = path.join(componentsDir, component.module);
  const modulePath = Object.values(component.binaries)[0]!.split('/cmd/')[0]!;
  const { code, output } = await runCommand('go', ['list', '-m', '-f', '{{.Dir}}', modulePath], {
    cwd: moduleDir,
    env,
  });
  if (code !== 0) throw new ComponentUnavailableError(component, `cannot locate its module:\n${output}`, '');
  const sourceDir = output.trim().split('\n').at(-1)!;
  const replace = Object.fromEntries(
    Object.entries(component.overlay ?? {}).map(([target, file]) => [
      path.join(sourceDir, target),
      path.join(componentsDir, file),
    ]),
  );
  const overlayFile = path.join(staging, 'overlay.json');
  await fs.writeFile(overlayFile, JSON.stringify({ Replace: replace }));
  return overlayFile;
}
