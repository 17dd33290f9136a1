// How the operator's cost grows with the number of SecretReferences: at each size (100, 1,000 and 10,000 by
// default), in a namespace of its own, secretlink as shipped (compiled, as the image runs it) converges on the
// references, rests, serves Jobs (one per ten references by default, each consuming its own reference, kept
// active by kwok) and is restarted. Per size: RSS idle, RSS and V8 heap with the Jobs active, convergence after
// a restart, and the operator's requests at rest per minute counted on the API server's side (its audit log).
// Writes a table to docs/benchmarks.md and a chart of the same numbers to docs/benchmarks-growth.svg.
// Usage: node bench/growth.ts [--sizes=100,1000,10000] [--jobs-per-reference=0.1] [--rest-minutes=2]
//                             [--timeout-minutes=40] [--record=results.json] [--write=docs/benchmarks.md]
//        node bench/growth.ts --from=a.json,b.json --write=docs/benchmarks.md   (table and chart from records)

import { rmSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { type Environment, startEnvironment } from '../test/env/environment.ts';
import { installCrds, operatorNamespace } from '../test/env/install.ts';
import { operatorUsername } from '../test/env/operator-identity.ts';
import { consoleProgress } from '../test/env/progress.ts';
import {
  type ApiRequest,
  classify,
  countRequests,
  operatorAuditPolicy,
  readApiRequests,
} from './api-requests.ts';
import {
  createJobs,
  createReferences,
  createRemoteSecrets,
  createSceneNamespace,
  ownedJobs,
  referencesWithCondition,
  type SceneClients,
  sceneClients,
  settledJobs,
  waitForConvergence,
} from './reference-scene.ts';
import {
  argument,
  describeMachine,
  formatMiB,
  type Machine,
  machineNow,
  markdown,
  numberArgument,
  percentile,
  waitForQuietMachine,
  writeSection,
} from './report.ts';
import {
  compileOperator,
  metricSum,
  prepareOperatorIdentity,
  type ShippedOperator,
  startShippedOperator,
} from './shipped-operator.ts';
import { lineChartSvg, type Panel } from './svg-chart.ts';
import { sleep, waitFor } from './wait.ts';

const sizes = argument('sizes', '100,1000,10000')
  .split(',')
  .map(Number)
  .filter((n) => Number.isInteger(n) && n > 0);
const jobsPerReference = numberArgument('jobs-per-reference', 0.1);
const restMinutes = numberArgument('rest-minutes', 2);
const timeoutMs = numberArgument('timeout-minutes', 40) * 60_000;
const width = 32;
const remoteCount = 100;
const reportFile = argument('write', '');
/** Where the raw results go, rewritten after each size (so a size that stops keeps the ones before it). */
const recordFile = argument('record', '');
/** Records of earlier runs to draw the table and chart from, without measuring: one size can be run again alone. */
const fromFiles = argument('from', '').split(',').filter(Boolean);
const chartFile = reportFile ? path.join(path.dirname(reportFile), 'benchmarks-growth.svg') : '';
const progress = consoleProgress('[bench]');
let environment: Environment | undefined;
let scratchDir = '';
const seconds = (ms?: number) => (ms === undefined ? '–' : `${(ms / 1000).toFixed(1)} s`);
const mib = (bytes?: number) => (bytes === undefined ? '–' : formatMiB(bytes));
const rate = (value?: number) => (value === undefined ? '–' : value.toFixed(1));

interface SizeResult {
  references: number;
  /** When the size started (UTC, to the minute): sizes drawn together may come from different runs. */
  startedAt?: string;
  jobs: number;
  load: number;
  createReferencesMs?: number;
  firstConvergenceMs?: number;
  idleRss?: number;
  /** Requests at rest: all, and those neither renewals nor watches, per minute. */
  restPerMinute?: number;
  restUnexpectedPerMinute?: number;
  createJobsMs?: number;
  grantedMs?: number;
  /** From the first create of the Jobs until each was recorded started and active and no reconcile ran for 3 s. */
  settledMs?: number;
  restartConvergenceMs?: number;
  /** From SIGTERM to the old process: the new one ready, and its `references`th successful reconcile. */
  restartReadyMs?: number;
  restartReconciledMs?: number;
  /** The operator's requests from SIGTERM to convergence, by verb and resource, with the API server's time. */
  restartRequests?: RestartRequests[];
  /** The restarted operator's own counters at convergence: what its work after the restart was. */
  restartWork?: Record<string, number>;
  jobsRss?: number;
  /** V8 heap used and total with the Jobs active. */
  jobsHeap?: [number, number];
  /** Why the size stopped early, with what it had measured so far. */
  stopped?: string;
}

interface RestartRequests {
  verb: string;
  resource: string;
  count: number;
  failed: number;
  /** Receipt to answer on the API server, median and 99th percentile. */
  serverMsMedian: number;
  serverMsP99: number;
}

const results: SizeResult[] = [];
let machine: Machine;
/** The machine of every run the results come from. */
const machines: Machine[] = [];
if (fromFiles.length > 0) {
  for (const file of fromFiles) {
    const record = JSON.parse(await readFile(file, 'utf8')) as { machine: Machine; results: SizeResult[] };
    machines.push(record.machine);
    results.push(...record.results);
  }
  results.sort((a, b) => a.references - b.references);
  machine = machines[0]!;
} else {
  await waitForQuietMachine(progress.note);
  machine = machineNow();
  machines.push(machine);
  await measureAll();
}

async function measureAll(): Promise<void> {
  const scratch = await mkdtemp(path.join(os.tmpdir(), 'secretlink-bench-growth-'));
  scratchDir = scratch;
  process.once('exit', () => rmSync(scratch, { recursive: true, force: true }));
  // Interrupted, it exits through 'exit' (the operator is killed, the scratch folder removed); the environment's
  // reaper stops the servers.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));
  const started = await startEnvironment(progress, {
    apiServerAuditPolicy: operatorAuditPolicy(operatorUsername),
  });
  environment = started;
  try {
    const { info } = started;
    const auditLog = info.apiServerAuditLog;
    if (!auditLog) throw new Error('the API server was started without an audit log');
    const kubeConfig = new k8s.KubeConfig();
    kubeConfig.loadFromFile(info.kubeconfig);
    const clients = sceneClients(kubeConfig);
    await installCrds(info);
    await clients.core.createNamespace({ body: { metadata: { name: operatorNamespace } } });
    await createRemoteSecrets(info, remoteCount);
    progress.step('building dist/ with scripts/build.ts (as the image does)');
    const main = await compileOperator(path.join(scratch, 'app'));
    const kubeconfig = await prepareOperatorIdentity(info, scratch);
    for (const references of sizes) {
      const result: SizeResult = {
        references,
        startedAt: machineNow().startedAt,
        jobs: Math.round(references * jobsPerReference),
        load: os.loadavg()[0] ?? 0,
      };
      results.push(result);
      try {
        await measureSize(result, { clients, main, kubeconfig, auditLog, info });
      } catch (error) {
        result.stopped = error instanceof Error ? error.message : String(error);
        progress.note(`${references} references: stopped: ${result.stopped}`);
      }
      if (recordFile) await writeFile(recordFile, `${JSON.stringify({ machine, results }, null, 2)}\n`);
    }
  } finally {
    await started.stop();
    await rm(scratch, { recursive: true, force: true });
  }
}

const table = resultTable();
console.log(table);
if (reportFile) {
  await writeFile(chartFile, chart());
  await writeSection(reportFile, 'growth', sectionText(table));
  progress.step(`wrote the growth section of ${reportFile} and ${chartFile}`);
}

async function measureSize(
  result: SizeResult,
  context: {
    clients: SceneClients;
    main: string;
    kubeconfig: string;
    auditLog: string;
    info: { runDir: string };
  },
): Promise<void> {
  const { clients, main, kubeconfig, auditLog } = context;
  const { references, jobs } = result;
  const namespace = `growth-${references}`;
  await createSceneNamespace(environment!.info, clients, namespace);
  progress.step(`${references} references: creating them, ${width} at a time`);
  result.createReferencesMs = await createReferences(clients.custom, namespace, {
    from: 0,
    to: references,
    remotes: remoteCount,
    width,
  });
  progress.note(`created in ${(result.createReferencesMs / 1000).toFixed(1)} s`);

  // Started again as the same replica (its identity, signing key and audit file), as a StatefulSet restarts it.
  const start = () =>
    startShippedOperator({ main, kubeconfig, namespace, dir: scratchDir, id: `${references}` });
  let operator: ShippedOperator | undefined = await start();
  try {
    const started = Date.now();
    await operator.waitReady();
    result.firstConvergenceMs =
      (await waitForConvergence(operator.metrics, references, timeoutMs)).quietAt - started;
    progress.note(`converged in ${(result.firstConvergenceMs / 1000).toFixed(1)} s`);
    const ready = await referencesWithCondition(clients.custom, namespace);
    if (ready < references) throw new Error(`only ${ready} of ${references} references report Ready`);
    await sleep(5000);
    result.idleRss = operator.rss();

    // At rest: the requests the API server receives from the operator in a window with nothing changing.
    await sleep(25_000);
    const from = Date.now();
    progress.step(`${references} references: at rest for ${restMinutes} min`);
    await sleep(restMinutes * 60_000);
    const to = Date.now();
    const requests = await readApiRequests(auditLog, from, to);
    const minutes = (to - from) / 60_000;
    result.restPerMinute = requests.length / minutes;
    result.restUnexpectedPerMinute = requests.filter((r) => classify(r) === 'unexpected').length / minutes;

    progress.step(`${references} references: creating ${jobs} Jobs, ${width} at a time`);
    const burst = Date.now();
    result.createJobsMs = await createJobs(clients.batch, namespace, jobs, width);
    await waitFor(
      `all ${jobs} Jobs to own their Secret`,
      async () => (await ownedJobs(clients.core, namespace)) >= jobs,
      timeoutMs,
      2000,
    );
    result.grantedMs = Date.now() - burst;
    progress.note(
      `all ${jobs} Jobs granted ${(result.grantedMs / 1000).toFixed(1)} s after the first create`,
    );

    // The restart is measured from a settled cluster: the Job controller goes on recording the burst's Jobs
    // (started, pod active) for a minute or more after their grants, each record a reconcile here, and a restart
    // in the middle of that would time its pace, not the operator's.
    await waitFor(
      `all ${jobs} Jobs recorded started with an active pod`,
      async () => (await settledJobs(clients.batch, namespace)) >= jobs,
      timeoutMs,
      2000,
    );
    result.settledMs = (await waitForConvergence(operator.metrics, 0, timeoutMs)).quietAt - burst;
    progress.note(`no reconcile for 3 s from ${seconds(result.settledMs)} after the first create`);
    progress.step(`${references} references: restarting the operator`);
    const restarted = Date.now();
    await operator.stop();
    operator = await start();
    await operator.waitReady();
    result.restartReadyMs = Date.now() - restarted;
    const convergence = await waitForConvergence(operator.metrics, references, timeoutMs);
    result.restartReconciledMs = convergence.reconciledAt - restarted;
    result.restartConvergenceMs = convergence.quietAt - restarted;
    progress.note(
      `after the restart: ready ${seconds(result.restartReadyMs)}, ${references} reconciled ` +
        `${seconds(result.restartReconciledMs)}, converged ${seconds(result.restartConvergenceMs)}`,
    );
    // From SIGTERM: the old process's last requests (its Lease released) are in the window too.
    result.restartRequests = summarizeRequests(
      await readApiRequests(auditLog, restarted, convergence.quietAt + 1),
    );
    result.restartWork = restartWork(await operator.metrics());
    progress.note(`  the restarted operator's own counts: ${JSON.stringify(result.restartWork)}`);
    for (const line of result.restartRequests)
      progress.note(
        `  ${line.verb} ${line.resource}: ${line.count} (${line.failed} failed), ` +
          `API server ${line.serverMsMedian} / ${line.serverMsP99} ms median / p99`,
      );
    if ((await ownedJobs(clients.core, namespace)) < jobs)
      throw new Error('a Job lost its Secret across the restart');
    await sleep(5000);
    result.jobsRss = operator.rss();
    const text = await operator.metrics();
    result.jobsHeap = [
      metricSum(text, 'secretlink_process_nodejs_heap_size_used_bytes'),
      metricSum(text, 'secretlink_process_nodejs_heap_size_total_bytes'),
    ];
    progress.note(`RSS ${formatMiB(result.idleRss)} idle, ${formatMiB(result.jobsRss)} with ${jobs} Jobs`);
  } finally {
    await operator?.stop();
    // The next size runs in a namespace of its own; this one's Jobs are removed (their pods and, by garbage
    // collection, their Secrets with them) so that kwok and the controllers are quiet again. Not awaited.
    await clients.batch
      .deleteCollectionNamespacedJob({ namespace, propagationPolicy: 'Background' })
      .catch(() => undefined);
  }
}

/** The counters of a restarted operator that say what its convergence consisted of. */
function restartWork(text: string): Record<string, number> {
  return {
    reconciles: metricSum(text, 'secretlink_reconciles_total'),
    reconcilesSucceeded: metricSum(text, 'secretlink_reconciles_total', 'result="success"'),
    reconcileSeconds: Math.round(metricSum(text, 'secretlink_reconcile_duration_seconds_sum')),
    retries: metricSum(text, 'secretlink_workqueue_retries_total'),
    storeCalls: metricSum(text, 'secretlink_provider_calls_total'),
    storeCallSeconds: Math.round(metricSum(text, 'secretlink_provider_call_duration_seconds_sum')),
    auditRecords: metricSum(text, 'secretlink_audit_records_total'),
  };
}

/** Requests by verb and resource, with the API server's time to answer them (NaN for a watch still open). */
function summarizeRequests(requests: readonly ApiRequest[]): RestartRequests[] {
  return countRequests(requests).map(({ verb, resource, count, failed, serverMs }) => ({
    verb,
    resource,
    count,
    failed,
    serverMsMedian: percentile(serverMs, 0.5),
    serverMsP99: percentile(serverMs, 0.99),
  }));
}

function resultTable(): string {
  const column = (label: string, cell: (r: SizeResult) => string) =>
    `| ${label} | ${results.map(cell).join(' | ')} |`;
  return [
    `| per size | ${results.map((r) => `${r.references.toLocaleString('en')} references`).join(' | ')} |`,
    `| --- | ${results.map(() => '---:').join(' | ')} |`,
    column('**RSS, idle** (converged, no Job)', (r) => `**${mib(r.idleRss)}**`),
    column('**RSS, Jobs active** (after the restart)', (r) => `**${mib(r.jobsRss)}**`),
    column('V8 heap used / total, Jobs active', (r) =>
      r.jobsHeap ? `${mib(r.jobsHeap[0])} / ${mib(r.jobsHeap[1])}` : '–',
    ),
    column('**converged after a restart** (Jobs active)', (r) => `**${seconds(r.restartConvergenceMs)}**`),
    column('after a restart: ready → as many successful reconciles as references', (r) =>
      r.restartReadyMs === undefined
        ? '–'
        : `${seconds(r.restartReadyMs)} → ${seconds(r.restartReconciledMs)}`,
    ),
    column('**requests at rest per minute**', (r) => `**${rate(r.restPerMinute)}**`),
    column('of which neither renewals nor watches', (r) => rate(r.restUnexpectedPerMinute)),
    column('active Jobs', (r) => r.jobs.toLocaleString('en')),
    column(`creating the references (${width} in flight)`, (r) => seconds(r.createReferencesMs)),
    column('first convergence (fresh start: finalizers, then status)', (r) => seconds(r.firstConvergenceMs)),
    column(`creating the Jobs (${width} in flight) → all granted`, (r) =>
      r.createJobsMs === undefined ? '–' : `${seconds(r.createJobsMs)} → ${seconds(r.grantedMs)}`,
    ),
    column(
      '… → every Job recorded started and active, then no reconcile for 3 s (the restart starts then)',
      (r) => seconds(r.settledMs),
    ),
    column('size started (UTC)', (r) => r.startedAt ?? '–'),
    column('1-minute load average when the size started', (r) => r.load.toFixed(2)),
  ].join('\n');
}

function chart(): string {
  const series = (name: string, value: (r: SizeResult) => number | undefined) => ({
    name,
    points: results
      .filter((r) => value(r) !== undefined)
      .map((r) => [r.references, value(r)!] as [number, number]),
  });
  const toMiB = (bytes?: number) => (bytes === undefined ? undefined : bytes / 1024 ** 2);
  const xLabel = 'SecretReferences (log scale)';
  const panels: Panel[] = [
    {
      title: 'Operator memory',
      xLabel,
      yLabel: 'MiB',
      series: [
        series('RSS, idle', (r) => toMiB(r.idleRss)),
        series(`RSS, ${jobsPerReference} active Job per reference`, (r) => toMiB(r.jobsRss)),
        series('V8 heap used, Jobs active', (r) => toMiB(r.jobsHeap?.[0])),
      ],
    },
    {
      title: 'Convergence after a restart',
      xLabel,
      yLabel: 'seconds',
      series: [
        series('converged after a restart (Jobs active)', (r) =>
          r.restartConvergenceMs === undefined ? undefined : r.restartConvergenceMs / 1000,
        ),
        series('first convergence (fresh start)', (r) =>
          r.firstConvergenceMs === undefined ? undefined : r.firstConvergenceMs / 1000,
        ),
      ],
    },
    {
      title: 'Requests at rest',
      xLabel,
      yLabel: 'requests per minute',
      series: [
        series('all (API server audit log)', (r) => r.restPerMinute),
        series('neither renewals nor watches', (r) => r.restUnexpectedPerMinute),
      ],
    },
    {
      title: 'Creating the references',
      xLabel,
      yLabel: 'seconds',
      series: [
        series(`${width} creates in flight`, (r) =>
          r.createReferencesMs === undefined ? undefined : r.createReferencesMs / 1000,
        ),
      ],
    },
  ];
  return lineChartSvg(`secretlink: cost by number of SecretReferences (${machine.startedAt})`, panels);
}

function sectionText(table: string): string {
  const stopped = results.filter((r) => r.stopped);
  return markdown([
    '## Growth: the same figures at 100, 1,000 and 10,000 references',
    `What: one environment, with kube-apiserver's audit log on for the operator's user only; for each size, in a ` +
      'namespace of its own with one AWS SecretStore on moto, the SecretReferences are created ' +
      `(${width} creates in flight) and secretlink runs as shipped: compiled (\`node dist/main.js\` with the image's Node.js ` +
      "flags, as the image runs it) with config/manager/statefulset.yaml's flags (leader election and the signed audit file on), as its " +
      'own ServiceAccount with config/rbac, watching that namespace. It converges (every reference reconciled once, ' +
      `then no reconcile for 3 s), rests ${restMinutes} min, serves ${jobsPerReference} Job per reference (Job _i_ consuming ` +
      'reference _i_, kept active by kwok) until each Job owns its Secret; once the Job controller has recorded ' +
      'every Job started with an active pod and no reconcile has run for 3 s, the operator ' +
      'is stopped and started again as the same replica (its identity, signing key and audit file), as a ' +
      "StatefulSet's pod restarts.",
    [
      '**RSS** is `VmRSS` of the operator process, 5 s after a state was reached: idle on the first process once ' +
        'converged, with Jobs on the restarted one; the V8 heap figures are its own `process.memoryUsage()` ' +
        'gauges on `/metrics`.',
      '**Converged after a restart**: from SIGTERM to the old process until the last reconcile of the new one, ' +
        'once it has reconciled every reference successfully (`secretlink_reconciles_total{result="success"}`) ' +
        'and then none for 3 s; every Job is still an owner of its Secret. The row below it splits that time: ' +
        'until the new process is ready (its caches synced), and until its reconciles have reached the number of ' +
        'references; what remains is the 3 s of quiet and any reconcile that events still bring. The ' +
        "restarted process's requests in that window (from SIGTERM, so the old process's release of its Lease too), by verb and resource, are printed on the console. " +
        'The **first convergence** runs from ' +
        'the first start to the same point: there every reference gets its finalizer and then its status, two ' +
        'writes each, unpaced by default (`--kube-qps=0`): the API server alone sets the pace.',
      "**Requests at rest** are counted on the API server's side, as in the at-rest section below: every request " +
        `of the operator's user received in a ${restMinutes}-minute window, 30 s after convergence.`,
      'The sizes of a run go one after the other in the same environment; the Jobs of a size are deleted when ' +
        'it is done, its references stay (no operator watches them any more).' +
        (machines.length > 1
          ? ` The sizes below come from ${machines.length} runs, each with its own environment, drawn together ` +
            'with `--from`; each column says when its size started.'
          : ''),
    ],
    `How: \`node bench/growth.ts --write=docs/benchmarks.md\` (options \`--sizes=${sizes.join(',')}\`, ` +
      `\`--jobs-per-reference=${jobsPerReference}\`, \`--rest-minutes=${restMinutes}\`, \`--timeout-minutes\`, ` +
      '`--record=<file>` for the raw results, `--quiet-load`). It starts and stops its own environment and writes ' +
      'the chart too. `--from=a.json,b.json` draws the table and chart from records without measuring, so one ' +
      'size can be measured again alone.',
    machines.length > 1
      ? `${describeMachine(machines[0]!).split(' Run started')[0]} Runs started ${machines.map((m) => m.startedAt).join(' and ')}.`
      : describeMachine(machines[0]!),
    table,
    ...(stopped.length
      ? [
          `Stopped early: ${stopped.map((r) => `${r.references.toLocaleString('en')} references (${r.stopped})`).join('; ')}.`,
        ]
      : []),
    '![Growth chart: memory, convergence after a restart, requests at rest and creation time by number of ' +
      'SecretReferences](benchmarks-growth.svg)',
  ]);
}
