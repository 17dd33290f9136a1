// Job-created to Secret-present latency for a burst of Jobs over many SecretReferences, and the operator's
// memory, measured with the real operator process against the local control plane and moto. Each variant
// (how the operator is run, which flags) gets a fresh environment, so no run inherits another's objects.
// Usage: node bench/controller.ts [--jobs=200] [--references=50] [--variants=src,dist,fast] [--settle=45]
//                                 [--write=docs/benchmarks.md]

import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { CreateSecretCommand } from '@aws-sdk/client-secrets-manager';
import * as k8s from '@kubernetes/client-node';
import { group, plurals, version } from '../src/api/constants.ts';
import { type EnvironmentInfo, startEnvironment } from '../test/env/environment.ts';
import { installCrds, operatorNamespace } from '../test/env/install.ts';
import { freePort } from '../test/env/ports.ts';
import { consoleProgress } from '../test/env/progress.ts';
import { motoClient } from '../test/env/stores/clients.ts';
import { createAwsStore } from './aws-store.ts';
import {
  argument,
  describeMachine,
  formatMiB,
  formatMs,
  type Machine,
  machineNow,
  markdown,
  numberArgument,
  percentile,
  waitForQuietMachine,
  writeSection,
} from './report.ts';
import { compileOperator } from './shipped-operator.ts';
import { sleep, waitFor } from './wait.ts';
import { watchFrom } from './watch-from.ts';

const jobCount = numberArgument('jobs', 200);
const referenceCount = numberArgument('references', 50);
const reportFile = argument('write', '');
/** Seconds to keep watching memory after the last Job was served. */
const settleSeconds = numberArgument('settle', 45);
const namespace = 'bench';
const progress = consoleProgress('[bench]');
const root = path.resolve(import.meta.dirname, '..');

interface Variant {
  id: string;
  title: string;
  /** src: `node src/main.ts` (type stripping); dist: compiled JavaScript, started as the image starts it. */
  entry: 'src' | 'dist';
  flags: string[];
}

const allVariants: Variant[] = [
  { id: 'src', title: '`node src/main.ts`, default flags', entry: 'src', flags: [] },
  {
    id: 'dist',
    title: '`node dist/main.js` (compiled, as the image runs it), default flags',
    entry: 'dist',
    flags: [],
  },
  {
    id: 'fast',
    title: '`node src/main.ts --concurrency=8 --kube-qps=100 --kube-burst=200`',
    entry: 'src',
    flags: ['--concurrency=8', '--kube-qps=100', '--kube-burst=200'],
  },
];
const wanted = argument('variants', allVariants.map((variant) => variant.id).join(',')).split(',');
const variants = allVariants.filter((variant) => wanted.includes(variant.id));
if (variants.length !== wanted.length) throw new Error(`--variants takes a list of: src, dist, fast`);

interface Result {
  variant: Variant;
  machine: Machine;
  /** Per Job: from the create being acknowledged by the API server to the Job first listed as owner. */
  fromAcknowledged: number[];
  /** Per Job: from the create request being sent. */
  fromSent: number[];
  /** First create sent to last Job present. */
  burstMs: number;
  /** First create sent to last create acknowledged. */
  creatingMs: number;
  storeReads: number;
  storeCalls: number;
  storeCallsSettled: number;
  /** Watch events of managed Secrets (created, updated) and SecretReferences (updated), to the burst's end. */
  writesDuring: { secrets: number; references: number };
  /** The same, to the end of the settle time. */
  writesSettled: { secrets: number; references: number };
  reconciles: number;
  idleRss: number;
  peakRss: number;
  afterRss: number;
  /** V8 heap used, heap total (allocated) and external memory, idle and at the end of the settle time. */
  idleHeap: number[];
  afterHeap: number[];
  /** Reconciles from the first create to the end of the settle time. */
  reconcilesSettled: number;
  warnings: number;
}

const overall = machineNow();
const scratch = await mkdtemp(path.join(os.tmpdir(), 'secretlink-bench-'));
const results: Result[] = [];
try {
  const distMain = variants.some((variant) => variant.entry === 'dist')
    ? await compileOperator(path.join(scratch, 'app'))
    : '';
  for (const variant of variants) {
    progress.step(`variant ${variant.id}: ${variant.title}`);
    results.push(await measure(variant, distMain));
    const last = results.at(-1)!;
    progress.note(
      `${variant.id}: median ${percentile(last.fromAcknowledged, 0.5).toFixed(0)} ms, p99 ` +
        `${percentile(last.fromAcknowledged, 0.99).toFixed(0)} ms, RSS idle ${formatMiB(last.idleRss)}, ` +
        `peak ${formatMiB(last.peakRss)}`,
    );
  }
} finally {
  await rm(scratch, { recursive: true, force: true });
}

const table = resultTable(results);
console.log(table);
if (reportFile) {
  await writeSection(reportFile, 'controller', sectionText(table));
  progress.step(`wrote the controller section of ${reportFile}`);
}

async function measure(variant: Variant, distMain: string): Promise<Result> {
  await waitForQuietMachine(progress.note);
  const machine = machineNow();
  const environment = await startEnvironment(progress);
  let operator: ChildProcess | undefined;
  try {
    const { info } = environment;
    const kubeConfig = new k8s.KubeConfig();
    kubeConfig.loadFromFile(info.kubeconfig);
    await setUp(info, kubeConfig);

    const probePort = await freePort();
    const logFile = path.join(scratch, `operator-${variant.id}.log`);
    const log = openSync(logFile, 'w');
    const command = variant.entry === 'src' ? [path.join(root, 'src', 'main.ts')] : [distMain];
    // Flags this benchmark does not set come from their defaults, never from the caller's SECRETLINK_ variables.
    const env = Object.fromEntries(
      Object.entries(process.env).filter(([name]) => !name.startsWith('SECRETLINK_')),
    );
    operator = spawn(
      process.execPath,
      [
        ...command,
        `--namespaces=${namespace}`,
        `--probe-address=127.0.0.1:${probePort}`,
        '--leader-elect=false',
        '--identity=bench',
        `--operator-namespace=${operatorNamespace}`,
        ...variant.flags,
      ],
      { cwd: root, env: { ...env, KUBECONFIG: info.kubeconfig }, stdio: ['ignore', log, 'pipe'] },
    );
    closeSync(log);
    const child = operator;
    let stderr = '';
    child.stderr?.on('data', (chunk) => {
      stderr = `${stderr}${chunk}`.slice(-4000);
    });
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const alive = () => child.exitCode === null && child.signalCode === null;
    const check = () => {
      if (!alive()) throw new Error(`the operator exited (${child.exitCode ?? child.signalCode}): ${stderr}`);
    };
    const status = (field: string) =>
      Number(new RegExp(`${field}:\\s+(\\d+)`).exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1]) *
      1024;
    const metrics = async () => (await fetch(`http://127.0.0.1:${probePort}/metrics`)).text();

    await waitFor('the operator to be ready', async () => {
      check();
      return (await fetch(`http://127.0.0.1:${probePort}/readyz`).catch(() => undefined))?.ok === true;
    });
    const custom = kubeConfig.makeApiClient(k8s.CustomObjectsApi);
    await waitFor(`all ${referenceCount} references to report NoConsumers`, async () => {
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
    });
    await sleep(3000);
    const idleRss = status('VmRSS');
    const before = await metrics();
    const idleHeap = heap(before);

    // Every Job becomes an owner of its reference's Secret: that moment is when it has been granted access.
    const granted = new Map<string, number>();
    // Writes the operator makes, as watch events: managed Secrets created or updated, SecretReferences updated
    // (status).
    const writes = { secrets: 0, references: 0 };
    let watchError: unknown;
    const core = kubeConfig.makeApiClient(k8s.CoreV1Api);
    const secretSelector = 'secretlink.dev/managed-by=secretlink';
    const secretWatch = await watchFrom(
      kubeConfig,
      `/api/v1/namespaces/${namespace}/secrets`,
      { labelSelector: secretSelector },
      (await core.listNamespacedSecret({ namespace, labelSelector: secretSelector })).metadata!
        .resourceVersion!,
      (type, secret: k8s.V1Secret) => {
        const now = performance.now();
        if (type === 'ADDED' || type === 'MODIFIED') writes.secrets++;
        for (const owner of secret.metadata?.ownerReferences ?? [])
          if (owner.kind === 'Job' && !granted.has(owner.name)) granted.set(owner.name, now);
      },
      (error) => {
        watchError ??= error;
      },
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
        if (type === 'MODIFIED') writes.references++;
      },
      (error) => {
        watchError ??= error;
      },
    );

    let peakRss = idleRss;
    const sampler = setInterval(() => {
      if (alive()) peakRss = Math.max(peakRss, status('VmRSS'));
    }, 50);
    const batch = kubeConfig.makeApiClient(k8s.BatchV1Api);
    const sent = new Map<string, number>();
    const acknowledged = new Map<string, number>();
    // The burst: every Job created at once, as fast as the API server takes them.
    const burstStarted = performance.now();
    await Promise.all(
      Array.from({ length: jobCount }, async (_, index) => {
        const name = `job-${index}`;
        sent.set(name, performance.now());
        await batch.createNamespacedJob({ namespace, body: jobBody(name, `ref-${index % referenceCount}`) });
        acknowledged.set(name, performance.now());
      }),
    );
    const creatingMs = performance.now() - burstStarted;
    await waitFor(
      `all ${jobCount} Jobs to be owners of their Secret`,
      async () => {
        check();
        if (watchError) throw new Error(`a watch failed: ${String(watchError)}`);
        return granted.size >= jobCount;
      },
      180_000,
      20,
    );
    const burstMs = Math.max(...granted.values()) - burstStarted;
    const during = await metrics();
    const writesDuring = { ...writes };

    // Memory keeps being sampled while the operator settles (status writes, pods starting, Events).
    const settleEnds = performance.now() + settleSeconds * 1000;
    while (settleEnds - performance.now() > 100) {
      await sleep(Math.min(5000, settleEnds - performance.now()));
      check();
      const after = ((performance.now() - burstStarted - burstMs) / 1000).toFixed(0);
      const rss = status('VmRSS');
      peakRss = Math.max(peakRss, rss);
      progress.note(`${variant.id}: ${after} s after the burst, RSS ${formatMiB(rss)}`);
    }
    clearInterval(sampler);
    if (watchError) throw new Error(`a watch failed: ${String(watchError)}`);
    secretWatch.stop();
    referenceWatch.stop();
    const afterRss = status('VmRSS');
    peakRss = Math.max(peakRss, afterRss);
    const settled = await metrics();
    const afterHeap = heap(settled);
    await verifySecrets(kubeConfig);

    const latencies = (from: Map<string, number>) =>
      [...from].map(([name, at]) => granted.get(name)! - at).sort((a, b) => a - b);
    const calls = (text: string, operations?: string[]) =>
      samples(text, 'secretlink_provider_calls_total')
        .filter(({ labels }) => !operations || operations.some((op) => labels.includes(`operation="${op}"`)))
        .reduce((sum, { value }) => sum + value, 0);
    const reconciles = (text: string) =>
      samples(text, 'secretlink_reconciles_total').reduce((sum, { value }) => sum + value, 0);

    child.kill('SIGTERM');
    await Promise.race([exited, sleep(25_000).then(() => child.kill('SIGKILL'))]);
    const warnings = readFileSync(logFile, 'utf8')
      .split('\n')
      .filter((line) => /"level":(4|5|6)\d/.test(line)).length;
    if (warnings > 0) progress.note(`${variant.id}: the operator logged ${warnings} warnings or errors`);

    return {
      variant,
      machine,
      fromAcknowledged: latencies(acknowledged),
      fromSent: latencies(sent),
      burstMs,
      creatingMs,
      storeReads: calls(during, ['get', 'batchGet']) - calls(before, ['get', 'batchGet']),
      storeCalls: calls(during) - calls(before),
      storeCallsSettled: calls(settled) - calls(before),
      writesDuring,
      writesSettled: writes,
      reconciles: reconciles(during) - reconciles(before),
      reconcilesSettled: reconciles(settled) - reconciles(before),
      idleRss,
      peakRss,
      afterRss,
      idleHeap,
      afterHeap,
      warnings,
    };
  } finally {
    if (operator && operator.exitCode === null && operator.signalCode === null) operator.kill('SIGKILL');
    await environment.stop();
  }
}

/** CRDs, namespaces, a SecretStore on moto, and one remote secret and SecretReference per reference. */
async function setUp(info: EnvironmentInfo, kubeConfig: k8s.KubeConfig): Promise<void> {
  await installCrds(info);
  const core = kubeConfig.makeApiClient(k8s.CoreV1Api);
  const custom = kubeConfig.makeApiClient(k8s.CustomObjectsApi);
  for (const name of [namespace, operatorNamespace])
    await core.createNamespace({ body: { metadata: { name } } });
  await waitFor('the default ServiceAccount of the namespace', async () =>
    core
      .readNamespacedServiceAccount({ namespace, name: 'default' })
      .then(() => true)
      .catch(() => false),
  );
  const aws = info.stores.aws;
  await createAwsStore(info, core, custom, namespace);
  const sm = motoClient(aws);
  progress.step(`creating ${referenceCount} remote secrets and SecretReferences`);
  for (let index = 0; index < referenceCount; index++) {
    await sm.send(
      new CreateSecretCommand({
        Name: `bench/remote-${index}`,
        SecretString: JSON.stringify({ password: `p${index}` }),
      }),
    );
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
  sm.destroy();
}

function jobBody(name: string, secretName: string): k8s.V1Job {
  return {
    metadata: { name },
    spec: {
      backoffLimit: 0,
      template: {
        metadata: {
          labels: { app: 'bench' },
          // kwok keeps the pod running this long: every Job stays active for the whole measurement.
          annotations: { 'secretlink.dev/simulated-run-time': '10m' },
        },
        spec: {
          restartPolicy: 'Never',
          containers: [{ name: 'main', image: 'busybox', envFrom: [{ secretRef: { name: secretName } }] }],
        },
      },
    },
  };
}

/** Every reference has its Secret, owned by exactly the Jobs that use it, holding the remote value. */
async function verifySecrets(kubeConfig: k8s.KubeConfig): Promise<void> {
  const secrets = await kubeConfig.makeApiClient(k8s.CoreV1Api).listNamespacedSecret({
    namespace,
    labelSelector: 'secretlink.dev/managed-by=secretlink',
  });
  const problems: string[] = [];
  for (let index = 0; index < referenceCount; index++) {
    const secret = secrets.items.find((item) => item.metadata?.name === `ref-${index}`);
    const owners = (secret?.metadata?.ownerReferences ?? []).map((owner) => owner.name).sort();
    const expected = Array.from({ length: jobCount }, (_, job) => job)
      .filter((job) => job % referenceCount === index)
      .map((job) => `job-${job}`)
      .sort();
    const value = Buffer.from(secret?.data?.password ?? '', 'base64').toString();
    if (!secret) problems.push(`ref-${index}: no Secret`);
    else if (owners.join() !== expected.join()) problems.push(`ref-${index}: owners ${owners.join()}`);
    else if (value !== `p${index}`) problems.push(`ref-${index}: wrong value`);
  }
  if (problems.length > 0) throw new Error(`managed Secrets are wrong: ${problems.slice(0, 5).join('; ')}`);
}

function samples(text: string, name: string): { labels: string; value: number }[] {
  return [...text.matchAll(new RegExp(`^${name}(\\{[^}]*\\})? (\\S+)$`, 'gm'))].map((match) => ({
    labels: match[1] ?? '',
    value: Number(match[2]),
  }));
}

function gauge(text: string, name: string): number {
  return samples(text, name).reduce((sum, { value }) => sum + value, 0);
}

function heap(text: string): number[] {
  return [
    gauge(text, 'secretlink_process_nodejs_heap_size_used_bytes'),
    gauge(text, 'secretlink_process_nodejs_heap_size_total_bytes'),
    gauge(text, 'secretlink_process_nodejs_external_memory_bytes'),
  ];
}

function resultTable(results: Result[]): string {
  const row = (label: string, cell: (result: Result) => string) =>
    `| ${label} | ${results.map(cell).join(' | ')} |`;
  const ms = (values: number[], fraction: number) => formatMs(percentile(values, fraction));
  return [
    `| ${jobCount} Jobs over ${referenceCount} references | ${results.map((r) => r.variant.title).join(' | ')} |`,
    `| --- | ${results.map(() => '---:').join(' | ')} |`,
    row('**Job created → Secret present, median**', (r) => `**${ms(r.fromAcknowledged, 0.5)}**`),
    row('**Job created → Secret present, p99**', (r) => `**${ms(r.fromAcknowledged, 0.99)}**`),
    row('Job created → Secret present, max', (r) => ms(r.fromAcknowledged, 1)),
    row('from create request sent, median / p99', (r) => `${ms(r.fromSent, 0.5)} / ${ms(r.fromSent, 0.99)}`),
    row(`creating the ${jobCount} Jobs (first sent → last acknowledged)`, (r) => formatMs(r.creatingMs)),
    row(`whole burst (first sent → last Job present)`, (r) => formatMs(r.burstMs)),
    row(
      `reconciles during the burst / until ${settleSeconds} s after`,
      (r) => `${r.reconciles} / ${r.reconcilesSettled}`,
    ),
    row(
      `store calls during the burst (of which reads) / until ${settleSeconds} s after`,
      (r) => `${r.storeCalls} (${r.storeReads}) / ${r.storeCallsSettled}`,
    ),
    row(
      `managed Secret writes during the burst / until ${settleSeconds} s after`,
      (r) => `${r.writesDuring.secrets} / ${r.writesSettled.secrets}`,
    ),
    row(
      `SecretReference writes during the burst / until ${settleSeconds} s after`,
      (r) => `${r.writesDuring.references} / ${r.writesSettled.references}`,
    ),
    row('**operator RSS, idle** (references synced, no Jobs)', (r) => `**${formatMiB(r.idleRss)}**`),
    row(`**operator RSS, peak** (burst and ${settleSeconds} s after)`, (r) => `**${formatMiB(r.peakRss)}**`),
    row(`operator RSS, ${settleSeconds} s after the burst`, (r) => formatMiB(r.afterRss)),
    row('V8 heap used / total, external memory, idle', (r) => r.idleHeap.map(formatMiB).join(' / ')),
    row(`V8 heap used / total, external memory, ${settleSeconds} s after`, (r) =>
      r.afterHeap.map(formatMiB).join(' / '),
    ),
    row('operator log lines at warn or above', (r) => String(r.warnings)),
    row('load average at the start of the variant (1 / 5 / 15 min)', (r) =>
      r.machine.load.map((value) => value.toFixed(2)).join(' / '),
    ),
  ].join('\n');
}

function sectionText(table: string): string {
  return markdown([
    '## Controller: Job created to Secret present, and operator memory',
    `What: ${referenceCount} SecretReferences (one key each, on one AWS SecretStore backed by moto) are synced ` +
      `with no Jobs; then ${jobCount} Jobs are created at once, Job _i_ consuming reference _i_ mod ${referenceCount}, so ` +
      `each reference ends up with ${jobCount / referenceCount} Jobs. kwok runs every Job's pod for 10 minutes, so all ` +
      'stay active. The operator runs as a separate process, as in a Deployment but with leader election off, ' +
      'watching only the benchmark namespace, logging at the default level (to a file) and recording audit ' +
      'records in its log and as Kubernetes Events.',
    [
      '**Job created → Secret present**: for each Job, from the moment the API server acknowledged its create ' +
        "to the first watch event in which the reference's managed Secret lists that Job in its " +
        '`ownerReferences`, that is, the operator has granted that Job access (a Job whose reference already ' +
        'has a Secret waits for this too). Median, p99 (nearest rank) and max. The same from when the create ' +
        `request was sent adds the time the API server took to take ${jobCount} creates at once.`,
      '**Memory** is the resident set size (`VmRSS` in `/proc/<pid>/status`) of the operator process alone: ' +
        'the V8 heap (informer caches, the Job index, store clients, queues), compiled code, the Node.js ' +
        'runtime (V8, ICU, OpenSSL, libuv), Buffers, thread stacks, and the pages of shared libraries it has ' +
        'touched, which other processes may share. With `node src/main.ts` it also holds what Node needs ' +
        "to strip the types of the sources; the compiled variant runs as the image's `node dist/main.js` " +
        'does. Idle is 3 s after every reference reported `NoConsumers`; ' +
        `the peak is the highest of samples taken every 50 ms from the first create until ${settleSeconds} s after ` +
        'the last Job was served. "V8 heap used / total, external memory" are the operator\'s own ' +
        '`secretlink_process_nodejs_heap_size_used_bytes`, `..._heap_size_total_bytes` (allocated to the heap) ' +
        'and `..._external_memory_bytes` (Buffers and other memory that V8 objects hold outside the heap).',
      'Reconciles and store calls are the increase of `secretlink_reconciles_total` and ' +
        "`secretlink_provider_calls_total` on the operator's `/metrics`, over the burst and until the end of the settle time. " +
        'Writes are watch events: managed Secrets created or updated, and SecretReferences updated ' +
        '(status; the finalizer was added before the idle measurement). At the end the ' +
        `benchmark checks that each of the ${referenceCount} Secrets is owned by exactly its ${jobCount / referenceCount} Jobs ` +
        'and holds the remote value.',
    ],
    'The operator can pace its own writes to the API server (Secrets, status; not Events) with `--kube-qps` and ' +
      '`--kube-burst`; since 2026-12-01 it does not by default (`--kube-qps=0`: API Priority and Fairness paces). ' +
      'The third variant sets them and raises `--concurrency`. A Job consumes once the Job controller sets ' +
      '`status.startTime`; the status write after each Secret write also records the first starts of Jobs ' +
      'seen meanwhile, so a reconcile that adds Jobs mostly writes status once, after its Secret write, not ' +
      'also before it (docs/design.md, "Status").',
    'Each variant starts its own environment (control plane, kwok, stores) and stops it afterwards. The ' +
      'benchmark, the API server, etcd, the controller manager, the scheduler, kwok and moto share the cores ' +
      'with the operator.',
    'How: `node bench/controller.ts --write=docs/benchmarks.md` (options `--jobs`, `--references`, ' +
      '`--variants=src,dist,fast`, `--settle` seconds, `--quiet-load`). Before each variant it waits (up to 5 ' +
      'minutes) for the 1-minute load average to drop under `--quiet-load` (1.5).',
    describeMachine(overall),
    table,
  ]);
}
