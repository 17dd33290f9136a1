import type { V1Container, V1Job, V1PodSpec } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { JobIndex, secretNamesReferencedBy } from './job-index.ts';

const plain: V1Container = { name: 'main', image: 'busybox' };

function withContainer(
  container: Partial<V1Container>,
  where: 'containers' | 'initContainers' | 'ephemeralContainers',
) {
  const spec: V1PodSpec = { containers: [plain] };
  if (where === 'containers') spec.containers = [{ ...plain, ...container }];
  else if (where === 'initContainers') spec.initContainers = [{ ...plain, name: 'init', ...container }];
  else spec.ephemeralContainers = [{ ...plain, name: 'debug', ...container }];
  return spec;
}

const containerReferences: Array<[string, Partial<V1Container>]> = [
  [
    'env valueFrom.secretKeyRef',
    { env: [{ name: 'PASSWORD', valueFrom: { secretKeyRef: { name: 'db', key: 'pw' } } }] },
  ],
  ['envFrom secretRef', { envFrom: [{ secretRef: { name: 'db' } }] }],
];

describe('secretNamesReferencedBy', () => {
  const cases: Array<[string, V1PodSpec]> = [
    ['a secret volume', { containers: [plain], volumes: [{ name: 'creds', secret: { secretName: 'db' } }] }],
    [
      'a projected volume source',
      {
        containers: [plain],
        volumes: [
          {
            name: 'bundle',
            projected: { sources: [{ configMap: { name: 'settings' } }, { secret: { name: 'db' } }] },
          },
        ],
      },
    ],
    ...(['containers', 'initContainers', 'ephemeralContainers'] as const).flatMap((where) =>
      containerReferences.map(([kind, container]): [string, V1PodSpec] => [
        `${kind} in ${where}`,
        withContainer(container, where),
      ]),
    ),
  ];

  it.each(cases)('finds a Secret referred to by %s', (_kind, spec) => {
    expect(secretNamesReferencedBy(spec)).toEqual(new Set(['db']));
  });

  it('does not count imagePullSecrets as using a Secret', () => {
    expect(
      secretNamesReferencedBy({ containers: [plain], imagePullSecrets: [{ name: 'registry' }] }),
    ).toEqual(new Set());
  });

  it('ignores ConfigMaps and plain values that sit where Secrets could', () => {
    const spec: V1PodSpec = {
      containers: [
        {
          ...plain,
          env: [
            { name: 'A', value: 'db' },
            { name: 'B', valueFrom: { configMapKeyRef: { name: 'db', key: 'k' } } },
          ],
          envFrom: [{ configMapRef: { name: 'db' } }],
        },
      ],
      volumes: [
        { name: 'c', configMap: { name: 'db' } },
        { name: 'scratch', emptyDir: {} },
      ],
    };
    expect(secretNamesReferencedBy(spec)).toEqual(new Set());
  });

  it('collects every Secret across all kinds of reference, once each', () => {
    const spec: V1PodSpec = {
      containers: [{ ...plain, envFrom: [{ secretRef: { name: 'a' } }, { secretRef: { name: 'b' } }] }],
      initContainers: [
        {
          ...plain,
          name: 'init',
          env: [{ name: 'X', valueFrom: { secretKeyRef: { name: 'a', key: 'k' } } }],
        },
      ],
      volumes: [{ name: 'v', secret: { secretName: 'c' } }],
    };
    expect(secretNamesReferencedBy(spec)).toEqual(new Set(['a', 'b', 'c']));
  });

  it('returns nothing for a missing pod spec', () => {
    expect(secretNamesReferencedBy(undefined)).toEqual(new Set());
  });
});

function job(namespace: string, name: string, secretNames: string[]): V1Job {
  return {
    metadata: { namespace, name },
    spec: {
      template: {
        spec: {
          restartPolicy: 'Never',
          containers: [
            { ...plain, envFrom: secretNames.map((secretName) => ({ secretRef: { name: secretName } })) },
          ],
        },
      },
    },
  };
}

const names = (jobs: V1Job[]) => jobs.map((item) => item.metadata?.name).sort();

describe('JobIndex', () => {
  it('finds the Jobs that refer to a Secret, only in the Secret’s namespace', () => {
    const index = new JobIndex();
    index.upsert(job('etl', 'load-orders', ['warehouse', 'crm']));
    index.upsert(job('etl', 'load-users', ['warehouse']));
    index.upsert(job('other', 'load-orders', ['warehouse']));
    index.upsert(job('etl', 'no-secrets', []));

    expect(names(index.jobsReferencing('etl', 'warehouse'))).toEqual(['load-orders', 'load-users']);
    expect(names(index.jobsReferencing('etl', 'crm'))).toEqual(['load-orders']);
    expect(names(index.jobsReferencing('other', 'warehouse'))).toEqual(['load-orders']);
    expect(index.jobsReferencing('etl', 'unknown')).toEqual([]);
    expect(index.size).toBe(3);
  });

  it('moves a Job when an update changes the Secrets it refers to, and reports both old and new', () => {
    const index = new JobIndex();
    index.upsert(job('etl', 'load', ['old']));
    const touched = index.upsert(job('etl', 'load', ['new']));

    expect(touched).toEqual(new Set(['old', 'new']));
    expect(index.jobsReferencing('etl', 'old')).toEqual([]);
    expect(names(index.jobsReferencing('etl', 'new'))).toEqual(['load']);
  });

  it('returns the latest version of an updated Job', () => {
    const index = new JobIndex();
    index.upsert(job('etl', 'load', ['db']));
    const updated = { ...job('etl', 'load', ['db']), status: { active: 1 } };
    index.upsert(updated);
    expect(index.jobsReferencing('etl', 'db')).toEqual([updated]);
  });

  it('wakes nobody for an update that changes nothing deciding entitlement, and the Secrets for one that does', () => {
    const index = new JobIndex();
    const created = job('etl', 'load', ['db']);
    expect(index.upsert(created)).toEqual(new Set(['db']));
    // A pod became active, then ready: the Job's consumers need no other look.
    expect(index.upsert({ ...created, status: { active: 1 } })).toEqual(new Set());
    expect(index.upsert({ ...created, status: { active: 1, ready: 1 } })).toEqual(new Set());
    // It started (its ttl now runs from its start time), then completed.
    const started = { ...created, status: { active: 1, startTime: new Date('2026-11-23T10:00:00Z') } };
    expect(index.upsert(started)).toEqual(new Set(['db']));
    const completed = {
      ...created,
      status: { ...started.status, conditions: [{ type: 'Complete', status: 'True' }] },
    };
    expect(index.upsert(completed)).toEqual(new Set(['db']));
    // Relabelled by hand: consumers may now judge it differently.
    const relabelled = {
      ...completed,
      spec: { template: { ...completed.spec!.template, metadata: { labels: { app: 'other' } } } },
    };
    expect(index.upsert(relabelled)).toEqual(new Set(['db']));
  });

  it('forgets a deleted Job and reports the Secrets it referred to', () => {
    const index = new JobIndex();
    index.upsert(job('etl', 'load', ['db', 'api']));
    index.upsert(job('etl', 'other', ['db']));

    expect(index.remove(job('etl', 'load', []))).toEqual(new Set(['db', 'api']));
    expect(names(index.jobsReferencing('etl', 'db'))).toEqual(['other']);
    expect(index.jobsReferencing('etl', 'api')).toEqual([]);
    expect(index.remove(job('etl', 'never-seen', []))).toEqual(new Set());
  });
});
