// The operator's image, built from the project's Dockerfile as a user would, with buildah (no daemon; vfs
// storage, OCI runtime isolation) on the local Node.js base instead of the public one, and cached as an OCI
// archive under ~/.cache/secretlink/images by a fingerprint of everything that goes into it: the
// Dockerfile, the package manifests, the TypeScript configuration, src/ and the base. A build uses its own
// storage folder and removes it, so nothing of buildah's stays on the machine but the archive.
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { sha256File } from '../command.ts';
import { repoRoot } from '../components.ts';
import { unmountUnder } from '../node/leftovers.mjs';
import { writeOciArchive } from '../node/oci.ts';
import { cacheRoot } from '../paths.ts';
import { formatDuration, type Progress } from '../progress.ts';
import { nodeBaseFingerprint, nodeBaseInputs, nodeBaseLayers } from './node-base.ts';

export const operatorImage = 'localhost/secretlink/operator:e2e';
const basePath = 'PATH=/usr/local/bin:/usr/bin:/bin';
/** buildah keeps a blob cache here whatever its storage flags say; removed after the build if it is new. */
const buildahCache = '/var/lib/containers';

/** Files of the repository the image is made from (the rest is excluded by .dockerignore or unused). */
const imageSources = [
  'Dockerfile',
  '.dockerignore',
  'package.json',
  'package-lock.json',
  'scripts/build.ts',
  'scripts/ascii-source.ts',
];

/** The image as an OCI archive, from the cache or built now. */
export async function ensureOperatorImage(
  programs: { buildah: string; busybox: string },
  progress: Progress,
): Promise<string> {
  const inputs = await nodeBaseInputs(programs.busybox);
  const baseFingerprint = await nodeBaseFingerprint(inputs);
  const fingerprint = await imageFingerprint(baseFingerprint);
  const dir = path.join(cacheRoot(), 'images');
  const archive = path.join(dir, `operator-${fingerprint}.tar`);
  if (await archiveIsIntact(archive)) {
    progress.note(`operator image ${fingerprint} from the cache`);
    return archive;
  }
  await rm(archive, { force: true });

  const started = Date.now();
  progress.step(`building the operator image from the Dockerfile with buildah (a cold build takes minutes)`);
  const staging = path.join(dir, `build-${process.pid}-${randomBytes(4).toString('hex')}`);
  const cacheIsOurs = !existsSync(buildahCache);
  await mkdir(staging, { recursive: true });
  const heartbeat = setInterval(
    () => progress.note(`still building the operator image (${formatDuration(Date.now() - started)})`),
    30_000,
  );
  try {
    const baseName = `localhost/secretlink/node-base:${baseFingerprint.slice(0, 12)}`;
    const baseArchive = path.join(staging, 'node-base.tar');
    const layers = await nodeBaseLayers(inputs, path.join(staging, 'base'));
    await writeOciArchive(
      {
        name: baseName,
        layers,
        // The host's trust (its CA bundle is in the base), for `npm ci` behind a TLS-inspecting proxy.
        config: { Cmd: ['node'], Env: [basePath, 'NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt'] },
      },
      baseArchive,
    );
    const buildah = buildahIn(programs.buildah, staging);
    const baseId = (await buildah('pull', '--quiet', `oci-archive:${baseArchive}`))
      .trim()
      .split('\n')
      .at(-1)!;
    await buildah('tag', baseId, baseName);
    await buildah(
      'bud',
      '--isolation=oci',
      // RUN steps (npm ci) reach the npm registry through the host's network; no bridge is set up here.
      '--network=host',
      '--pull=never',
      `--build-arg=NODE_IMAGE=${baseName}`,
      `--tag=${operatorImage}`,
      `--file=${path.join(repoRoot, 'Dockerfile')}`,
      repoRoot,
    );
    const built = path.join(staging, 'operator.tar');
    await buildah('push', operatorImage, `oci-archive:${built}:${operatorImage}`);
    await writeFile(`${built}.sha256`, await sha256File(built));
    await rename(`${built}.sha256`, `${archive}.sha256`);
    await rename(built, archive);
    progress.step(`built the operator image in ${formatDuration(Date.now() - started)}`);
    await pruneOldArchives(dir);
    return archive;
  } finally {
    clearInterval(heartbeat);
    unmountUnder(staging);
    await rm(staging, { recursive: true, force: true });
    if (cacheIsOurs) await rm(buildahCache, { recursive: true, force: true });
  }
}

/** Each change to src/ makes a new archive (about 70 MB); the few newest stay for other checkouts. */
async function pruneOldArchives(dir: string, keep = 3): Promise<void> {
  const archives = [];
  for (const name of await readdir(dir)) {
    if (!/^operator-[0-9a-f]+\.tar$/.test(name)) continue;
    archives.push({ file: path.join(dir, name), modified: (await stat(path.join(dir, name))).mtimeMs });
  }
  archives.sort((a, b) => b.modified - a.modified);
  for (const { file } of archives.slice(keep)) {
    await rm(file, { force: true });
    await rm(`${file}.sha256`, { force: true });
  }
}

async function imageFingerprint(baseFingerprint: string): Promise<string> {
  const hash = createHash('sha256').update(baseFingerprint);
  const sources = [...imageSources];
  const src = await readdir(path.join(repoRoot, 'src'), { recursive: true, withFileTypes: true });
  for (const entry of src.filter((e) => e.isFile()))
    sources.push(path.relative(repoRoot, path.join(entry.parentPath, entry.name)));
  for (const file of sources.sort()) hash.update(file).update(await readFile(path.join(repoRoot, file)));
  return hash.digest('hex').slice(0, 12);
}

async function archiveIsIntact(archive: string): Promise<boolean> {
  if (!existsSync(archive)) return false;
  const recorded = await readFile(`${archive}.sha256`, 'utf8').catch(() => '');
  return recorded === (await sha256File(archive));
}

/** buildah with its storage, run state and temporary files inside `staging`. */
function buildahIn(buildah: string, staging: string) {
  const global = [
    `--root=${path.join(staging, 'storage')}`,
    `--runroot=${path.join(staging, 'run')}`,
    '--storage-driver=vfs',
  ];
  const tmp = path.join(staging, 'tmp');
  return async (...args: string[]): Promise<string> => {
    await mkdir(tmp, { recursive: true });
    return new Promise((resolve, reject) => {
      const child = spawn(buildah, [...global, ...args], {
        env: { ...process.env, TMPDIR: tmp, BUILDAH_ISOLATION: 'oci' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let output = '';
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk;
        output = (output + chunk).slice(-16_000);
      });
      child.stderr.on('data', (chunk: Buffer) => {
        output = (output + chunk).slice(-16_000);
      });
      child.on('error', reject);
      child.on('close', (code) => {
        if (code === 0) resolve(stdout);
        else
          reject(
            new Error(
              `buildah ${args[0]} failed (exit ${code}):\n${output.trimEnd().split('\n').slice(-30).join('\n')}`,
            ),
          );
      });
    });
  };
}
