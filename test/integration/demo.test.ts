// `make run` as a user meets it, and the operator as its container runs it: `node src/main.ts` in its own
// process, with its probe server, its audit file and the fingerprint key it creates. A Job started from the
// demo's CronJob gets the warehouse credential and loses it when it ends.
import { createPublicKey } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyAuditFile } from '../../src/audit/verify.ts';
import { type Demo, demoNamespace, startDemo, startFirstRun } from '../env/demo.ts';
import { type Narrator, startNarrator } from '../env/narrator.ts';
import { consoleProgress } from '../env/progress.ts';
import { api, environment, eventually, kubectl, readSecretIfPresent } from '../support/cluster.ts';

let demo: Demo;
let narrator: Narrator;
/** What the demo's terminal shows, line by line. */
const narration: string[] = [];

beforeAll(async () => {
  demo = await startDemo(environment(), consoleProgress('[demo]'));
  narrator = await startNarrator(
    environment(),
    { namespace: demoNamespace, secretName: 'warehouse', auditFile: demo.auditFile },
    (line) => narration.push(line),
  );
});

afterAll(async () => {
  await narrator?.stop();
  await demo?.stop();
  await api(k8s.CoreV1Api).deleteNamespace({ name: demoNamespace });
  // Other test files share the control plane and run their operators as the admin, whom the policies
  // would hold to what anyone but the operator may do: leave it without them, as it was found.
  await kubectl('delete', '--ignore-not-found', '-k', 'config/admission');
});

const readSecret = (name: string) => readSecretIfPresent(demoNamespace, name);

async function auditActions(): Promise<string[]> {
  const lines = (await readFile(demo.auditFile, 'utf8')).split('\n').filter(Boolean);
  return lines.flatMap((line) => (JSON.parse(line) as { action?: string }).action ?? []);
}

describe('make run', () => {
  it('serves a Job started from the CronJob, then revokes its Secret, all in the audit file', async () => {
    const batch = api(k8s.BatchV1Api);
    const cronJob = await batch.readNamespacedCronJob({ name: 'nightly-dbt', namespace: demoNamespace });
    const template = cronJob.spec!.jobTemplate.spec!;
    // What `kubectl create job --from=cronjob/nightly-dbt` does, with a shorter simulated run.
    template.template.metadata!.annotations = { 'secretlink.dev/simulated-run-time': '3s' };
    await batch.createNamespacedJob({
      namespace: demoNamespace,
      body: { metadata: { name: 'now' }, spec: template },
    });

    const secret = await eventually('the warehouse Secret', () => readSecret('warehouse'));
    expect(Buffer.from(secret.data?.DBT_USER ?? '', 'base64').toString()).toBe('dbt_loader');
    await eventually('the warehouse Secret to be revoked', async () =>
      (await readSecret('warehouse')) ? undefined : true,
    );

    await eventually('both records in the audit file', async () => {
      const actions = await auditActions();
      return actions.includes('Revoked') ? actions : undefined;
    });
    expect(await auditActions()).toEqual(['Materialized', 'Revoked']);

    const publicKey = createPublicKey(await readFile(demo.auditPublicKeyFile));
    expect(await verifyAuditFile(demo.auditFile, { publicKey })).toMatchObject({
      ok: true,
      records: 3,
      genesis: { chain: expect.any(String) },
    });
  });

  it('exposes metrics that count what it did and hold no value', async () => {
    const metrics = await (await fetch(`http://${demo.probeAddress}/metrics`)).text();
    expect(metrics).toMatch(/secretlink_audit_records_total\{action="Materialized"\} 1/);
    expect(metrics).not.toContain('demo-only-not-a-real-password');
  });
});

describe('the narration in the demo terminal', () => {
  const told = (pattern: RegExp) =>
    eventually(`a line matching ${pattern}`, async () => narration.find((line) => pattern.test(line)));

  it('tells the lifecycle as it happens: start, materialize with a fingerprint, pod, end, revoke, intruder', async () => {
    // A shorter simulated run than the CronJob's 30 s.
    await startFirstRun(environment(), 'narrated', '3s');
    await told(/^\d\d:\d\d:\d\d {2}Job narrated started \(from CronJob nightly-dbt\)$/);
    await told(
      /Secret warehouse materialized for Job narrated from SecretStore aws \(analytics\/warehouse version [^)]*, fingerprint hmac-sha256:[0-9a-f]{16}…\)/,
    );
    await told(/pod narrated-\w+ of Job narrated is running with Secret warehouse \(envFrom\)/);
    await told(/Job narrated completed/);
    await told(/Secret warehouse revoked: Job narrated no longer needs it \(JobEnded\)/);
    // Tried once, on the first materialization of the run.
    expect(await told(/intruder pod/)).toMatch(
      /an intruder pod that mounts Secret warehouse was refused by the API server: .*secretlink-job-pods-only/,
    );
  });

  it('never shows a value', () => {
    const lines = narration.join('\n');
    expect(lines).not.toContain('demo-only-not-a-real-password');
    expect(lines).not.toContain('dbt_loader');
  });
});
