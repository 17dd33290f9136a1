// The Event audit sink against the real API server: what `kubectl describe secretreference` and
// `kubectl events` show after an access decision.
import { randomBytes } from 'node:crypto';
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubernetesEventSink, reportingController } from '../../src/audit/event-sink.ts';
import type { AuditRecord } from '../../src/audit/types.ts';
import { api, createNamespace, deleteNamespace, eventually, kubectl } from '../support/cluster.ts';
import { installCrds } from '../support/operator.ts';

let namespace: string;
let reference: { name: string; uid: string };
let job: { name: string; uid: string };

beforeAll(async () => {
  await installCrds();
  namespace = await createNamespace('audit-events');
  const created = (await api(k8s.CustomObjectsApi).createNamespacedCustomObject({
    group: 'secretlink.dev',
    version: 'v1alpha1',
    plural: 'secretreferences',
    namespace,
    body: {
      apiVersion: 'secretlink.dev/v1alpha1',
      kind: 'SecretReference',
      metadata: { name: 'warehouse' },
      spec: {
        storeRef: { name: 'aws' },
        data: [{ key: 'password', remote: { name: 'warehouse/loader' } }],
        target: { name: 'warehouse-credentials' },
        consumers: { matchLabels: { 'app.kubernetes.io/name': 'meltano' } },
      },
    },
  })) as { metadata: { name: string; uid: string } };
  reference = created.metadata;
  const createdJob = await api(k8s.BatchV1Api).createNamespacedJob({
    namespace,
    body: {
      metadata: { name: 'nightly-load' },
      spec: {
        suspend: true,
        template: {
          metadata: { labels: { 'app.kubernetes.io/name': 'meltano' } },
          spec: { restartPolicy: 'Never', containers: [{ name: 'main', image: 'busybox' }] },
        },
      },
    },
  });
  job = { name: createdJob.metadata!.name!, uid: createdJob.metadata!.uid! };
});

afterAll(async () => {
  await deleteNamespace(namespace);
});

function record(overrides: Partial<AuditRecord>): AuditRecord {
  return {
    id: randomBytes(16).toString('hex'),
    time: new Date().toISOString(),
    action: 'Materialized',
    reference: { namespace, name: reference.name, uid: reference.uid },
    store: { kind: 'SecretStore', name: 'aws', provider: 'aws' },
    remotes: [{ name: 'warehouse/loader', version: 'v3' }],
    targetSecret: { namespace, name: 'warehouse-credentials' },
    job: { namespace, name: job.name, uid: job.uid },
    reason: 'SecretCreated',
    message: `Secret warehouse-credentials made available to Job ${job.name} until 2030-01-01T00:00:00Z.`,
    ...overrides,
  };
}

async function eventsWithReason(reason: string): Promise<k8s.EventsV1Event[] | undefined> {
  const events = await api(k8s.EventsV1Api).listNamespacedEvent({
    namespace,
    fieldSelector: `regarding.name=${reference.name},reason=${reason}`,
  });
  return events.items.length > 0 ? events.items : undefined;
}

describe('the Kubernetes Event audit sink', () => {
  it('creates a Normal Event regarding the SecretReference and related to the Job', async () => {
    const sink = new KubernetesEventSink(api(k8s.EventsV1Api), 'secretlink-7f9c-abcde');
    await sink.write(record({}));
    const [event] = await eventually('the Materialized Event', () => eventsWithReason('Materialized'));
    expect(event).toMatchObject({
      type: 'Normal',
      reason: 'Materialized',
      action: 'WriteSecret',
      note: `Secret warehouse-credentials made available to Job ${job.name} until 2030-01-01T00:00:00Z.`,
      regarding: {
        apiVersion: 'secretlink.dev/v1alpha1',
        kind: 'SecretReference',
        namespace,
        name: reference.name,
        uid: reference.uid,
      },
      related: { apiVersion: 'batch/v1', kind: 'Job', namespace, name: job.name, uid: job.uid },
      reportingController,
      reportingInstance: 'secretlink-7f9c-abcde',
    });
    expect(event!.eventTime).toBeDefined();
  });

  it('shows a refusal as a Warning in `kubectl describe secretreference`', async () => {
    const sink = new KubernetesEventSink(api(k8s.EventsV1Api), 'secretlink-7f9c-abcde');
    await sink.write(
      record({
        action: 'Refused',
        remotes: [],
        reason: 'ConsumersMismatch',
        message: `Job ${job.name} refers to Secret warehouse-credentials but was refused: pod template label tier is not "batch".`,
      }),
    );
    const output = await eventually('the refusal in kubectl describe', async () => {
      const { stdout } = await kubectl('-n', namespace, 'describe', 'secretreference', reference.name);
      return stdout.includes('Refused') ? stdout : undefined;
    });
    expect(output).toMatch(/Warning\s+Refused\s+.*secretlink\.dev\/operator/);
    expect(output).toContain('pod template label tier is not "batch"');
  });

  it('shows a record emitted twice (a retry, a restart) as one Event: the repeat is AlreadyExists and done', async () => {
    const sink = new KubernetesEventSink(api(k8s.EventsV1Api), 'secretlink-7f9c-abcde');
    const revoked = record({ action: 'Revoked', reason: 'JobEnded', message: 'Job access ended.' });
    await sink.write(revoked);
    await sink.write({ ...revoked, time: new Date().toISOString() });
    const events = await eventually('the Revoked Event', () => eventsWithReason('Revoked'));
    expect(events.map((event) => event.metadata?.name)).toEqual([`${reference.name}.${revoked.id}`]);
  });

  it('is accepted by the API server with a message longer than an Event note may be', async () => {
    const sink = new KubernetesEventSink(api(k8s.EventsV1Api), 'secretlink-7f9c-abcde');
    await sink.write(
      record({ action: 'Failed', job: undefined, reason: 'Unavailable', message: 'x'.repeat(5000) }),
    );
    const [event] = await eventually('the Failed Event', () => eventsWithReason('Failed'));
    expect(event).toMatchObject({ type: 'Warning', action: 'ResolveSecret' });
    expect(Buffer.byteLength(event!.note!)).toBeLessThanOrEqual(1024);
    expect(event!.related).toBeUndefined();
  });
});
