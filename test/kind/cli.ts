// `make kind-e2e` (`node test/kind/cli.ts [--keep] [--name=<cluster>]`): the end-to-end suite, the same test
// files as on the real node, on a kind cluster made for the run. Needs Docker and kind (built with Go when
// missing); creates the cluster with the pinned node image, builds the operator's image from the Dockerfile,
// loads it and the Job image into the node, runs the suite, and deletes the cluster unless --keep is given.
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { repoRoot } from '../env/components.ts';
import { operatorImage } from '../env/image/operator-image.ts';
import { cacheRoot } from '../env/paths.ts';
import {
  defaultClusterName,
  dockerfileBaseImage,
  kindClusterConfig,
  kindNetwork,
  kindNodeImage,
  kindVersion,
  missingTools,
  networkGateway,
  suiteVariables,
} from './plan.ts';

const exec = promisify(execFile);
const keep = process.argv.includes('--keep');
const cluster =
  process.argv.find((arg) => arg.startsWith('--name='))?.slice('--name='.length) ?? defaultClusterName;

const kind = await findKind();
const dir = await mkdtemp(path.join(os.tmpdir(), 'secretlink-kind-'));
let created = false;
// Ctrl-C reaches the suite too; this process stays to delete the cluster once the suite has stopped.
process.on('SIGINT', () => undefined);
try {
  const existing = (await exec(kind, ['get', 'clusters'])).stdout.split('\n');
  if (existing.includes(cluster)) {
    throw new Error(
      `a kind cluster named ${cluster} exists already: delete it (kind delete cluster --name ${cluster}) ` +
        'or pass --name=<another>',
    );
  }
  const config = path.join(dir, 'kind.yaml');
  const kubeconfig = path.join(dir, 'kubeconfig');
  await writeFile(config, kindClusterConfig());
  step(`creating kind cluster ${cluster} (${kindNodeImage})`);
  created = true;
  await run(kind, [
    'create',
    'cluster',
    '--name',
    cluster,
    '--image',
    kindNodeImage,
    '--config',
    config,
    '--kubeconfig',
    kubeconfig,
    '--wait',
    '120s',
  ]);

  const jobImage = dockerfileBaseImage(await readFile(path.join(repoRoot, 'Dockerfile'), 'utf8'));
  step(`building ${operatorImage} from the Dockerfile (on ${jobImage}, which Job pods run too)`);
  await run('docker', ['pull', jobImage]);
  await run('docker', ['build', '--tag', operatorImage, repoRoot]);
  await run(kind, ['load', 'docker-image', '--name', cluster, operatorImage, jobImage]);

  const { stdout } = await exec('docker', [
    'network',
    'inspect',
    kindNetwork,
    '--format',
    '{{json .IPAM.Config}}',
  ]);
  const storeAddress = networkGateway(stdout);
  step(
    `running the end-to-end suite on ${cluster}; moto listens on ${storeAddress}, the kind network's gateway`,
  );
  const variables = suiteVariables({ kubeconfig, cluster, kind, storeAddress, jobImage });
  process.exitCode = await run(
    path.join(repoRoot, 'node_modules', '.bin', 'vitest'),
    ['run', '--project', 'e2e'],
    variables,
    false,
  );
} catch (error) {
  console.error(`[kind-e2e] ${(error as Error).message}`);
  process.exitCode = 1;
} finally {
  if (created && keep) {
    step(
      `kept cluster ${cluster}: KUBECONFIG=${path.join(dir, 'kubeconfig')}; ` +
        `kind delete cluster --name ${cluster} removes it`,
    );
  } else {
    if (created) await run(kind, ['delete', 'cluster', '--name', cluster]).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  }
}

/** kind from PATH, else the pinned release built once with Go into the cache; or what is missing, at once. */
async function findKind(): Promise<string> {
  const cached = path.join(cacheRoot(), 'bin', `kind-${kindVersion}`, 'kind');
  const onPath = await works('kind', ['version']);
  const found = {
    docker: await works('docker', ['--version']),
    dockerDaemon: await works('docker', ['info']),
    kind: onPath || existsSync(cached),
    go: await works('go', ['version']),
  };
  const problem = missingTools(found);
  if (problem) {
    console.error(problem);
    process.exit(1);
  }
  if (onPath) return 'kind';
  if (!existsSync(cached)) {
    step(`building kind ${kindVersion} with Go into ${path.dirname(cached)} (first run only)`);
    await run('go', ['install', `sigs.k8s.io/kind@${kindVersion}`], { GOBIN: path.dirname(cached) });
  }
  return cached;
}

async function works(command: string, args: string[]): Promise<boolean> {
  return exec(command, args).then(
    () => true,
    () => false,
  );
}

/** Runs a command with the terminal; rejects when it fails, unless asked for its exit code instead. */
function run(
  command: string,
  args: string[],
  env: Record<string, string> = {},
  rejectOnFailure = true,
): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: 'inherit', cwd: repoRoot, env: { ...process.env, ...env } });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0 || !rejectOnFailure) resolve(code ?? 1);
      else reject(new Error(`${command} ${args.join(' ')} failed (exit ${code})`));
    });
  });
}

function step(line: string): void {
  console.log(`[kind-e2e] ${line}`);
}
