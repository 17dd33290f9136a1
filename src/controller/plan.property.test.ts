// Property tests of the plan: for random Jobs, Secrets, pods, neighbouring references and clocks, the product
// invariants the plan decides hold, carrying out a plan and planning again asks for nothing more, and hostile
// specs never make it throw. The seed is fixed (override with FC_SEED) and fast-check prints it, with the
// path to the failing case, when a property fails, so every failure can be replayed.
import type { V1Job, V1Secret } from '@kubernetes/client-node';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidDurationError, parseDuration } from '../api/duration.ts';
import type { SecretReference } from '../api/types.ts';
import { isJobActive, isJobSuspended, judgeConsumer } from './consumers.ts';
import { buildSecret, isManagedFor, managedAnnotations } from './managed-secret.ts';
import {
  expiryGraceMs,
  type NeighbourReference,
  type Plan,
  type PlanInput,
  planReference,
  type ReferenceFacts,
  type StoreState,
} from './plan.ts';
import { type PodUse, secretNamesUsedByPod } from './pod-index.ts';
import { referenceFacts } from './reference-facts.ts';
import { nextStatus } from './status.ts';

const seed = Number(process.env.FC_SEED ?? 20261130);
const settings = { seed, numRuns: 300 };

const minute = 60_000;
const hour = 60 * minute;
const namespace = 'etl';
const referenceName = 'warehouse';
/** Secret names Jobs may mount; the reference's target is one of the first two. */
const names = ['t-a', 't-b', 't-c'] as const;
const writes = ['create', 'rewrite', 'refresh', 'update-owners', 'keep'];

type JobState = 'active' | 'suspended' | 'complete' | 'failed' | 'deleting' | 'not-started';

interface JobSketch {
  matches: boolean;
  state: JobState;
  startedAgoMs: number;
  /** When set, the Job started this long after ttl ago instead: right at the edge of its entitlement. */
  nearTtlMs?: number;
  mounts: string[];
  serviceAccount?: string;
}

const jobSketch: fc.Arbitrary<JobSketch> = fc.record({
  matches: fc.boolean(),
  state: fc.constantFrom<JobState>(
    'active',
    'active',
    'suspended',
    'complete',
    'failed',
    'deleting',
    'not-started',
  ),
  // Negative: a start time edited into the future.
  startedAgoMs: fc.integer({ min: -10 * minute, max: 26 * hour }),
  nearTtlMs: fc.option(fc.integer({ min: -2, max: 2 }), { nil: undefined, freq: 2 }),
  mounts: fc.subarray([...names]),
  serviceAccount: fc.constantFrom(undefined, 'etl', 'intruder'),
});

function jobOf(sketch: JobSketch, index: number, now: number, ttlMs: number): V1Job {
  const agoMs = sketch.nearTtlMs === undefined ? sketch.startedAgoMs : ttlMs - sketch.nearTtlMs;
  const started = new Date(now - agoMs);
  const finished = { complete: 'Complete', failed: 'Failed' } as Record<string, string>;
  return {
    metadata: {
      name: `job-${index}`,
      namespace,
      uid: `uid-job-${index}`,
      ...(sketch.state === 'deleting' ? { deletionTimestamp: new Date(now) } : {}),
    },
    spec: {
      suspend: sketch.state === 'suspended',
      template: {
        metadata: { labels: { app: sketch.matches ? 'dbt' : 'other' } },
        spec: {
          serviceAccountName: sketch.serviceAccount,
          containers: [],
          volumes: sketch.mounts.map((name) => ({ name, secret: { secretName: name } })),
        },
      },
    },
    status: {
      startTime: sketch.state === 'not-started' || sketch.state === 'suspended' ? undefined : started,
      conditions: finished[sketch.state] ? [{ type: finished[sketch.state]!, status: 'True' }] : [],
    },
  };
}

type SecretKind = 'absent' | 'managed' | 'foreign' | 'forged';
type Record_ = 'none' | 'claim' | 'created' | 'renamed-claim' | 'renamed-created';

interface WorldSketch {
  now: number;
  target: string;
  deleting: boolean;
  kubeSystem: boolean;
  ttlMs: number;
  refreshIntervalMs: number;
  consumers: ReferenceFacts['consumers'];
  contentHash: string;
  record: Record_;
  secret: SecretKind;
  secretOwners: number[];
  secretHash: string;
  oldLabelled: boolean;
  /** A Secret retired earlier: under another name, or under the target's (renamed back before it went). */
  retired: 'none' | 'elsewhere' | 'at-target';
  jobs: JobSketch[];
  previouslyConsuming: number[];
  recordedStarts: { index: number; agoMs: number }[];
  pods: { controller?: number }[];
  neighbours: NeighbourReference[];
  olderRival: boolean;
  store: StoreState['state'];
  lastCheckAgoMs?: number;
  secretReadLive: boolean;
}

const worldSketch: fc.Arbitrary<WorldSketch> = fc.record({
  now: fc.integer({ min: Date.parse('2026-01-01T00:00:00Z'), max: Date.parse('2027-01-01T00:00:00Z') }),
  target: fc.constantFrom('t-a', 't-b'),
  deleting: fc.constantFrom(false, false, false, false, false, true),
  kubeSystem: fc.constantFrom(false, false, false, false, false, false, false, true),
  ttlMs: fc.integer({ min: minute, max: 24 * hour }),
  refreshIntervalMs: fc.integer({ min: 1_000, max: hour }),
  consumers: fc.constantFrom<ReferenceFacts['consumers']>(
    { matchLabels: { app: 'dbt' } },
    { matchLabels: { app: 'dbt' }, serviceAccountNames: ['etl'] },
    { matchExpressions: [{ key: 'app', operator: 'In', values: ['dbt', 'other'] }] },
  ),
  contentHash: fc.constantFrom('h1', 'h2'),
  record: fc.constantFrom<Record_>('none', 'claim', 'created', 'renamed-claim', 'renamed-created'),
  secret: fc.constantFrom<SecretKind>('absent', 'managed', 'foreign', 'forged'),
  secretOwners: fc.uniqueArray(fc.integer({ min: 0, max: 5 }), { maxLength: 4 }),
  secretHash: fc.constantFrom('h1', 'h2'),
  oldLabelled: fc.boolean(),
  retired: fc.constantFrom<WorldSketch['retired']>('none', 'elsewhere', 'at-target'),
  jobs: fc.array(jobSketch, { maxLength: 6 }),
  previouslyConsuming: fc.uniqueArray(fc.integer({ min: 0, max: 7 }), { maxLength: 4 }),
  recordedStarts: fc.array(
    fc.record({ index: fc.integer({ min: 0, max: 7 }), agoMs: fc.integer({ min: 0, max: 26 * hour }) }),
    { maxLength: 4 },
  ),
  pods: fc.array(fc.record({ controller: fc.option(fc.integer({ min: 0, max: 7 }), { nil: undefined }) }), {
    maxLength: 3,
  }),
  neighbours: fc.array(
    fc.record({
      name: fc.constantFrom('billing', 'crm'),
      guardedNames: fc.subarray(['t-a', 't-b', 't-c', 't-z']),
      consumers: fc.constantFrom<NeighbourReference['consumers']>(
        { matchLabels: { app: 'dbt' } },
        { matchLabels: { team: 'finance' } },
      ),
    }),
    { maxLength: 2 },
  ),
  olderRival: fc.constantFrom(false, false, false, true),
  store: fc.constantFrom<StoreState['state']>('ready', 'ready', 'ready', 'missing', 'invalid', 'not-allowed'),
  lastCheckAgoMs: fc.option(fc.integer({ min: 0, max: 2 * hour }), { nil: undefined }),
  secretReadLive: fc.boolean(),
});

function managedSecretNamed(name: string, uid: string, sketch: WorldSketch, owners: V1Job[]): V1Secret {
  const secret = buildSecret({
    namespace,
    name,
    referenceName,
    type: 'Opaque',
    labels: {},
    annotations: {},
    data: {},
    contentHash: sketch.secretHash,
    fingerprint: 'hmac-sha256:00',
    store: 'SecretStore/aws',
    remoteVersions: { 'prod/warehouse': 'v1' },
    writtenAt: new Date(sketch.now - minute).toISOString(),
    ownerReferences: owners.map((job) => ({
      apiVersion: 'batch/v1',
      kind: 'Job',
      name: job.metadata!.name!,
      uid: job.metadata!.uid!,
    })),
  });
  secret.metadata!.uid = uid;
  return secret;
}

/** Everything a plan is given, built consistently from a sketch, as the reconciler would read it. */
function inputOf(sketch: WorldSketch): PlanInput {
  const { now, target } = sketch;
  const allJobs = sketch.jobs.map((job, index) => jobOf(job, index, now, sketch.ttlMs));
  const jobAt = (index: number) => allJobs[index];
  const previous = sketch.previouslyConsuming.map((index) => ({
    name: `job-${index}`,
    uid: `uid-job-${index}`,
    startTime: new Date(now - hour).toISOString(),
    expiresAt: new Date(now - hour + sketch.ttlMs).toISOString(),
  }));
  const owners = sketch.secretOwners.map(jobAt).filter((job): job is V1Job => job !== undefined);
  let secret: V1Secret | undefined;
  let managedSecret: ReferenceFacts['managedSecret'] = {
    none: undefined,
    claim: { name: target },
    created: { name: target, uid: 'uid-target-gone' },
    'renamed-claim': { name: 't-old' },
    'renamed-created': { name: 't-old', uid: 'uid-old' },
  }[sketch.record];
  if (sketch.secret === 'managed') {
    secret = managedSecretNamed(target, 'uid-target', sketch, owners);
    managedSecret = { name: target, uid: 'uid-target' };
  } else if (sketch.secret === 'forged') {
    secret = managedSecretNamed(target, 'uid-forged', sketch, owners);
  } else if (sketch.secret === 'foreign') {
    secret = { metadata: { name: target, namespace, uid: 'uid-foreign' } };
  }
  const labelled = [
    ...(secret && sketch.secret !== 'foreign' ? [secret] : []),
    ...(sketch.oldLabelled ? [managedSecretNamed('t-old', 'uid-old-unrecorded', sketch, owners)] : []),
  ];
  const facts: ReferenceFacts = {
    namespace: sketch.kubeSystem ? 'kube-system' : namespace,
    name: referenceName,
    deleting: sketch.deleting,
    targetName: target,
    ttlMs: sketch.ttlMs,
    refreshIntervalMs: sketch.refreshIntervalMs,
    consumers: sketch.consumers,
    contentHash: sketch.contentHash,
    previouslyConsuming: previous,
    uid: 'uid-warehouse',
    createdAt: '2026-01-01T00:00:00.000Z',
    managedSecret,
    jobStarts: Object.fromEntries(
      sketch.recordedStarts.map(({ index, agoMs }) => [`uid-job-${index}`, now - agoMs]),
    ),
    retiredSecrets: {
      none: [],
      elsewhere: [{ name: 't-retired', uid: 'uid-retired' }],
      'at-target': [{ name: target, uid: 'uid-target' }],
    }[sketch.retired],
    secretName: sketch.record.startsWith('renamed') ? 't-old' : target,
  };
  const pods: PodUse[] = sketch.pods.map((pod, index) => ({
    name: `pod-${index}`,
    uid: `uid-pod-${index}`,
    ...(pod.controller === undefined
      ? {}
      : { controllerJobUid: `uid-job-${pod.controller}`, controllerJobName: `job-${pod.controller}` }),
  }));
  return {
    now,
    reference: facts,
    store: storeState(sketch.store),
    // The view hands the plan the Jobs whose pod template refers to the target.
    jobs: allJobs.filter((job) =>
      job.spec?.template?.spec?.volumes?.some((volume) => volume.secret?.secretName === target),
    ),
    secret,
    lastRefreshCheckAt: sketch.lastCheckAgoMs === undefined ? undefined : now - sketch.lastCheckAgoMs,
    pods,
    rivals: sketch.olderRival
      ? [{ name: 'elder', uid: 'uid-elder', createdAt: '2025-01-01T00:00:00.000Z' }]
      : [],
    secretReadLive: sketch.secretReadLive && !secret ? true : sketch.secretReadLive,
    labelledSecrets: labelled,
    neighbours: sketch.neighbours,
  };
}

function storeState(state: StoreState['state']): StoreState {
  return state === 'ready' ? { state } : { state, message: `store is ${state}` };
}

/** Ours: the managed labels and a uid status recorded under the target's name, as claim or retired Secret. */
function trusted(input: PlanInput): boolean {
  const { secret, reference } = input;
  const recorded = [reference.managedSecret, ...reference.retiredSecrets]
    .filter((record) => record?.name === reference.targetName)
    .map((record) => record?.uid);
  return (
    secret !== undefined &&
    isManagedFor(secret, reference.namespace, reference.name) &&
    secret.metadata?.uid !== undefined &&
    recorded.includes(secret.metadata.uid)
  );
}

/** What the reconciler makes of a plan that succeeded: the Secret, the caches and the status after it. */
function carriedOut(input: PlanInput, plan: Plan): PlanInput {
  const { reference, now } = input;
  const retired = new Set(plan.retire.map((secret) => secret.uid));
  let labelled = (input.labelledSecrets ?? []).filter((secret) => !retired.has(secret.metadata?.uid ?? ''));
  let secret = input.secret;
  let managedSecret = plan.managedSecret;
  const written = (uid: string): V1Secret => {
    const next = buildSecret({
      namespace: reference.namespace,
      name: reference.targetName,
      referenceName: reference.name,
      type: 'Opaque',
      labels: {},
      annotations: {},
      data: {},
      contentHash: reference.contentHash,
      fingerprint: 'hmac-sha256:01',
      store: 'SecretStore/aws',
      remoteVersions: { 'prod/warehouse': 'v2' },
      writtenAt: new Date(now).toISOString(),
      expiresAt: plan.expiresAt,
      ownerReferences: plan.ownerReferences,
    });
    next.metadata!.uid = uid;
    return next;
  };
  const replace = (next: V1Secret) => {
    labelled = [...labelled.filter((s) => s.metadata?.uid !== next.metadata?.uid), next];
    secret = next;
  };
  switch (plan.action) {
    case 'create': {
      replace(written('uid-created'));
      managedSecret = { name: reference.targetName, uid: 'uid-created' };
      break;
    }
    case 'rewrite':
    case 'refresh': {
      replace(written(secret!.metadata!.uid!));
      break;
    }
    case 'update-owners':
      replace({ ...secret!, metadata: { ...secret!.metadata, ownerReferences: plan.ownerReferences } });
      break;
    case 'delete':
      labelled = labelled.filter((s) => s.metadata?.uid !== secret?.metadata?.uid);
      secret = undefined;
      break;
    default:
      break;
  }
  // Every action succeeded: the Secret exists afterwards exactly when one was kept or written.
  const present = writes.includes(plan.action);
  const checked = ['create', 'rewrite', 'refresh'].includes(plan.action);
  return {
    ...input,
    secret,
    labelledSecrets: labelled,
    lastRefreshCheckAt: checked ? now : input.lastRefreshCheckAt,
    reference: {
      ...reference,
      managedSecret,
      // Every retired Secret was deleted.
      retiredSecrets: [],
      secretName: reference.targetName,
      previouslyConsuming: present ? plan.consuming : [],
      jobStarts: Object.fromEntries(
        plan.jobStarts.map((start) => [start.uid, Date.parse(start.firstStartTime)]),
      ),
    },
  };
}

describe('planReference, for random Jobs, Secrets and clocks', () => {
  it('writes a Secret only while an entitled Job is active and within its ttl, and owned by those Jobs only', () => {
    fc.assert(
      fc.property(worldSketch, (sketch) => {
        const input = inputOf(sketch);
        const plan = planReference(input);
        const { now, reference } = input;
        const refused = new Set(plan.refused.map((job) => job.uid));
        const expired = new Set(plan.expired.map((job) => job.uid));
        // Invariant 1: every consuming Job is active, started, not suspended, matches consumers, within ttl.
        for (const entitled of plan.consuming) {
          const job = input.jobs.find((j) => j.metadata?.uid === entitled.uid)!;
          expect(isJobActive(job) && !isJobSuspended(job)).toBe(true);
          expect(judgeConsumer(job, reference.consumers).allowed).toBe(true);
          expect(Date.parse(entitled.expiresAt)).toBeGreaterThan(now);
          expect(refused.has(entitled.uid) || expired.has(entitled.uid)).toBe(false);
          // Its pods will be admitted: no other reference guards a name they refer to and refuses them.
          const mounted = new Set(job.spec?.template?.spec?.volumes?.map((v) => v.secret?.secretName));
          for (const neighbour of input.neighbours ?? []) {
            const guards = neighbour.guardedNames.some((n) => n !== reference.targetName && mounted.has(n));
            if (guards) expect(judgeConsumer(job, neighbour.consumers).allowed).toBe(true);
          }
        }
        if (writes.includes(plan.action)) expect(plan.consuming.length).toBeGreaterThan(0);
        // Nothing is served to a reference being deleted, from a store it may not use, or in standstill.
        if (reference.deleting || input.store.state === 'not-allowed' || plan.standstill) {
          expect(plan.consuming).toEqual([]);
        }
        // Invariant 3's side in the plan: owners are exactly the consuming Jobs; refused and expired never own.
        expect(plan.ownerReferences.map((o) => o.uid).sort()).toEqual(
          plan.consuming.map((j) => j.uid).sort(),
        );
        // Expired Jobs are past ttl and revoked: never consuming.
        for (const job of plan.expired) expect(Date.parse(job.expiresAt)).toBeLessThanOrEqual(now);
        // Invariant 2: no entitled Job left and the Secret is ours: it goes.
        if (plan.consuming.length === 0 && trusted(input)) expect(plan.action).toBe('delete');
        // A Secret it cannot prove it created is never written, updated or deleted.
        if (input.secret && !trusted(input)) expect(['conflict', 'none', 'refuse']).toContain(plan.action);
        // Every Secret created under another name is retired, by uid; the target never is.
        const recorded = reference.managedSecret;
        if (recorded?.uid && recorded.name !== reference.targetName) {
          expect(plan.retire).toContainEqual({ name: recorded.name, uid: recorded.uid });
        }
        for (const retired of reference.retiredSecrets) {
          if (retired.name !== reference.targetName) expect(plan.retire).toContainEqual(retired);
        }
        for (const labelled of input.labelledSecrets ?? []) {
          const { name, uid } = labelled.metadata as { name: string; uid: string };
          if (name !== reference.targetName) expect(plan.retire).toContainEqual({ name, uid });
        }
        expect(plan.retire.every((s) => s.name !== reference.targetName)).toBe(true);
        // A pod no consuming Job controls holds every write back.
        if (plan.foreignPods.length > 0) expect(['delete', 'refuse']).toContain(plan.action);
        // Comes back by the first expiry, so revocation is on time; never a negative or endless wait.
        if (plan.consuming.length > 0 && plan.requeueAfterMs !== undefined) {
          const firstExpiry = Math.min(...plan.consuming.map((job) => Date.parse(job.expiresAt)));
          expect(plan.requeueAfterMs).toBeLessThanOrEqual(firstExpiry - now + expiryGraceMs);
          expect(plan.requeueAfterMs).toBeGreaterThanOrEqual(0);
        }
        expect(Number.isFinite(plan.recheckAfterMs) && plan.recheckAfterMs >= 0).toBe(true);
        expect(plan.expiresAt).toBe(
          plan.consuming
            .map((j) => j.expiresAt)
            .sort()
            .at(-1),
        );
      }),
      settings,
    );
  });

  it('gives every active, started, matching Job within ttl the Secret unless another reference refuses it', () => {
    fc.assert(
      fc.property(worldSketch, (sketch) => {
        const input = inputOf(sketch);
        const plan = planReference(input);
        if (input.reference.deleting || input.store.state === 'not-allowed' || plan.standstill) return;
        const decided = new Set([...plan.consuming, ...plan.expired, ...plan.refused].map((job) => job.uid));
        for (const job of input.jobs) {
          const started =
            job.status?.startTime !== undefined || input.reference.jobStarts[job.metadata!.uid!];
          if (!isJobActive(job) || isJobSuspended(job) || !started) continue;
          expect(decided.has(job.metadata!.uid!)).toBe(true);
        }
        for (const job of plan.refused) {
          const mismatch = !judgeConsumer(
            input.jobs.find((j) => j.metadata?.uid === job.uid)!,
            input.reference.consumers,
          ).allowed;
          expect(mismatch || job.reason.includes('pod admission policy refuses them')).toBe(true);
        }
      }),
      settings,
    );
  });

  it("plans the same given only the neighbours that guard a name its Jobs' pods refer to", () => {
    // The reconciler looks its neighbours up by those names rather than passing every reference of the
    // namespace; this is what makes that safe.
    fc.assert(
      fc.property(worldSketch, (sketch) => {
        const input = inputOf(sketch);
        const used = new Set(
          input.jobs.flatMap((job) => [...secretNamesUsedByPod(job.spec?.template?.spec)]),
        );
        const related = (input.neighbours ?? []).filter((n) => n.guardedNames.some((name) => used.has(name)));
        expect(planReference({ ...input, neighbours: related })).toEqual(planReference(input));
      }),
      settings,
    );
  });

  it('asks for nothing more once its plan has been carried out', () => {
    fc.assert(
      fc.property(worldSketch, (sketch) => {
        const input = inputOf(sketch);
        const first = planReference(input);
        const after = carriedOut(input, first);
        const second = planReference(after);
        expect(['none', 'keep', 'conflict', 'refuse']).toContain(second.action);
        expect(second.retire).toEqual([]);
        expect(second.ended).toEqual([]);
        expect(second.consuming).toEqual(first.consuming);
        expect(second.jobStarts).toEqual(first.jobStarts);
        expect(second.managedSecret).toEqual(after.reference.managedSecret);
        if (second.action === 'keep') {
          expect(managedAnnotations(after.secret!).contentHash).toBe(input.reference.contentHash);
        }
      }),
      settings,
    );
  });
});

/** A duration in the CRD's pattern, odd but admitted: any units, repeated, fractional, zero-padded. */
const admittedDuration = fc
  .array(
    fc.record({
      whole: fc.stringMatching(/^[0-9]{1,6}$/),
      fraction: fc.option(fc.stringMatching(/^[0-9]{1,9}$/), { nil: undefined }),
      unit: fc.constantFrom('ns', 'us', 'µs', 'ms', 's', 'm', 'h'),
    }),
    { minLength: 1, maxLength: 4 },
  )
  .map((segments) => segments.map((s) => `${s.whole}${s.fraction ? `.${s.fraction}` : ''}${s.unit}`).join(''))
  .filter((text) => text.length <= 32);

const hostileText = fc.oneof(
  { arbitrary: fc.string({ unit: 'grapheme', maxLength: 40 }), weight: 6 },
  { arbitrary: fc.string({ unit: 'binary', maxLength: 40 }), weight: 3 },
  // Huge: built by repetition, so generating it costs nothing.
  { arbitrary: fc.integer({ min: 10_000, max: 200_000 }).map((n) => '€'.repeat(n)), weight: 1 },
  {
    arbitrary: fc.constantFrom(
      '',
      '__proto__',
      'constructor',
      'toString',
      '../..',
      'a\u0000b',
      '\u202e',
      '𝔘𝔫𝔦',
    ),
    weight: 2,
  },
);
/** JSON nested far deeper than any real spec: `[[[...]]]` or `{"a":{"a":...}}`. */
const deepJson = fc
  .record({ depth: fc.integer({ min: 1, max: 2_000 }), array: fc.boolean() })
  .map(({ depth, array }) => {
    let value: unknown = 'leaf';
    for (let level = 0; level < depth; level++) value = array ? [value] : { a: value };
    return value;
  });
const hostileRecord = fc.dictionary(hostileText, hostileText, { maxKeys: 6 });

const hostileReference: fc.Arbitrary<SecretReference> = fc.record({
  apiVersion: fc.constant('secretlink.dev/v1alpha1' as const),
  kind: fc.constant('SecretReference' as const),
  metadata: fc.record({
    namespace: fc.constant(namespace),
    name: hostileText,
    uid: hostileText,
    creationTimestamp: fc.oneof(
      fc.constant(undefined),
      fc.date({ noInvalidDate: true }),
      fc.constantFrom('2026-01-01T00:00:00Z' as unknown as Date),
    ),
  }),
  spec: fc.record({
    storeRef: fc.record({ name: hostileText, kind: fc.constantFrom('SecretStore', 'ClusterSecretStore') }),
    target: fc.record(
      { name: hostileText, type: hostileText, labels: hostileRecord, annotations: hostileRecord },
      { requiredKeys: [] },
    ),
    data: fc.array(
      fc.record({
        key: hostileText,
        remote: fc.record(
          { name: hostileText, property: hostileText, version: hostileText },
          { requiredKeys: ['name'] },
        ),
      }),
      { maxLength: 4 },
    ),
    // Deep JSON where a list of objects is expected: the digest must still take it.
    dataFrom: fc.array(fc.oneof(fc.jsonValue({ maxDepth: 6 }), deepJson), { maxLength: 3 }),
    consumers: fc.record(
      {
        matchLabels: hostileRecord,
        matchExpressions: fc.array(
          fc.record({
            key: hostileText,
            operator: fc.oneof(hostileText, fc.constantFrom('In', 'NotIn', 'Exists')),
            values: fc.array(hostileText, { maxLength: 3 }),
          }),
          { maxLength: 3 },
        ),
        serviceAccountNames: fc.array(hostileText, { maxLength: 3 }),
      },
      { requiredKeys: [] },
    ),
    ttl: admittedDuration,
    refreshInterval: admittedDuration,
  }) as unknown as fc.Arbitrary<SecretReference['spec']>,
}) as unknown as fc.Arbitrary<SecretReference>;

const hostileStatus = fc.record(
  {
    consumingJobs: fc.array(
      fc.record({ name: hostileText, uid: hostileText, startTime: hostileText, expiresAt: hostileText }),
      { maxLength: 3 },
    ),
    managedSecret: fc.record({ name: hostileText, uid: hostileText }, { requiredKeys: ['name'] }),
    retiredSecrets: fc.array(fc.record({ name: hostileText, uid: hostileText }), { maxLength: 3 }),
    jobStarts: fc.array(fc.record({ name: hostileText, uid: hostileText, firstStartTime: hostileText }), {
      maxLength: 3,
    }),
    secretName: hostileText,
  },
  { requiredKeys: [] },
);

describe('planReference, for hostile specs', () => {
  it('never throws on what the API server admits: huge values, deep JSON, unicode keys, odd durations', () => {
    fc.assert(
      fc.property(
        hostileReference,
        hostileStatus,
        fc.array(jobSketch, { maxLength: 4 }),
        fc.integer({ min: 0, max: Date.parse('2200-01-01T00:00:00Z') }),
        fc.boolean(),
        (reference, status, jobs, now, deleting) => {
          const facts = referenceFacts(reference, undefined, deleting, status);
          const plan = planReference({
            now,
            reference: facts,
            store: { state: 'ready' },
            jobs: jobs.map((job, index) => jobOf(job, index, now, facts.ttlMs)),
            labelledSecrets: [],
            neighbours: [{ name: 'other', guardedNames: ['t-a'], consumers: reference.spec.consumers }],
          });
          nextStatus(
            plan,
            { kind: 'idle' },
            { now, generation: 1, targetName: facts.targetName, store: { state: 'ready' }, previous: status },
          );
        },
      ),
      { ...settings, numRuns: 150 },
    );
  });

  it('parses every duration the CRD pattern admits, and refuses anything else with its own typed error', () => {
    fc.assert(
      fc.property(fc.oneof(admittedDuration, hostileText), (text) => {
        try {
          expect(Number.isFinite(parseDuration(text))).toBe(true);
        } catch (error) {
          expect(error).toBeInstanceOf(InvalidDurationError);
          expect(/^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$/.test(text)).toBe(false);
        }
      }),
      settings,
    );
  });
});
