// Random SecretReference, SecretStore and Job manifests for the fuzz run (test/integration/fuzz.test.ts), all
// drawn from one seeded generator so a failing run replays exactly. They are hostile on purpose: odd names,
// keys and remote names, selectors in every operator (and some the schema refuses), durations out of range,
// stores that point nowhere, Jobs that refer to targets in every way a pod can or not at all.
import type * as k8s from '@kubernetes/client-node';

export type Draw = () => number;

export const pick = <T>(random: Draw, items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
export const chance = (random: Draw, p: number) => random() < p;
const count = (random: Draw, max: number) => Math.floor(random() * (max + 1));

/**
 * How often a field of a hostile manifest is hostile. Most manifests (plausibleShare) have no hostile field, so
 * they are accepted and reach the operator; the rest probe the schema.
 */
const hostileRate = 0.25;
const plausibleShare = 0.7;
const labelKeys = ['app', 'tier', 'team'] as const;
const labelValues = ['etl', 'dbt', 'x'] as const;
const hostile = [
  '',
  '.',
  '..',
  '../etc/passwd',
  'a/b/c',
  'name with spaces',
  'émoji-🔑',
  '%00',
  'x'.repeat(300),
  'UPPER',
  '-leading',
  'trailing-',
  'a.b',
  '__proto__',
  'constructor',
  '$(whoami)',
  '{{ .Values }}',
  'line\nbreak',
];

/** A name the API server accepts for an object most of the time, and sometimes one it refuses. */
export function objectName(
  random: Draw,
  prefix: string,
  pool: readonly string[],
  rate = hostileRate,
): string {
  if (pool.length > 0 && chance(random, 0.5)) return pick(random, pool);
  if (chance(random, rate)) return pick(random, hostile);
  return `${prefix}-${Math.floor(random() * 1_000)}`;
}

export interface Selector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
  serviceAccountNames?: string[];
}

export function selector(random: Draw, rate = hostileRate): Selector {
  const result: Selector = {};
  if (chance(random, 0.7)) {
    result.matchLabels = {};
    for (let i = 0; i < 1 + count(random, 1); i++)
      result.matchLabels[pick(random, labelKeys)] = pick(random, labelValues);
  }
  if (chance(random, 0.4)) {
    result.matchExpressions = Array.from({ length: 1 + count(random, 1) }, () => {
      const operator = chance(random, rate)
        ? 'Matches'
        : pick(random, ['In', 'NotIn', 'Exists', 'DoesNotExist'] as const);
      const withValues = operator === 'In' || operator === 'NotIn' || chance(random, rate);
      const values = labelValues.filter(() => chance(random, 0.5));
      if (values.length === 0 && !chance(random, rate)) values.push(pick(random, labelValues));
      return { key: pick(random, labelKeys), operator, ...(withValues ? { values } : {}) };
    });
  }
  if (chance(random, 0.15)) {
    result.serviceAccountNames = [chance(random, rate) ? 'Bad_Name' : pick(random, ['default', 'loader'])];
  }
  // An empty selector would match every Job; the schema refuses it, and so it is sent only now and then.
  if (!result.matchLabels && !result.matchExpressions && !chance(random, rate)) {
    result.matchLabels = { app: pick(random, labelValues) };
  }
  return result;
}

/** Whether a Job's pod labels and ServiceAccount satisfy `consumers`, as a label selector means it. */
export function matches(
  consumers: Selector,
  labels: Record<string, string>,
  serviceAccount: string,
): boolean {
  const labelsMatch = Object.entries(consumers.matchLabels ?? {}).every(
    ([key, value]) => labels[key] === value,
  );
  const expressionsMatch = (consumers.matchExpressions ?? []).every(({ key, operator, values = [] }) => {
    switch (operator) {
      case 'In':
        return key in labels && values.includes(labels[key]!);
      case 'NotIn':
        return !(key in labels && values.includes(labels[key]!));
      case 'Exists':
        return key in labels;
      case 'DoesNotExist':
        return !(key in labels);
      default:
        return false;
    }
  });
  const accounts = consumers.serviceAccountNames ?? [];
  return labelsMatch && expressionsMatch && (accounts.length === 0 || accounts.includes(serviceAccount));
}

const durations = ['1m', '90s', '2h', '1h30m', '10m'];
const badDurations = ['30s', '25h', 'forever', '0s', '-1m'];
const duration = (random: Draw, rate: number) =>
  chance(random, rate) ? pick(random, badDurations) : pick(random, durations);

export function referenceSpec(
  random: Draw,
  options: { stores: readonly string[]; remotes: readonly string[]; targets: readonly string[] },
): Record<string, unknown> {
  const rate = chance(random, plausibleShare) ? 0 : hostileRate;
  // A remote and a property that fit each other most of the time (a property of the JSON one, none of the
  // plain one), so that values resolve; otherwise anything.
  const remote = () => {
    const name = chance(random, rate) ? pick(random, hostile) : pick(random, options.remotes);
    const fits = chance(random, 0.75);
    const property = fits
      ? name.endsWith('/json') && chance(random, 0.8)
        ? pick(random, ['password', 'user', 'nested.a'])
        : undefined
      : pick(random, ['password', 'missing', '[0]', 'nested', '']);
    return {
      name,
      ...(property === undefined ? {} : { property }),
      ...(chance(random, rate)
        ? { version: pick(random, ['AWSCURRENT', 'AWSPREVIOUS', 'v-none', '1']) }
        : {}),
    };
  };
  const spec: Record<string, unknown> = {
    // The first store is the one that works; it is named most of the time.
    storeRef: chance(random, rate)
      ? { kind: pick(random, ['ClusterSecretStore', 'Other']), name: pick(random, options.stores) }
      : { name: chance(random, 0.6) ? options.stores[0] : pick(random, options.stores) },
    consumers: selector(random, rate),
  };
  const withData = chance(random, 0.85);
  if (withData) {
    spec.data = Array.from({ length: 1 + count(random, 2) }, () => ({
      key: chance(random, rate)
        ? pick(random, hostile)
        : pick(random, ['password', 'user', 'token', 'DB_URL']),
      remote: remote(),
      ...(chance(random, rate) ? { decoding: pick(random, ['none', 'base64', 'auto', 'rot13']) } : {}),
    }));
  }
  if (chance(random, 0.3) || (!withData && !chance(random, rate))) {
    spec.dataFrom = [
      {
        remote: remote(),
        ...(chance(random, rate)
          ? {
              rewrite: [
                pick(random, [
                  { prefix: 'TAP_' },
                  { case: 'upper' },
                  { regexp: { source: '(a+)+$', target: 'x' } },
                  { regexp: { source: '^(.*)$', target: 'k_$1' } },
                  { prefix: 'bad prefix' },
                ]),
              ],
            }
          : {}),
      },
    ];
  }
  if (chance(random, 0.5)) spec.target = { name: objectName(random, 'target', options.targets, rate) };
  if (chance(random, 0.3)) spec.ttl = duration(random, rate);
  if (chance(random, 0.3)) spec.refreshInterval = duration(random, rate);
  return spec;
}

/** A store on the environment's moto, or one that points nowhere useful. */
export function storeSpec(random: Draw, motoEndpoint: string): Record<string, unknown> {
  const awsAuth = {
    secretRef: {
      accessKeyId: { name: pick(random, ['aws-credentials', 'missing']), key: 'id' },
      secretAccessKey: { name: 'aws-credentials', key: pick(random, ['secret', 'nope']) },
    },
  };
  return pick(random, [
    { provider: { aws: { region: 'us-east-1', endpoint: motoEndpoint, auth: awsAuth } } },
    { provider: { aws: { region: 'us-east-1', endpoint: 'http://127.0.0.1:1', auth: awsAuth } } },
    { provider: { aws: { region: 'mars-1', endpoint: 'http://169.254.169.254', auth: awsAuth } } },
    { provider: { aws: { region: 'us-east-1', auth: { defaultChain: {} } } } },
    {
      provider: {
        vault: { server: 'http://127.0.0.1:1', auth: { tokenSecretRef: { name: 'missing', key: 'token' } } },
      },
    },
    { provider: { gcp: { projectID: 'p', endpoint: 'not a host', auth: { applicationDefault: {} } } } },
    { provider: {} },
  ]);
}

export interface FuzzJob {
  name: string;
  labels: Record<string, string>;
  serviceAccount: string;
  /** The Secret names its pod template refers to. */
  refersTo: string[];
  body: k8s.V1Job;
}

/** A target Secret name, and the consumers of a reference that names it (when the Job should aim to match). */
export interface JobTarget {
  name: string;
  consumers?: Selector;
}

export function jobManifest(random: Draw, name: string, targets: readonly JobTarget[]): FuzzJob {
  const target = chance(random, 0.9) && targets.length > 0 ? pick(random, targets) : { name: 'unrelated' };
  const labels: Record<string, string> = {};
  for (const key of labelKeys) if (chance(random, 0.5)) labels[key] = pick(random, labelValues);
  // Most Jobs carry the labels their reference asks for (its expressions may still refuse them).
  if (target.consumers && chance(random, 0.7)) Object.assign(labels, target.consumers.matchLabels ?? {});
  const serviceAccount = chance(random, 0.85) ? 'default' : 'loader';
  const refersTo = [target.name];
  const secret = target.name;
  const way = pick(random, ['envFrom', 'env', 'volume', 'projected', 'init'] as const);
  const container: k8s.V1Container = { name: 'etl', image: 'busybox:1.36' };
  const spec: k8s.V1PodSpec = {
    restartPolicy: 'Never',
    containers: [container],
    serviceAccountName: serviceAccount,
  };
  if (way === 'envFrom') container.envFrom = [{ secretRef: { name: secret } }];
  if (way === 'env')
    container.env = [{ name: 'V', valueFrom: { secretKeyRef: { name: secret, key: 'password' } } }];
  if (way === 'volume') spec.volumes = [{ name: 's', secret: { secretName: secret } }];
  if (way === 'projected')
    spec.volumes = [{ name: 's', projected: { sources: [{ secret: { name: secret } }] } }];
  if (way === 'init')
    spec.initContainers = [{ ...container, name: 'init', envFrom: [{ secretRef: { name: secret } }] }];
  const body: k8s.V1Job = {
    metadata: { name },
    spec: {
      backoffLimit: 0,
      suspend: chance(random, 0.1),
      template: {
        metadata: {
          labels,
          annotations: { 'secretlink.dev/simulated-run-time': pick(random, ['1s', '3s', '6s', '12s']) },
        },
        spec,
      },
    },
  };
  return { name, labels, serviceAccount, refersTo, body };
}
