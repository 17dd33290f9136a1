// secretlink against the limit: the same burst of Jobs, on the same environment, served in alternating runs
// by secretlink (as shipped: config/default's flags, audit file on) and by a minimal watcher
// (bench/limit-watcher.ts) that writes each Job's Secret the moment it sees the Job. Per Job: from the
// create being acknowledged to a Secret listing that Job among its owners; per Secret: from the last consuming
// Job's completion to the Secret's deletion. Both processes run with an event-loop delay recorder preloaded
// (bench/loop-delay.ts); with --profile, one more secretlink run is made under `--cpu-prof` and summarized.
// Usage: node bench/limit.ts [--jobs=500] [--references=100] [--rounds=2] [--run-time=75] [--profile]
//                            [--flags='--kube-qps=0'] [--limit-after-start] [--keep] [--write=docs/benchmarks.md]

import { spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { CreateSecretCommand } from '@aws-sdk/client-secrets-manager';
import * as k8s from '@kubernetes/client-node';
import { group, plurals, version } from '../src/api/constants.ts';
import { loadConfig } from '../src/config.ts';
import { isJobActive } from '../src/controller/consumers.ts';
import { type EnvironmentInfo, startEnvironment } from '../test/env/environment.ts';
import { installCrds, operatorNamespace } from '../test/env/install.ts';
import { freePort } from '../test/env/ports.ts';
import { consoleProgress } from '../test/env/progress.ts';
import { motoClient } from '../test/env/stores/clients.ts';
import { createAwsStore } from './aws-store.ts';
import { summarizeProfile } from './cpu-profile.ts';
import {
  argument,
  describeMachine,
  formatMs,
  machineNow,
  markdown,
  numberArgument,
  percentile,
  waitForQuietMachine,
  writeSection,
} from './report.ts';
import { imageNodeFlags } from './shipped-operator.ts';
import { sleep, waitFor } from './wait.ts';
import { watchFrom } from './watch-from.ts';

const jobCount = numberArgument('jobs', 500);
const referenceCount = numberArgument('references', 100);
const rounds = numberArgument('rounds', 2);
/** Seconds each Job's pod runs (kwok): longer than the slowest burst, so every Job is granted while active. */
const runTimeSeconds = numberArgument('run-time', 75);
const profile = process.argv.includes('--profile');
/** Flags added to secretlink's, to see what a setting changes (the section then says it was not as shipped). */
const extraFlags = argument('flags', '').split(' ').filter(Boolean);
const reportFile = argument('write', '');
/** The minimal watcher grants only Jobs whose start the Job controller recorded, as secretlink does. */
const limitAfterStart = process.argv.includes('--limit-after-start');
/** Keeps the runs' folders (audit files, loop delays, profiles) in the temporary directory, to read after. */
const keep = process.argv.includes('--keep');
const progress = consoleProgress('[bench]');
const root = path.resolve(import.meta.dirname, '..');
/** The operator's defaults, as this checkout ships them. */
const defaults = loadConfig([], {});

type Contender = 'secretlink' | 'limit';

interface LoopDelay {
  count: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

interface Run {
  contender: Contender;
  label: string;
  load: number;
  /** Per Job, ascending: create acknowledged → first Secret listing the Job as owner. */
  grant: number[];
  /**
   * Per Job, ascending: create acknowledged → first watch event with the Job controller's `status.startTime`.
   * Not a contender's work: how soon the cluster itself says the Job started.
   */
  started: number[];
  /** Per Secret, ascending: last consuming Job seen finished → Secret deleted. */
  revoke: number[];
  creatingMs: number;
  burstMs: number;
  /** Secret watch events (added, modified) and SecretReference updates, during the burst. */
  secretWrites: number;
  referenceWrites: number;
  storeCalls?: number;
  /** Event-loop delay of the contender's process: idle, burst, revocation phase. */
  loop: (LoopDelay | undefined)[];
  profileSummary?: string;
  burstProfileSummary?: string;
}

const machine = machineNow();
await waitForQuietMachine(progress.note);
const started = machineNow();
const scratch = await mkdtemp(path.join(os.tmpdir(), 'secretlink-limit-'));
const runs: Run[] = [];
const environment = await startEnvironment(progress);
try {
  const { info } = environment;
  const kubeConfig = new k8s.KubeConfig();
  kubeConfig.loadFromFile(info.kubeconfig);
  await setUpShared(info, kubeConfig);
  const plan: { contender: Contender; profiled: boolean }[] = [];
  for (let round = 0; round < rounds; round++)
    plan.push({ contender: 'secretlink', profiled: false }, { contender: 'limit', profiled: false });
  if (profile) plan.push({ contender: 'secretlink', profiled: true });
  for (const [index, step] of plan.entries()) {
    const label = `${step.contender}-${index + 1}${step.profiled ? '-profiled' : ''}`;
    progress.step(`run ${index + 1}/${plan.length}: ${label}`);
    const run = await measure(info, kubeConfig, step.contender, `run-${index + 1}`, label, step.profiled);
    runs.push(run);
    progress.note(
      `${label}: grant median ${formatMs(percentile(run.grant, 0.5))} p99 ${formatMs(percentile(run.grant, 0.99))}; ` +
        `revoke median ${formatMs(percentile(run.revoke, 0.5))} p99 ${formatMs(percentile(run.revoke, 0.99))}; ` +
        `Job start seen median ${formatMs(percentile(run.started, 0.5))} p99 ${formatMs(percentile(run.started, 0.99))}; ` +
        `loop delay p99 in the burst ${run.loop[1]?.p99 ?? '?'} ms`,
    );
  }
} finally {
  await environment.stop();
  if (keep) progress.note(`kept the runs' folders in ${scratch}`);
  else await rm(scratch, { recursive: true, force: true });
}

const text = sectionText();
console.log(text);
if (reportFile) {
  await writeSection(reportFile, 'limit', text);
  progress.step(`wrote the limit section of ${reportFile}`);
}

/** The operator's namespace, the remote secrets (shared by every run: no run reads another's objects). */
async function setUpShared(info: EnvironmentInfo, kubeConfig: k8s.KubeConfig): Promise<void> {
  await installCrds(info);
  await kubeConfig
    .makeApiClient(k8s.CoreV1Api)
    .createNamespace({ body: { metadata: { name: operatorNamespace } } });
  const sm = motoClient(info.stores.aws);
  progress.step(`creating ${referenceCount} remote secrets`);
  for (let index = 0; index < referenceCount; index++)
    await sm.send(
      new CreateSecretCommand({
        Name: `bench/remote-${index}`,
        SecretString: JSON.stringify({ password: `p${index}` }),
      }),
    );
  sm.destroy();
}

/** A namespace of the run's own: a SecretStore on moto and the SecretReferences (for both contenders alike). */
async function setUpNamespace(info: EnvironmentInfo, kubeConfig: k8s.KubeConfig, namespace: string) {
  const core = kubeConfig.makeApiClient(k8s.CoreV1Api);
  const custom = kubeConfig.makeApiClient(k8s.CustomObjectsApi);
  await core.createNamespace({ body: { metadata: { name: namespace } } });
  await waitFor(
    'the default ServiceAccount of the namespace',
    async () =>
      core
        .readNamespacedServiceAccount({ namespace, name: 'default' })
        .then(() => true)
        .catch(() => false),
    120_000,
  );
  await createAwsStore(info, core, custom, namespace);
  for (let index = 0; index < referenceCount; index++)
    await custom.createNamespacedCustomObject({
      group,
      version,
      plural: plurals.secretReference,
      namespace,
      body: {
        apiVersion: `${group}/${version}`,
        kind: 'SecretReference',
        metadata: { name: `ref-${index}` },
        spec: {
          storeRef: { name: 'aws' },
          data: [{ key: 'password', remote: { name: `bench/remote-${index}`, property: 'password' } }],
          consumers: { matchLabels: { app: 'bench' } },
        },
      },
    });
}

async function measure(
  info: EnvironmentInfo,
  kubeConfig: k8s.KubeConfig,
  contender: Contender,
  namespace: string,
  label: string,
  profiled: boolean,
): Promise<Run> {
  const load = os.loadavg()[0] ?? 0;
  await setUpNamespace(info, kubeConfig, namespace);
  const dir = path.join(scratch, label);
  await mkdir(path.join(dir, 'audit'), { recursive: true });
  await mkdir(path.join(dir, 'key'), { recursive: true });
  await mkdir(path.join(dir, 'profile'), { recursive: true });
  const loopFile = path.join(dir, 'loop-delay.jsonl');
  const probePort = await freePort();
  const env = {
    ...Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('SECRETLINK_'))),
    KUBECONFIG: info.kubeconfig,
    BENCH_LOOP_DELAY_FILE: loopFile,
    ...(profiled ? { BENCH_BURST_PROFILE: path.join(dir, 'burst.cpuprofile') } : {}),
  };
  const preload = ['--import', path.join(root, 'bench', 'loop-delay.ts')];
  let args: string[];
  if (contender === 'secretlink') {
    const keyFile = path.join(dir, 'key', 'private.pem');
    const { privateKey } = generateKeyPairSync('ed25519');
    await writeFile(keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o400 });
    args = [
      ...(profiled ? ['--cpu-prof', `--cpu-prof-dir=${path.join(dir, 'profile')}`] : []),
      ...preload,
      ...imageNodeFlags(),
      path.join(root, 'src', 'main.ts'),
      // config/manager/statefulset.yaml's flags (leader election on, audit file signed) ...
      `--operator-namespace=${operatorNamespace}`,
      `--identity=${label}`,
      `--audit-file=${path.join(dir, 'audit', 'audit.jsonl')}`,
      `--audit-signing-key-file=${keyFile}`,
      // ... and what a benchmark needs: its namespace only, a free probe port, a Lease of the run's own.
      `--namespaces=${namespace}`,
      `--probe-address=127.0.0.1:${probePort}`,
      `--lease-name=secretlink-${namespace}`,
      ...extraFlags,
    ];
  } else {
    args = [
      ...preload,
      path.join(root, 'bench', 'limit-watcher.ts'),
      `--namespace=${namespace}`,
      ...(limitAfterStart ? ['--after-start'] : []),
    ];
  }
  const child = spawn(process.execPath, args, { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => {
    stdout = `${stdout}${chunk}`.slice(-20_000);
  });
  child.stderr.on('data', (chunk) => {
    stderr = `${stderr}${chunk}`.slice(-4000);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const check = () => {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(`${label} exited (${child.exitCode ?? child.signalCode}): ${stderr}`);
  };
  const custom = kubeConfig.makeApiClient(k8s.CustomObjectsApi);
  const metrics = async () =>
    contender === 'secretlink' ? (await fetch(`http://127.0.0.1:${probePort}/metrics`)).text() : '';
  try {
    if (contender === 'secretlink') {
      await waitFor(
        `all ${referenceCount} references to report NoConsumers`,
        async () => {
          check();
          const list = (await custom.listNamespacedCustomObject({
            group,
            version,
            plural: plurals.secretReference,
            namespace,
          })) as { items: { status?: { conditions?: { type: string; reason: string }[] } }[] };
          return (
            list.items.filter((item) =>
              item.status?.conditions?.some((c) => c.type === 'Ready' && c.reason === 'NoConsumers'),
            ).length === referenceCount
          );
        },
        120_000,
      );
    } else {
      await waitFor(
        'the minimal watcher to watch',
        async () => {
          check();
          return stdout.includes('ready');
        },
        120_000,
      );
    }
    await sleep(3000);
    const before = await metrics();
    child.kill('SIGUSR2');

    const granted = new Map<string, number>();
    const deleted = new Map<string, number>();
    /** Every deletion of a Secret, in order: one made while a Job it was granted to still runs is a revocation too early. */
    const deletions: { secret: string; at: number }[] = [];
    const finished = new Map<string, number>();
    const startSeen = new Map<string, number>();
    let secretWrites = 0;
    let referenceWrites = 0;
    let counting = true;
    let watchError: unknown;
    const failed = (error: unknown) => {
      watchError ??= error;
    };
    const core = kubeConfig.makeApiClient(k8s.CoreV1Api);
    const batch = kubeConfig.makeApiClient(k8s.BatchV1Api);
    const secretWatch = await watchFrom(
      kubeConfig,
      `/api/v1/namespaces/${namespace}/secrets`,
      {},
      (await core.listNamespacedSecret({ namespace })).metadata!.resourceVersion!,
      (type, secret: k8s.V1Secret) => {
        const now = performance.now();
        const name = secret.metadata?.name ?? '';
        if (!name.startsWith('ref-')) return;
        if (type === 'DELETED') {
          deleted.set(name, now);
          deletions.push({ secret: name, at: now });
          return;
        }
        if (counting) secretWrites++;
        for (const owner of secret.metadata?.ownerReferences ?? [])
          if (owner.kind === 'Job' && !granted.has(owner.name)) granted.set(owner.name, now);
      },
      failed,
    );
    const jobWatch = await watchFrom(
      kubeConfig,
      `/apis/batch/v1/namespaces/${namespace}/jobs`,
      {},
      (await batch.listNamespacedJob({ namespace })).metadata!.resourceVersion!,
      (type, job: k8s.V1Job) => {
        const name = job.metadata?.name ?? '';
        if (type !== 'DELETED' && job.status?.startTime && !startSeen.has(name))
          startSeen.set(name, performance.now());
        if (type !== 'DELETED' && !isJobActive(job) && !finished.has(name))
          finished.set(name, performance.now());
      },
      failed,
    );
    const referenceList = (await custom.listNamespacedCustomObject({
      group,
      version,
      plural: plurals.secretReference,
      namespace,
    })) as { metadata: { resourceVersion: string } };
    const referenceWatch = await watchFrom(
      kubeConfig,
      `/apis/${group}/${version}/namespaces/${namespace}/${plurals.secretReference}`,
      {},
      referenceList.metadata.resourceVersion,
      (type) => {
        if (type === 'MODIFIED' && counting) referenceWrites++;
      },
      failed,
    );

    const acknowledged = new Map<string, number>();
    const burstStarted = performance.now();
    await Promise.all(
      Array.from({ length: jobCount }, async (_, index) => {
        const name = `job-${index}`;
        await retried(() =>
          batch
            .createNamespacedJob({ namespace, body: jobBody(name, `ref-${index % referenceCount}`) })
            .catch((error) => {
              // A create whose answer was lost on a closed connection and then retried finds its Job there.
              if (error instanceof k8s.ApiException && error.code === 409) return undefined;
              throw error;
            }),
        );
        acknowledged.set(name, performance.now());
      }),
    );
    const creatingMs = performance.now() - burstStarted;
    await waitFor(
      `all ${jobCount} Jobs to be owners of their Secret`,
      async () => {
        check();
        if (watchError) throw new Error(`a watch failed: ${String(watchError)}`);
        if ([...finished.keys()].some((job) => !granted.has(job)))
          throw new Error('a Job finished before it was granted: raise --run-time');
        return granted.size >= jobCount;
      },
      300_000,
      20,
    );
    const burstMs = Math.max(...granted.values()) - burstStarted;
    counting = false;
    child.kill('SIGUSR2');
    const during = await metrics();
    progress.note(`${label}: all granted after ${formatMs(burstMs)}; waiting for the Jobs to finish`);
    await waitFor(
      `all ${referenceCount} Secrets to be deleted after their Jobs finished`,
      async () => {
        check();
        if (watchError) throw new Error(`a watch failed: ${String(watchError)}`);
        return deleted.size >= referenceCount;
      },
      (runTimeSeconds + 300) * 1000,
      50,
    );
    child.kill('SIGUSR2');
    // The Job watch is a stream of its own: its last completions may arrive after the deletions they caused.
    await waitFor(
      `all ${jobCount} Jobs to be seen finished`,
      async () => {
        if (watchError) throw new Error(`a watch failed: ${String(watchError)}`);
        return finished.size >= jobCount;
      },
      30_000,
      50,
    ).catch(() => undefined);
    // Jobs the watch never showed finished are read live: finished means the watch fell behind (they are left
    // out of the revocation figures); still active means their Secret was revoked too early.
    const unseen = Array.from({ length: jobCount }, (_, job) => `job-${job}`).filter(
      (job) => !finished.has(job),
    );
    let stillActive = 0;
    for (const job of unseen)
      if (isJobActive(await batch.readNamespacedJob({ namespace, name: job }))) stillActive++;
    if (unseen.length > 0)
      progress.note(
        `${label}: ${unseen.length} Jobs never seen finished by the watch; read live, ${stillActive} still active`,
      );
    if (stillActive > 0)
      throw new Error(`${label}: ${stillActive} Jobs are active but their Secret was deleted`);
    // A Secret deleted and written again later hides from the check above: each deletion is compared with the
    // Jobs granted that Secret before it, which must all have been seen finished by then (5 s allowed for the
    // Job watch, a stream of its own, to lag the Secret watch).
    const early = earlyRevocations(deletions, granted, finished);
    if (early.length > 0)
      throw new Error(
        `${label}: ${early.length} Secret deletions while a Job granted it still ran (first: ${early[0]})`,
      );
    secretWatch.stop();
    jobWatch.stop();
    referenceWatch.stop();
    await sleep(200);

    const grant = [...acknowledged].map(([job, at]) => granted.get(job)! - at).sort((a, b) => a - b);
    const jobStarted = [...acknowledged]
      .filter(([job]) => startSeen.has(job))
      .map(([job, at]) => startSeen.get(job)! - at)
      .sort((a, b) => a - b);
    const revoke = Array.from({ length: referenceCount }, (_, index) => {
      const jobs = Array.from({ length: jobCount }, (_, job) => job).filter(
        (job) => job % referenceCount === index,
      );
      const last = Math.max(...jobs.map((job) => finished.get(`job-${job}`) ?? Number.NaN));
      return deleted.get(`ref-${index}`)! - last;
    })
      .filter((value) => !Number.isNaN(value))
      .sort((a, b) => a - b);
    const calls = (text: string) =>
      [...text.matchAll(/^secretlink_provider_calls_total(?:\{[^}]*\})? (\S+)$/gm)].reduce(
        (sum, match) => sum + Number(match[1]),
        0,
      );
    child.kill('SIGTERM');
    await Promise.race([exited, sleep(30_000).then(() => child.kill('SIGKILL'))]);
    await sleep(500);
    const loop = existsSync(loopFile)
      ? readFileSync(loopFile, 'utf8')
          .trim()
          .split('\n')
          .map((line) => JSON.parse(line) as LoopDelay)
      : [];
    let profileSummary: string | undefined;
    let burstProfileSummary: string | undefined;
    if (profiled && existsSync(path.join(dir, 'burst.cpuprofile')))
      burstProfileSummary = summarizeProfile(readFileSync(path.join(dir, 'burst.cpuprofile'), 'utf8'), root);
    if (profiled) {
      const files = readdirSync(path.join(dir, 'profile')).filter((file) => file.endsWith('.cpuprofile'));
      if (files[0])
        profileSummary = summarizeProfile(readFileSync(path.join(dir, 'profile', files[0]), 'utf8'), root);
      else progress.note(`${label}: no CPU profile was written`);
    }
    return {
      contender,
      label,
      load,
      grant,
      started: jobStarted,
      revoke,
      creatingMs,
      burstMs,
      secretWrites,
      referenceWrites,
      storeCalls: contender === 'secretlink' ? calls(during) - calls(before) : undefined,
      loop,
      profileSummary,
      burstProfileSummary,
    };
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  }
}

/** Deletions of a Secret made while a Job granted it before had not finished (nor was seen finishing within 5 s). */
function earlyRevocations(
  deletions: { secret: string; at: number }[],
  granted: Map<string, number>,
  finished: Map<string, number>,
): string[] {
  const found: string[] = [];
  for (const { secret, at } of deletions) {
    const index = Number(secret.slice('ref-'.length));
    for (let job = index; job < jobCount; job += referenceCount) {
      const name = `job-${job}`;
      const grantedAt = granted.get(name);
      const finishedAt = finished.get(name) ?? Number.POSITIVE_INFINITY;
      if (grantedAt !== undefined && grantedAt < at && finishedAt > at + 5000)
        found.push(
          Number.isFinite(finishedAt)
            ? `${secret} deleted ${formatMs(finishedAt - at)} before ${name} finished`
            : `${secret} deleted while ${name} still ran`,
        );
    }
  }
  return found;
}

function jobBody(name: string, secretName: string): k8s.V1Job {
  return {
    metadata: { name },
    spec: {
      backoffLimit: 0,
      template: {
        metadata: {
          labels: { app: 'bench' },
          annotations: { 'secretlink.dev/simulated-run-time': `${runTimeSeconds}s` },
        },
        spec: {
          restartPolicy: 'Never',
          containers: [{ name: 'main', image: 'busybox', envFrom: [{ secretRef: { name: secretName } }] }],
        },
      },
    },
  };
}

function sectionText(): string {
  const measured = runs.filter((run) => !run.label.endsWith('-profiled'));
  const pooled = (contender: Contender, field: 'grant' | 'revoke') =>
    measured
      .filter((run) => run.contender === contender)
      .flatMap((run) => run[field])
      .sort((a, b) => a - b);
  const ms = (values: number[], fraction: number) => formatMs(percentile(values, fraction));
  const ratio = (field: 'grant' | 'revoke', fraction: number) =>
    (
      percentile(pooled('secretlink', field), fraction) / percentile(pooled('limit', field), fraction)
    ).toFixed(2);
  const verdict = (field: 'grant' | 'revoke', fraction: number) =>
    Number(ratio(field, fraction)) <= 1.5 ? 'met' : 'missed';
  const summary = [
    '| pooled over the rounds | secretlink | minimal watcher | ratio | target ≤ 1.5× |',
    '| --- | ---: | ---: | ---: | --- |',
    ...(['grant', 'revoke'] as const).flatMap((field) =>
      [0.5, 0.99].map(
        (fraction) =>
          `| ${field === 'grant' ? 'Job created → Secret lists it as owner' : 'last Job finished → Secret deleted'}, ` +
          `${fraction === 0.5 ? 'median' : 'p99'} | ${ms(pooled('secretlink', field), fraction)} | ` +
          `${ms(pooled('limit', field), fraction)} | **${ratio(field, fraction)}×** | ${verdict(field, fraction)} |`,
      ),
    ),
  ].join('\n');
  const row = (name: string, cell: (run: Run) => string) => `| ${name} | ${runs.map(cell).join(' | ')} |`;
  const loop = (run: Run, phase: number) => {
    const value = run.loop[phase];
    return value ? `${value.p50} / ${value.p99} / ${value.max} ms` : '–';
  };
  const detail = [
    `| run (in order) | ${runs.map((run) => run.label).join(' | ')} |`,
    `| --- | ${runs.map(() => '---:').join(' | ')} |`,
    row('grant: median / p99 / max', (r) => `${ms(r.grant, 0.5)} / ${ms(r.grant, 0.99)} / ${ms(r.grant, 1)}`),
    row(
      'Job created → its start (`status.startTime`) seen: median / p99',
      (r) => `${ms(r.started, 0.5)} / ${ms(r.started, 0.99)}`,
    ),
    row(
      'revocation: median / p99 / max',
      (r) => `${ms(r.revoke, 0.5)} / ${ms(r.revoke, 0.99)} / ${ms(r.revoke, 1)}`,
    ),
    row(`creating the ${jobCount} Jobs`, (r) => formatMs(r.creatingMs)),
    row('whole burst (first create sent → last Job granted)', (r) => formatMs(r.burstMs)),
    row('Secret writes seen during the burst', (r) => String(r.secretWrites)),
    row('SecretReference writes seen during the burst', (r) => String(r.referenceWrites)),
    row('store calls during the burst', (r) => (r.storeCalls === undefined ? '–' : String(r.storeCalls))),
    row('event-loop delay p50 / p99 / max, idle', (r) => loop(r, 0)),
    row('event-loop delay p50 / p99 / max, burst', (r) => loop(r, 1)),
    row('event-loop delay p50 / p99 / max, revocations', (r) => loop(r, 2)),
    row('1-minute load average when the run started', (r) => r.load.toFixed(2)),
  ].join('\n');
  const profiled = runs.find((run) => run.profileSummary);
  return markdown([
    '## Limit: secretlink against a minimal watcher, same burst, same environment',
    `What: one environment (control plane, kwok, moto); each run gets a namespace of its own with an AWS ` +
      `SecretStore on moto and ${referenceCount} SecretReferences, then ${jobCount} Jobs are created at once, Job _i_ ` +
      `consuming reference _i_ mod ${referenceCount} through \`envFrom\`; kwok runs each Job's pod for ${runTimeSeconds} s, ` +
      'after which the Jobs complete. Runs alternate between secretlink and the minimal watcher ' +
      `(${rounds} rounds), each served by a fresh process.`,
    [
      `secretlink runs as shipped: \`node ${imageNodeFlags()
        .map((flag) => `${flag} `)
        .join('')}src/main.ts\` (the ` +
        "image's Node.js flags) with config/manager/statefulset.yaml's flags (leader " +
        'election on, the signed audit file on, every other flag at its default: ' +
        `\`--concurrency=${defaults.concurrency}\`, \`--kube-qps=${defaults.kubeQps}\`${defaults.kubeQps === 0 ? ' (no client-side pacing)' : `, \`--kube-burst=${defaults.kubeBurst}\``}), ` +
        "plus the run's namespace, a probe port and a Lease of its own" +
        (extraFlags.length > 0
          ? `, and, NOT as shipped, \`${extraFlags.join(' ')}\`. It uses `
          : '. It uses ') +
        'the admin kubeconfig rather than its RBAC-limited ServiceAccount.',
      'The minimal watcher (bench/limit-watcher.ts) is the limit: the same client library, no store call, no ' +
        'status, no client-side rate limit, every request at once. It lists and watches the Jobs and, for each ' +
        `active Job it sees${limitAfterStart ? " (here, with `--limit-after-start`, only once the Job controller has recorded the Job's `status.startTime`, secretlink's contract)" : ' (created, whether or not the Job controller has recorded its start yet)'}, ` +
        'sends one server-side apply of the Secret the Job refers to, with that Job as owner ' +
        "and a field manager of the Job's own (so concurrent applies merge their ownerReferences); when the " +
        'last Job it saw for a Secret finishes, it deletes the Secret.',
      '**Grant latency** per Job: from the API server acknowledging its create to the first watch event of a ' +
        'Secret listing it in `ownerReferences`. **Revocation latency** per Secret: from the first watch event ' +
        'showing the last of its Jobs finished (Complete, SuccessCriteriaMet, Failed or FailureTarget) to ' +
        "the Secret's deletion event. **Job start seen** per Job: from the same acknowledgement to the first watch " +
        "event of the Job carrying the Job controller's `status.startTime`: the earliest a grant can come under " +
        "secretlink's contract (a Job consumes once it started), whoever serves it. Percentiles are nearest-rank, " +
        'pooled over the rounds for the ratios.',
      'The event-loop delay is `perf_hooks.monitorEventLoopDelay` (10 ms resolution) in the measured process, ' +
        'preloaded by the benchmark (bench/loop-delay.ts), per phase: idle (3 s before the burst), burst (to ' +
        'the last grant), revocations (to the last deletion).',
    ],
    `How: \`node bench/limit.ts --write=docs/benchmarks.md\` (options \`--jobs\`, \`--references\`, \`--rounds\`, ` +
      "`--run-time` seconds, `--profile` for one more, profiled, secretlink run, `--flags='...'` to add secretlink flags, " +
      "`--limit-after-start` for a watcher that waits for each Job's recorded start as secretlink does, `--keep`, `--quiet-load`).",
    `${describeMachine(started)} The machine was ${started.load[0] >= 1.5 ? 'not quiet: other work was running on it during the whole run, so absolute times are inflated and noisy; the ratios come from runs alternated in the same environment' : 'quiet'} (load average when the benchmark was started: ${machine.load.map((v) => v.toFixed(2)).join(' / ')}).`,
    summary,
    detail,
    ...(profiled?.burstProfileSummary
      ? [
          `CPU profile of secretlink during the burst alone (run ${profiled.label}, from the first create to the ` +
            'last grant, recorded through node:inspector by bench/loop-delay.ts), self time:',
          ...profiled.burstProfileSummary.split('\n\n'),
        ]
      : []),
    ...(profiled?.profileSummary
      ? [
          `CPU profile of secretlink over its whole life (\`--cpu-prof\`, run ${profiled.label}: start, sync, ` +
            'burst, revocations, stop), self time:',
          ...profiled.profileSummary.split('\n\n'),
        ]
      : []),
  ]);
}

/**
 * Retries a request that failed without an answer from the API server (a connection it closed under load);
 * its answers, errors included, are passed on.
 */
export async function retried<T>(call: () => Promise<T>, attempts = 5): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      if (error instanceof k8s.ApiException || attempt >= attempts) throw error;
      await sleep(100 * attempt);
    }
  }
}
