// Work at rest: secretlink as shipped, converged on many SecretReferences with no Job and nothing changing,
// then left alone for a window. Its requests are counted on the API server's side, from kube-apiserver's audit
// log (a policy that logs only the operator's ServiceAccount), by verb and resource, and sorted into Lease
// renewals, watches started again, and everything else. Store calls are counted on moto's side (its request
// log) and by the operator's own metric.
// Usage: node bench/at-rest.ts [--references=1000] [--minutes=10] [--settle=30] [--write=docs/benchmarks.md]

import { rmSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { startEnvironment } from '../test/env/environment.ts';
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
  createReferences,
  createRemoteSecrets,
  createSceneNamespace,
  referencesWithCondition,
  sceneClients,
  waitForConvergence,
} from './reference-scene.ts';
import {
  argument,
  describeMachine,
  machineNow,
  markdown,
  numberArgument,
  waitForQuietMachine,
  writeSection,
} from './report.ts';
import {
  metricSum,
  prepareOperatorIdentity,
  type ShippedOperator,
  startShippedOperator,
} from './shipped-operator.ts';
import { sleep } from './wait.ts';

const referenceCount = numberArgument('references', 1000);
const minutes = numberArgument('minutes', 10);
/** Seconds between convergence and the window: status writes and Events of the last reconciles land first. */
const settleSeconds = numberArgument('settle', 30);
const remoteCount = Math.min(100, referenceCount);
const reportFile = argument('write', '');
const namespace = 'bench';
const progress = consoleProgress('[bench]');
const root = path.resolve(import.meta.dirname, '..');
const kindName: Record<string, string> = { renewal: 'renewal', watch: 'watch', unexpected: '**unexpected**' };

await waitForQuietMachine(progress.note);
const machine = machineNow();
const scratch = await mkdtemp(path.join(os.tmpdir(), 'secretlink-bench-at-rest-'));
process.once('exit', () => rmSync(scratch, { recursive: true, force: true }));
// Interrupted, it exits through 'exit' (the operator is killed, the scratch folder removed); the environment's
// reaper stops the servers.
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));
const environment = await startEnvironment(progress, {
  apiServerAuditPolicy: operatorAuditPolicy(operatorUsername),
});
let operator: ShippedOperator | undefined;
let requests: ApiRequest[] = [];
let window = { from: 0, to: 0 };
let creatingMs = 0;
let convergedMs = 0;
const storeCalls = { moto: 0, metric: 0 };
let loadDuring: number[] = [];
try {
  const { info } = environment;
  const auditLog = info.apiServerAuditLog;
  if (!auditLog) throw new Error('the API server was started without an audit log');
  const kubeConfig = new k8s.KubeConfig();
  kubeConfig.loadFromFile(info.kubeconfig);
  const clients = sceneClients(kubeConfig);
  await installCrds(info);
  await clients.core.createNamespace({ body: { metadata: { name: operatorNamespace } } });
  await createSceneNamespace(info, clients, namespace);
  await createRemoteSecrets(info, remoteCount);
  progress.step(`creating ${referenceCount} SecretReferences, 32 at a time`);
  creatingMs = await createReferences(clients.custom, namespace, {
    from: 0,
    to: referenceCount,
    remotes: remoteCount,
    width: 32,
  });
  progress.note(`created in ${(creatingMs / 1000).toFixed(1)} s`);

  const kubeconfig = await prepareOperatorIdentity(info, scratch);
  const started = Date.now();
  operator = await startShippedOperator({
    main: path.join(root, 'src', 'main.ts'),
    kubeconfig,
    namespace,
    dir: scratch,
    id: 'at-rest',
  });
  await operator.waitReady();
  convergedMs = (await waitForConvergence(operator.metrics, referenceCount, 1_800_000)).quietAt - started;
  const ready = await referencesWithCondition(clients.custom, namespace);
  if (ready < referenceCount) throw new Error(`only ${ready} of ${referenceCount} references report Ready`);
  progress.note(
    `converged ${(convergedMs / 1000).toFixed(1)} s after the start; settling ${settleSeconds} s`,
  );
  await sleep(settleSeconds * 1000);

  const motoLog = path.join(info.runDir, 'logs', 'moto.log');
  const motoBefore = await motoRequests(motoLog);
  const metricBefore = metricSum(await operator.metrics(), 'secretlink_provider_calls_total');
  window = { from: Date.now(), to: 0 };
  progress.step(`at rest for ${minutes} min`);
  loadDuring = [os.loadavg()[0] ?? 0];
  for (let minute = 1; minute <= minutes; minute++) {
    await sleep(60_000);
    loadDuring.push(os.loadavg()[0] ?? 0);
    progress.note(`${minute} / ${minutes} min`);
  }
  window.to = Date.now();
  storeCalls.moto = (await motoRequests(motoLog)) - motoBefore;
  storeCalls.metric = metricSum(await operator.metrics(), 'secretlink_provider_calls_total') - metricBefore;
  // Blocking audit mode: a request's received event is written before it is served, so nothing is still due.
  requests = await readApiRequests(auditLog, window.from, window.to);
} finally {
  await operator?.stop();
  await environment.stop();
  await rm(scratch, { recursive: true, force: true });
}

const text = sectionText();
console.log(text);
if (reportFile) {
  await writeSection(reportFile, 'at-rest', text);
  progress.step(`wrote the at-rest section of ${reportFile}`);
}

/** Requests in moto's log (one line per HTTP request, as its server logs them). */
async function motoRequests(file: string): Promise<number> {
  const log = await readFile(file, 'utf8').catch(() => '');
  return log.split('\n').filter((line) => /"(GET|POST|PUT|DELETE|HEAD) \//.test(line)).length;
}

function sectionText(): string {
  const windowMinutes = (window.to - window.from) / 60_000;
  const counts = countRequests(requests);
  const total = (kind: string) => counts.filter((c) => c.kind === kind).reduce((sum, c) => sum + c.count, 0);
  const unexpected = requests.filter((request) => classify(request) === 'unexpected');
  const perMinute = (n: number) => (n / windowMinutes).toFixed(2);
  const table = [
    '| kind | verb | resource | requests | per minute | answered with an error |',
    '| --- | --- | --- | ---: | ---: | ---: |',
    ...counts.map(
      (c) =>
        `| ${kindName[c.kind]} | ${c.verb} | \`${c.resource}\` | ${c.count} | ${perMinute(c.count)} | ${c.failed} |`,
    ),
    `| **all** | | | **${requests.length}** | **${perMinute(requests.length)}** | ${counts.reduce((sum, c) => sum + c.failed, 0)} |`,
  ].join('\n');
  const stores = [
    '| store calls in the window | count |',
    '| --- | ---: |',
    `| requests in moto's log | ${storeCalls.moto} |`,
    `| \`secretlink_provider_calls_total\` increase | ${storeCalls.metric} |`,
  ].join('\n');
  const unexpectedList = unexpected.length
    ? [
        '| at (s into the window) | verb | request URI | status |',
        '| ---: | --- | --- | ---: |',
        ...unexpected
          .slice(0, 30)
          .map(
            (r) =>
              `| ${((r.at - window.from) / 1000).toFixed(1)} | ${r.verb} | \`${r.uri}\` | ${r.code || '–'} |`,
          ),
      ].join('\n')
    : '';
  return markdown([
    '## At rest: requests with nothing to do',
    `What: secretlink as shipped (\`node src/main.ts\` with config/manager/statefulset.yaml's flags: leader ` +
      'election on, the signed audit file on, every other flag at its default) acting as its own ServiceAccount ' +
      'with config/rbac, watching one namespace with one AWS SecretStore on moto and ' +
      `${referenceCount} SecretReferences (created ${32} at a time in ${(creatingMs / 1000).toFixed(1)} s), no ` +
      `Job. Once converged (every reference reconciled successfully once, then no reconcile for 3 s; ` +
      `${(convergedMs / 1000).toFixed(1)} s after the start) and ${settleSeconds} s more, nothing changes for ` +
      `${windowMinutes.toFixed(1)} minutes, and the operator's requests in that window are counted.`,
    [
      "**Counted on the API server's side**: kube-apiserver runs with an audit policy that logs only the " +
        `operator's user (\`${operatorUsername}\`) at Metadata level (no bodies), one event when a request is ` +
        'received and one when it is done; a request counts in the window if the API server received it there.',
      '**Renewal**: get or update of a Lease (leader election renewing its Lease every few seconds). ' +
        '**Watch**: an informer starting its watch again after the API server ended the last one (the operator ' +
        "asks for a 20–28 s timeout, under the client's 30 s idle limit). Anything else is **unexpected** at rest.",
      "**Store calls** are counted on moto's side (lines of its request log) and by the operator's own " +
        '`secretlink_provider_calls_total`.',
    ],
    `How: \`node bench/at-rest.ts --write=docs/benchmarks.md\` (options \`--references\`, \`--minutes\`, ` +
      '`--settle` seconds, `--quiet-load`). It starts its own environment, with the audit log on, and stops it.',
    `${describeMachine(machine)} 1-minute load average during the window: ${Math.min(...loadDuring).toFixed(2)} ` +
      `to ${Math.max(...loadDuring).toFixed(2)}.`,
    table,
    `Renewals ${total('renewal')}, watches ${total('watch')}, unexpected **${total('unexpected')}**.`,
    ...(unexpectedList ? ['Unexpected requests (first 30):', unexpectedList] : []),
    stores,
  ]);
}
