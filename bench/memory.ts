// The operator's memory as the image runs it (`node dist/main.js`): idle with a few references, then with
// many references and many active Jobs, and how long it takes to converge again after a restart. Per-object
// costs come from heap snapshots the operator writes on a signal (Node's --heapsnapshot-signal), compared
// between sizes; what dominates is the largest constructors by retained-free (self) size in the last one.
// Usage: node bench/memory.ts [--small=100] [--references=10000] [--jobs=1000] [--node-flags='...']
//                             [--write=docs/benchmarks.md]

import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync, rmSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { CreateSecretCommand } from '@aws-sdk/client-secrets-manager';
import * as k8s from '@kubernetes/client-node';
import { group, plurals, version } from '../src/api/constants.ts';
import { type EnvironmentInfo, startEnvironment } from '../test/env/environment.ts';
import { installCrds, operatorNamespace } from '../test/env/install.ts';
import { freePort } from '../test/env/ports.ts';
import { consoleProgress } from '../test/env/progress.ts';
import { motoClient } from '../test/env/stores/clients.ts';
import { createAwsStore } from './aws-store.ts';
import { inParallel } from './reference-scene.ts';
import {
  argument,
  describeMachine,
  formatMiB,
  machineNow,
  markdown,
  numberArgument,
  waitForQuietMachine,
  writeSection,
} from './report.ts';
import { compileOperator, imageNodeFlags } from './shipped-operator.ts';
import { sleep, waitFor } from './wait.ts';

const exec = promisify(execFile);
const smallCount = numberArgument('small', 100);
const referenceCount = numberArgument('references', 10_000);
const jobCount = numberArgument('jobs', 1000);
/** Remote secrets the references read from; references share them (the operator's cost is per reference). */
const remoteCount = Math.min(numberArgument('remotes', 100), smallCount);
const reportFile = argument('write', '');
/** Node.js flags for the operator: the image's (Dockerfile ENTRYPOINT) unless given, to compare settings. */
const nodeFlagsArgument = argument('node-flags', 'image');
const nodeFlags =
  nodeFlagsArgument === 'image' ? imageNodeFlags() : nodeFlagsArgument.split(' ').filter(Boolean);
const namespace = 'bench';
const progress = consoleProgress('[bench]');
const root = path.resolve(import.meta.dirname, '..');

interface Measurement {
  label: string;
  rss: number;
  /** V8 heap used, heap total, external, from process.memoryUsage() as the operator's metrics report it. */
  heap: number[];
  snapshot: SnapshotSummary;
  load: number;
}

interface SnapshotSummary {
  /** Sum of the self sizes of every node in the snapshot: the live heap after the full GC it takes first. */
  bytes: number;
  /** Of which compiled code: it grows as code paths run for the first time, not with the objects held. */
  code: number;
  /** Self size per constructor (or node type), largest first. */
  top: { name: string; bytes: number; count: number }[];
}

await waitForQuietMachine(progress.note);
const machine = machineNow();
const scratch = await mkdtemp(path.join(os.tmpdir(), 'secretlink-bench-memory-'));
process.once('exit', () => rmSync(scratch, { recursive: true, force: true }));
// Interrupted, it exits through 'exit' (the operator is killed, the scratch folder removed); the environment's
// reaper stops the servers.
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));
const environment = await startEnvironment(progress);
let operator: Operator | undefined;
const measured: Measurement[] = [];
let convergedMs = 0;
try {
  const main = await compile();
  const { info } = environment;
  const kubeConfig = new k8s.KubeConfig();
  kubeConfig.loadFromFile(info.kubeconfig);
  const core = kubeConfig.makeApiClient(k8s.CoreV1Api);
  const custom = kubeConfig.makeApiClient(k8s.CustomObjectsApi);
  await setUp(info, core, custom);
  await createReferences(custom, 0, smallCount);

  // Every figure comes from a process freshly started on the state it measures: a heap snapshot leaves the
  // process it was taken in larger, so no process is measured after one (the one that took it carries on
  // only to do the work of the next state).
  operator = await startOperator(main, info, 'first');
  await operator.waitReady();
  await waitForReferences(custom, smallCount);
  measured.push(await measure(operator, `${smallCount} references, idle`));

  if (referenceCount > smallCount) {
    await createReferences(custom, smallCount, referenceCount);
    await waitForReferences(custom, referenceCount);
    operator = await restart(operator, main, info, 'references-measured', referenceCount);
    measured.push(await measure(operator, `${referenceCount} references, idle`));
  }

  const batch = kubeConfig.makeApiClient(k8s.BatchV1Api);
  progress.step(`creating ${jobCount} Jobs (kept active by kwok)`);
  await inParallel(jobCount, 16, async (index) => {
    await batch.createNamespacedJob({
      namespace,
      body: jobBody(`job-${index}`, `ref-${index % referenceCount}`),
    });
  });
  await waitFor(
    `all ${jobCount} Jobs to own their Secret`,
    () => ownedJobs(core).then((n) => n >= jobCount),
    900_000,
    200,
  );
  progress.step('restarting the operator');
  const restarted = Date.now();
  operator = await restart(operator, main, info, 'restart', referenceCount);
  convergedMs = Date.now() - restarted;
  progress.note(`converged ${(convergedMs / 1000).toFixed(1)} s after the restart`);
  if ((await ownedJobs(core)) < jobCount) throw new Error('a Job lost its Secret across the restart');
  measured.push(await measure(operator, `${referenceCount} references, ${jobCount} active Jobs`));
} finally {
  await operator?.stop();
  await environment.stop();
  await rm(scratch, { recursive: true, force: true });
}

const table = resultTable();
console.log(table);
if (reportFile) {
  await writeSection(reportFile, 'memory', sectionText(table));
  progress.step(`wrote the memory section of ${reportFile}`);
}

/** Compiles src/ as the Dockerfile does (`npm run build`), into the scratch folder. */
async function compile(): Promise<string> {
  progress.step('building dist/ with scripts/build.ts (as the image does)');
  return compileOperator(path.join(scratch, 'app'));
}

interface Operator {
  waitReady(): Promise<void>;
  rss(): number;
  metrics(): Promise<string>;
  snapshot(): Promise<SnapshotSummary>;
  converged(references: number): Promise<boolean>;
  stop(): Promise<void>;
}

async function startOperator(main: string, info: EnvironmentInfo, id: string): Promise<Operator> {
  const probePort = await freePort();
  const snapshots = path.join(scratch, `snapshots-${id}`);
  const log = openSync(path.join(scratch, `operator-${id}.log`), 'w');
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !name.startsWith('SECRETLINK_')),
  );
  const child: ChildProcess = spawn(
    process.execPath,
    [
      ...nodeFlags,
      // Writes a heap snapshot into the diagnostic folder on SIGUSR2; nothing else changes in the process.
      '--heapsnapshot-signal=SIGUSR2',
      `--diagnostic-dir=${snapshots}`,
      main,
      `--namespaces=${namespace}`,
      `--probe-address=127.0.0.1:${probePort}`,
      '--leader-elect=false',
      '--identity=bench',
      `--operator-namespace=${operatorNamespace}`,
    ],
    { cwd: root, env: { ...env, KUBECONFIG: info.kubeconfig }, stdio: ['ignore', log, 'pipe'] },
  );
  closeSync(log);
  // An interrupted benchmark (its environment stops itself and exits) leaves no operator behind.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  await exec('mkdir', ['-p', snapshots]);
  let stderr = '';
  child.stderr?.on('data', (chunk) => {
    stderr = `${stderr}${chunk}`.slice(-4000);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const alive = () => child.exitCode === null && child.signalCode === null;
  const check = () => {
    if (!alive()) throw new Error(`the operator exited (${child.exitCode ?? child.signalCode}): ${stderr}`);
  };
  const metrics = async () => {
    check();
    return (await fetch(`http://127.0.0.1:${probePort}/metrics`)).text();
  };
  return {
    async waitReady() {
      await waitFor(
        'the operator to be ready',
        async () => {
          check();
          return (await fetch(`http://127.0.0.1:${probePort}/readyz`).catch(() => undefined))?.ok === true;
        },
        60_000,
        200,
      );
    },
    rss: () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1]) * 1024,
    metrics,
    async snapshot() {
      const before = new Set(await readdir(snapshots));
      child.kill('SIGUSR2');
      let file = '';
      await waitFor(
        'the heap snapshot',
        async () => {
          check();
          const fresh = (await readdir(snapshots)).filter((name) => !before.has(name));
          if (fresh.length === 0) return false;
          file = path.join(snapshots, fresh[0]!);
          // Written in one go by the main thread: a size that holds still for a second is the whole file.
          const size = (await stat(file)).size;
          await sleep(1000);
          return size > 0 && (await stat(file)).size === size && (await metrics().then(() => true));
        },
        300_000,
        500,
      );
      const summary = summarize(JSON.parse(await readFile(file, 'utf8')));
      await rm(file);
      return summary;
    },
    async converged(references: number) {
      // Every reference reconciled successfully at least once since the start: the process has listed every
      // cache and checked each reference's Secret against its store and its Jobs.
      const text = await metrics();
      return successes(text) >= references;
    },
    async stop() {
      if (!alive()) return;
      child.kill('SIGTERM');
      await Promise.race([exited, sleep(25_000).then(() => child.kill('SIGKILL'))]);
      await exited;
      process.off('exit', killOnExit);
    },
  };
}

/** Stops the operator and starts a new one, which has converged when this returns. */
async function restart(
  running: Operator,
  main: string,
  info: EnvironmentInfo,
  id: string,
  references: number,
): Promise<Operator> {
  await running.stop();
  const started = await startOperator(main, info, id);
  await started.waitReady();
  await waitFor(`the operator to converge (${id})`, () => started.converged(references), 600_000, 200);
  return started;
}

async function measure(running: Operator, label: string): Promise<Measurement> {
  await sleep(5000);
  const load = os.loadavg()[0] ?? 0;
  const rss = running.rss();
  const text = await running.metrics();
  const heap = [
    gauge(text, 'secretlink_process_nodejs_heap_size_used_bytes'),
    gauge(text, 'secretlink_process_nodejs_heap_size_total_bytes'),
    gauge(text, 'secretlink_process_nodejs_external_memory_bytes'),
  ];
  progress.note(`${label}: RSS ${formatMiB(rss)}, heap used ${formatMiB(heap[0]!)}; taking a heap snapshot`);
  const snapshot = await running.snapshot();
  return { label, rss, heap, snapshot, load };
}

/** Self sizes from a V8 heap snapshot, in total and per constructor name. */
function summarize(snapshot: {
  snapshot: { meta: { node_fields: string[]; node_types: (string | string[])[] } };
  nodes: number[];
  strings: string[];
}): SnapshotSummary {
  const fields = snapshot.snapshot.meta.node_fields;
  const width = fields.length;
  const typeField = fields.indexOf('type');
  const nameField = fields.indexOf('name');
  const sizeField = fields.indexOf('self_size');
  const types = snapshot.snapshot.meta.node_types[typeField] as string[];
  const byName = new Map<string, { bytes: number; count: number }>();
  let bytes = 0;
  for (let index = 0; index < snapshot.nodes.length; index += width) {
    const size = snapshot.nodes[index + sizeField]!;
    const type = types[snapshot.nodes[index + typeField]!]!;
    // Objects are grouped by constructor; strings, code, arrays and the rest by their kind.
    const name = type === 'object' ? snapshot.strings[snapshot.nodes[index + nameField]!]! : `(${type})`;
    bytes += size;
    const entry = byName.get(name) ?? { bytes: 0, count: 0 };
    entry.bytes += size;
    entry.count++;
    byName.set(name, entry);
  }
  const top = [...byName]
    .map(([name, entry]) => ({ name, ...entry }))
    .sort((a, b) => b.bytes - a.bytes)
    .slice(0, 12);
  return { bytes, code: byName.get('(code)')?.bytes ?? 0, top };
}

/** The namespaces, one AWS SecretStore on moto, and the remote secrets the references read. */
async function setUp(
  info: EnvironmentInfo,
  core: k8s.CoreV1Api,
  custom: k8s.CustomObjectsApi,
): Promise<void> {
  await installCrds(info);
  for (const name of [namespace, operatorNamespace])
    await core.createNamespace({ body: { metadata: { name } } });
  await waitFor(
    'the default ServiceAccount of the namespace',
    async () =>
      core
        .readNamespacedServiceAccount({ namespace, name: 'default' })
        .then(() => true)
        .catch(() => false),
    60_000,
    200,
  );
  await createAwsStore(info, core, custom, namespace);
  const sm = motoClient(info.stores.aws);
  for (let index = 0; index < remoteCount; index++) {
    await sm.send(
      new CreateSecretCommand({
        Name: `bench/remote-${index}`,
        SecretString: JSON.stringify({ password: `p${index}` }),
      }),
    );
  }
  sm.destroy();
}

async function createReferences(custom: k8s.CustomObjectsApi, from: number, to: number): Promise<void> {
  progress.step(`creating SecretReferences ${from}..${to - 1}`);
  const started = Date.now();
  await inParallel(to - from, 16, async (offset) => {
    const index = from + offset;
    await custom.createNamespacedCustomObject({
      group,
      version,
      plural: plurals.secretReference,
      namespace,
      body: {
        apiVersion: `${group}/${version}`,
        kind: 'SecretReference',
        metadata: { name: `ref-${index}`, labels: { app: 'bench' } },
        spec: {
          storeRef: { name: 'aws' },
          data: [
            {
              key: 'password',
              remote: { name: `bench/remote-${index % remoteCount}`, property: 'password' },
            },
          ],
          consumers: { matchLabels: { reference: `ref-${index}` } },
        },
      },
    });
  });
  progress.note(`created ${to - from} references in ${((Date.now() - started) / 1000).toFixed(0)} s`);
}

/** Every reference reports a Ready condition (NoConsumers or, once Jobs exist, its Secret). */
async function waitForReferences(custom: k8s.CustomObjectsApi, count: number): Promise<void> {
  await waitFor(
    `all ${count} references to report a condition`,
    async () => {
      const list = (await custom.listNamespacedCustomObject({
        group,
        version,
        plural: plurals.secretReference,
        namespace,
      })) as { items: { status?: { conditions?: { type: string }[] } }[] };
      return (
        list.items.filter((item) => item.status?.conditions?.some((c) => c.type === 'Ready')).length >= count
      );
    },
    900_000,
    2000,
  );
}

/** Jobs listed as owners of a managed Secret. */
async function ownedJobs(core: k8s.CoreV1Api): Promise<number> {
  const secrets = await core.listNamespacedSecret({
    namespace,
    labelSelector: 'secretlink.dev/managed-by=secretlink',
  });
  return secrets.items.reduce(
    (sum, secret) =>
      sum + (secret.metadata?.ownerReferences ?? []).filter((owner) => owner.kind === 'Job').length,
    0,
  );
}

function jobBody(name: string, reference: string): k8s.V1Job {
  return {
    metadata: { name },
    spec: {
      backoffLimit: 0,
      template: {
        metadata: {
          labels: { reference },
          // kwok keeps the pod running this long: every Job stays active for the whole measurement.
          annotations: { 'secretlink.dev/simulated-run-time': '60m' },
        },
        spec: {
          restartPolicy: 'Never',
          containers: [{ name: 'main', image: 'busybox', envFrom: [{ secretRef: { name: reference } }] }],
        },
      },
    },
  };
}

function successes(text: string): number {
  const match = /^secretlink_reconciles_total\{result="success"\} (\S+)$/m.exec(text);
  return Number(match?.[1] ?? 0);
}

function gauge(text: string, name: string): number {
  return [...text.matchAll(new RegExp(`^${name}(\\{[^}]*\\})? (\\S+)$`, 'gm'))].reduce(
    (sum, match) => sum + Number(match[2]),
    0,
  );
}

function resultTable(): string {
  const [small, large, jobs] = measured;
  // Compiled code is left out of the differences: it grows with the code paths run so far, not with objects.
  const objects = (m: Measurement) => m.snapshot.bytes - m.snapshot.code;
  const perReference =
    small && large ? (objects(large) - objects(small)) / (referenceCount - smallCount) : Number.NaN;
  const perJob = large && jobs ? (objects(jobs) - objects(large)) / jobCount : Number.NaN;
  const rows = measured.map(
    (m) =>
      `| ${m.label} | **${formatMiB(m.rss)}** | ${m.heap.map(formatMiB).join(' / ')} | ${formatMiB(m.snapshot.bytes)} / ${formatMiB(m.snapshot.code)} | ${m.load.toFixed(2)} |`,
  );
  const last = measured.at(-1);
  return [
    '| state | RSS | V8 heap used / total, external | live heap (snapshot) / of which compiled code | 1-min load |',
    '| --- | ---: | ---: | ---: | ---: |',
    ...rows,
    '',
    '| derived | value |',
    '| --- | ---: |',
    `| live heap per reference (snapshot difference, ${smallCount} → ${referenceCount}) | ${perReference.toFixed(0)} bytes |`,
    `| live heap per active Job (snapshot difference, + ${jobCount} Jobs and their pods and Secrets) | ${perJob.toFixed(0)} bytes |`,
    `| converged after a restart (${referenceCount} references, ${jobCount} Jobs) | ${(convergedMs / 1000).toFixed(1)} s |`,
    '',
    `Largest self sizes in the last snapshot (${last?.label ?? ''}):`,
    '',
    '| constructor or kind | objects | self size |',
    '| --- | ---: | ---: |',
    ...(last?.snapshot.top ?? []).map((t) => `| \`${t.name}\` | ${t.count} | ${formatMiB(t.bytes)} |`),
  ].join('\n');
}

function sectionText(table: string): string {
  return markdown([
    '## Memory',
    `What: the compiled operator (\`node dist/main.js\` with the image's Node.js flags, as the image runs it, default ` +
      `flags, leader election off, watching one namespace) with one AWS SecretStore on moto. First ` +
      `${smallCount} SecretReferences with no consumers (idle), then ${referenceCount}, then ${jobCount} Jobs, ` +
      `each consuming its own reference, kept active by kwok (\`secretlink.dev/simulated-run-time\`); then the ` +
      'operator is stopped and started again.',
    [
      '**RSS** is `VmRSS` of the operator process; the V8 figures are its own `process.memoryUsage()` gauges on ' +
        '`/metrics`, read 5 s after the state was reached.',
      '**Live heap** is the sum of the self sizes of all nodes in a heap snapshot the operator writes on ' +
        'SIGUSR2 (`--heapsnapshot-signal`), which collects garbage first. Bytes per reference and per active ' +
        'Job are differences of these sums between the states, less compiled code (which grows with the code ' +
        'paths run so far, not with the objects held), divided by the objects added; a Job brings its pod and ' +
        'its Secret into the caches too.',
      '**Converged after a restart**: from stopping the process (SIGTERM) and starting a new one until every ' +
        'reference was reconciled successfully once (`secretlink_reconciles_total{result="success"}` at least ' +
        'the number of references), with every Job still an owner of its Secret.',
      'Each state is measured on a process started on it and converged (a heap snapshot leaves the process it ' +
        'was taken in larger, so no figure comes from a process that has taken one).',
    ],
    `Node.js flags for the operator: ${nodeFlags.length ? nodeFlags.map((f) => `\`${f}\``).join(' ') : 'none'}` +
      (nodeFlagsArgument === 'image'
        ? " (the image's, from the Dockerfile's ENTRYPOINT)."
        : " (given with `--node-flags`, not the image's)."),
    'How: `node bench/memory.ts --write=docs/benchmarks.md` (options `--small`, `--references`, `--jobs`, ' +
      '`--node-flags`, `--quiet-load`). It starts and stops its own environment.',
    describeMachine(machine),
    table,
  ]);
}
