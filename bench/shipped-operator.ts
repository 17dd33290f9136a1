// secretlink as config/default ships it, for benchmarks that count what it asks of the API server: its own
// ServiceAccount and RBAC (config/rbac), so the API server sees the operator's user and nothing else does
// requests as it; config/manager/statefulset.yaml's flags (leader election on, the signed audit file on);
// plus the benchmark's namespace and a free probe port. `main` is src/main.ts or a compiled dist/main.js.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { copyFile, mkdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import type { EnvironmentInfo } from '../test/env/environment.ts';
import { operatorNamespace } from '../test/env/install.ts';
import { installOperatorRbac, operatorKubeConfig, writeKubeConfig } from '../test/env/operator-identity.ts';
import { freePort } from '../test/env/ports.ts';
import { sleep, waitFor } from './wait.ts';

const exec = promisify(execFile);
const root = path.resolve(import.meta.dirname, '..');

export interface ShippedOperator {
  pid: number;
  waitReady(): Promise<void>;
  /** VmRSS of the process, bytes. */
  rss(): number;
  metrics(): Promise<string>;
  stop(): Promise<void>;
}

/** Applies config/rbac and writes a kubeconfig with a token of the operator's ServiceAccount into `dir`. */
export async function prepareOperatorIdentity(info: EnvironmentInfo, dir: string): Promise<string> {
  await installOperatorRbac(info);
  // Long enough for the longest run: the client does not renew a token read from a kubeconfig.
  const config = await operatorKubeConfig(info, { expirationSeconds: 6 * 3600 });
  const file = path.join(dir, 'operator.kubeconfig');
  await writeKubeConfig(config, file);
  return file;
}

/**
 * The Node.js flags the image gives the operator: those of the Dockerfile's ENTRYPOINT between `node` and
 * `dist/main.js`. Read from the Dockerfile, so a benchmark of the operator as shipped cannot drift from it.
 */
export function imageNodeFlags(): string[] {
  const dockerfile = readFileSync(path.join(root, 'Dockerfile'), 'utf8');
  const entrypoint = dockerfile.split('\n').find((line) => line.startsWith('ENTRYPOINT '));
  const argv = entrypoint ? (JSON.parse(entrypoint.slice('ENTRYPOINT '.length)) as string[]) : [];
  const main = argv.indexOf('dist/main.js');
  if (argv[0] !== 'node' || main < 0)
    throw new Error(`the Dockerfile's ENTRYPOINT is not node … dist/main.js`);
  return argv.slice(1, main);
}

/** Compiles src/ as the Dockerfile does (`npm run build`) into `dir`; returns its dist/main.js. */
export async function compileOperator(dir: string): Promise<string> {
  await exec(process.execPath, [
    path.join(root, 'scripts', 'build.ts'),
    `--outdir=${path.join(dir, 'dist')}`,
  ]);
  await symlink(path.join(root, 'node_modules'), path.join(dir, 'node_modules'));
  await copyFile(path.join(root, 'package.json'), path.join(dir, 'package.json'));
  const main = path.join(dir, 'dist', 'main.js');
  if (!existsSync(main)) throw new Error(`building produced no ${main}`);
  return main;
}

export async function startShippedOperator(options: {
  main: string;
  kubeconfig: string;
  namespace: string;
  /** Folder for its log, signing key and audit file. */
  dir: string;
  /**
   * Names the replica (`--identity`) and its folder under `dir`: started again with the same id, the operator
   * is the same replica restarted, as a StatefulSet's pod is, and continues its signing key and audit file.
   */
  id: string;
  nodeFlags?: string[];
}): Promise<ShippedOperator> {
  const dir = path.join(options.dir, options.id);
  await mkdir(path.join(dir, 'audit'), { recursive: true });
  const keyFile = path.join(dir, 'signing-key.pem');
  if (!existsSync(keyFile)) {
    const { privateKey } = generateKeyPairSync('ed25519');
    await writeFile(keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o400 });
  }
  const probePort = await freePort();
  const log = openSync(path.join(dir, 'operator.log'), 'a');
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !name.startsWith('SECRETLINK_')),
  );
  const child: ChildProcess = spawn(
    process.execPath,
    [
      ...(options.nodeFlags ?? imageNodeFlags()),
      options.main,
      // config/manager/statefulset.yaml's flags ...
      `--operator-namespace=${operatorNamespace}`,
      `--identity=bench-${options.id}`,
      `--audit-file=${path.join(dir, 'audit', 'audit.jsonl')}`,
      `--audit-signing-key-file=${keyFile}`,
      // ... and what a benchmark needs: its namespace only, a free probe port.
      `--namespaces=${options.namespace}`,
      `--probe-address=127.0.0.1:${probePort}`,
    ],
    { cwd: root, env: { ...env, KUBECONFIG: options.kubeconfig }, stdio: ['ignore', log, 'pipe'] },
  );
  closeSync(log);
  // An interrupted benchmark leaves no operator behind.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  let stderr = '';
  child.stderr?.on('data', (chunk) => {
    stderr = `${stderr}${chunk}`.slice(-4000);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const alive = () => child.exitCode === null && child.signalCode === null;
  const check = () => {
    if (!alive()) throw new Error(`the operator exited (${child.exitCode ?? child.signalCode}): ${stderr}`);
  };
  // A scrape can fail on a loaded machine (a kept-alive socket the server has just closed, an answer that never
  // comes while the event loop is busy): tried again a few times, bounded, while the process is alive.
  const metrics = async () => {
    for (let attempt = 1; ; attempt++) {
      check();
      try {
        const answer = await fetch(`http://127.0.0.1:${probePort}/metrics`, {
          signal: AbortSignal.timeout(60_000),
        });
        return await answer.text();
      } catch (error) {
        if (attempt >= 5) throw error;
        await sleep(1000);
      }
    }
  };
  return {
    pid: child.pid!,
    async waitReady() {
      await waitFor(
        'the operator to be ready',
        async () => {
          check();
          return (await fetch(`http://127.0.0.1:${probePort}/readyz`).catch(() => undefined))?.ok === true;
        },
        120_000,
        200,
      );
    },
    rss: () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1]) * 1024,
    metrics,
    async stop() {
      if (!alive()) return;
      child.kill('SIGTERM');
      await Promise.race([exited, sleep(25_000).then(() => child.kill('SIGKILL'))]);
      await exited;
      process.off('exit', killOnExit);
    },
  };
}

/** The sum of a metric's samples (every label set), 0 when absent. */
export function metricSum(text: string, name: string, labels = ''): number {
  return [...text.matchAll(new RegExp(`^${name}(\\{[^}]*\\})? (\\S+)$`, 'gm'))]
    .filter((match) => !labels || (match[1] ?? '').includes(labels))
    .reduce((sum, match) => sum + Number(match[2]), 0);
}
