// Invariant 3 against the real API server, with no operator running: only a pod that the Job controller
// creates for a Job matching a SecretReference's consumers may refer to its Secret. Every other way in is
// tried as an attacker would, and must be refused by the ValidatingAdmissionPolicy in config/admission with
// a message that names the SecretReference. Both isolation modes: in PerJob mode (config/admission with the
// per-Job component, as installed on Kubernetes 1.36) the Secret an attacker names is a Job's own,
// `<target>-<job uid>`, while Job templates name the target, as users write them, and the Job controller's
// pods are rewritten to their Job's own Secret. per-job.test.ts proves the PerJob-only cases beside these: a
// Job's pod that names another Job's Secret, and a bare pod that names the target itself.
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  api,
  createNamespace,
  deleteNamespace,
  eventually,
  kubeConfig,
  kubectl,
  statusCodeOf,
} from '../support/cluster.ts';
import { installCrds } from '../support/operator.ts';
import { applyAdmissionWith, installPerJobAdmission } from '../support/per-job-admission.ts';

const repo = path.resolve(import.meta.dirname, '../..');

interface Case {
  attempt: string;
  result: 'denied' | 'admitted';
}

/** Every case docs/security.md lists, with its result; the last test keeps the two in step. */
const cases = {
  barePod: { attempt: 'A bare pod that mounts the Secret as a volume', result: 'denied' },
  forgedOwner: {
    attempt: 'A bare pod with matching labels and a forged controller ownerReference to a real Job',
    result: 'denied',
  },
  jobControllerWithoutJob: {
    attempt: "A pod created with the Job controller's identity but without an ownerReference to a Job",
    result: 'denied',
  },
  deployment: { attempt: "A Deployment that mounts the Secret (its ReplicaSet's pods)", result: 'denied' },
  wrongLabels: { attempt: 'A Job whose pod labels do not match consumers (its pods)', result: 'denied' },
  wrongServiceAccount: {
    attempt: 'A Job whose pods run as a ServiceAccount not in consumers.serviceAccountNames (its pods)',
    result: 'denied',
  },
  envVar: { attempt: 'A bare pod with env valueFrom.secretKeyRef to the Secret', result: 'denied' },
  envFrom: { attempt: 'A bare pod with envFrom.secretRef to the Secret', result: 'denied' },
  initContainer: { attempt: 'A bare pod whose init container refers to the Secret', result: 'denied' },
  projectedVolume: {
    attempt: 'A bare pod with a projected volume that includes the Secret',
    result: 'denied',
  },
  imagePullSecrets: {
    attempt: 'A bare pod that names the Secret in imagePullSecrets',
    result: 'denied',
  },
  csiVolume: {
    attempt: 'A bare pod with a csi volume whose nodePublishSecretRef is the Secret',
    result: 'denied',
  },
  azureFileVolume: {
    attempt: 'A bare pod with an azureFile volume whose secretName is the Secret',
    result: 'denied',
  },
  cephfsVolume: {
    attempt: 'A bare pod with a cephfs volume whose secretRef is the Secret',
    result: 'denied',
  },
  rbdVolume: { attempt: 'A bare pod with an rbd volume whose secretRef is the Secret', result: 'denied' },
  iscsiVolume: { attempt: 'A bare pod with an iscsi volume whose secretRef is the Secret', result: 'denied' },
  flexVolume: { attempt: 'A bare pod with a flexVolume whose secretRef is the Secret', result: 'denied' },
  scaleIOVolume: {
    attempt: 'A bare pod with a scaleIO volume whose secretRef is the Secret',
    result: 'denied',
  },
  storageosVolume: {
    attempt: 'A bare pod with a storageos volume whose secretRef is the Secret',
    result: 'denied',
  },
  cinderVolume: {
    attempt: 'A bare pod with a cinder volume whose secretRef is the Secret',
    result: 'denied',
  },
  ephemeralContainer: {
    attempt: 'A cluster admin adding an ephemeral container to a running Job pod that uses the Secret',
    result: 'denied',
  },
  imageSwap: { attempt: 'Changing the image of a running Job pod that uses the Secret', result: 'denied' },
  otherNamespace: {
    attempt: 'A pod in a namespace without SecretReferences that mounts a Secret of the same name',
    result: 'admitted',
  },
  unrelatedSecret: {
    attempt: 'A pod that mounts an unrelated Secret in the protected namespace',
    result: 'admitted',
  },
  unclaimedTarget: {
    attempt:
      'A pod that mounts an ordinary Secret that a SecretReference names but the operator never claimed',
    result: 'admitted',
  },
  cronJobPath: {
    attempt: 'CronJob, then Job, then a pod created by the Job controller with matching labels',
    result: 'admitted',
  },
  jobCreatedByUser: {
    attempt: 'With the optional Job-creation rule: a Job that uses the Secret, created by a user',
    result: 'denied',
  },
  jobPullSecretCreatedByUser: {
    attempt:
      'With the optional Job-creation rule: a Job with the Secret in imagePullSecrets, created by a user',
    result: 'denied',
  },
  jobCreatedByCronJobController: {
    attempt:
      'With the optional Job-creation rule: a Job that uses the Secret, created by the CronJob controller',
    result: 'admitted',
  },
} satisfies Record<string, Case>;

const title = (c: Case) => `${c.attempt}: ${c.result}`;

const jobController = 'system:serviceaccount:kube-system:job-controller';
const cronJobController = 'system:serviceaccount:kube-system:cronjob-controller';
const warehouse = { name: 'warehouse', target: 'warehouse-credentials' };
// The second reference leaves target unset (so its Secret is named "dbt") and also names a ServiceAccount.
const dbt = { name: 'dbt', target: 'dbt', serviceAccount: 'dbt-runner' };
const consumerLabels = { 'app.kubernetes.io/name': 'meltano', tier: 'batch' };

/** What differs between the isolation modes, as far as admission is concerned. */
interface Mode {
  isolation: 'Shared' | 'PerJob';
  /** Applies the admission policies the mode needs; returns what removes them. */
  install(): Promise<() => Promise<void>>;
  /** The Secret that serves the Job `jobUid` for a reference whose target is `target`. */
  secretFor(target: string, jobUid: string): string;
}

const modes: Mode[] = [
  {
    isolation: 'Shared',
    install: async () => {
      await kubectl('apply', '-k', path.join(repo, 'config/admission'));
      return async () => {
        await kubectl('delete', '--ignore-not-found', '-k', path.join(repo, 'config/admission'));
      };
    },
    secretFor: (target) => target,
  },
  {
    isolation: 'PerJob',
    install: installPerJobAdmission,
    secretFor: (target, jobUid) => `${target}-${jobUid}`,
  },
];

let mode: Mode;
let namespace: string;
let otherNamespace: string;
/** A real Job of warehouse, suspended so it never makes pods: the Secret attackers name is the one it would get. */
let victim: k8s.V1Job;
/** The Secret a pod of someone else's names to reach warehouse's values: the target, or the victim Job's own. */
const guarded = () => mode.secretFor(warehouse.target, victim.metadata!.uid!);

/** A client that acts as `user`, through the admin's impersonation right. */
function clientAs<T extends k8s.ApiType>(user: string, type: k8s.ApiConstructor<T>): T {
  const admin = kubeConfig();
  const config = new k8s.KubeConfig();
  config.loadFromOptions({
    clusters: admin.clusters,
    contexts: admin.contexts,
    currentContext: admin.currentContext,
    users: admin.users.map((user_) => ({ ...user_, impersonateUser: user })),
  });
  return config.makeApiClient(type);
}

const alice = () => clientAs('alice', k8s.CoreV1Api);

function bareContainer(extra: Partial<k8s.V1Container> = {}): k8s.V1Container {
  return { name: 'main', image: 'busybox', ...extra };
}

function pod(name: string, spec: Partial<k8s.V1PodSpec>, metadata: k8s.V1ObjectMeta = {}): k8s.V1Pod {
  return { metadata: { name, ...metadata }, spec: { containers: [bareContainer()], ...spec } };
}

/** A Job template's use of warehouse, as its users write it (in PerJob mode the pods are rewritten). */
const mountsWarehouse: Partial<k8s.V1PodSpec> = {
  volumes: [{ name: 'credentials', secret: { secretName: warehouse.target } }],
};

/** An attacker's use of warehouse's values, in a pod spec of their own. */
const mountsGuarded = (): Partial<k8s.V1PodSpec> => ({
  volumes: [{ name: 'credentials', secret: { secretName: guarded() } }],
});

function jobTemplate(labels: Record<string, string>, spec: Partial<k8s.V1PodSpec>): k8s.V1PodTemplateSpec {
  return {
    // Long enough that the pod is still running when later tests act on it.
    metadata: { labels, annotations: { 'secretlink.dev/simulated-run-time': '600s' } },
    spec: { restartPolicy: 'Never', containers: [bareContainer()], ...spec },
  };
}

function job(name: string, template: k8s.V1PodTemplateSpec, extra: Partial<k8s.V1JobSpec> = {}): k8s.V1Job {
  return { metadata: { name }, spec: { backoffLimit: 0, template, ...extra } };
}

/** The message of the API server's 403 refusal; fails if the attempt was admitted or failed otherwise. */
async function refusal(attempt: Promise<unknown>): Promise<string> {
  const outcome = await attempt.then(
    () => undefined,
    (error: unknown) => error,
  );
  if (outcome === undefined) throw new Error('the API server admitted it');
  if (!(outcome instanceof k8s.ApiException) || outcome.code !== 403) throw outcome;
  const body: unknown = typeof outcome.body === 'string' ? JSON.parse(outcome.body) : outcome.body;
  return (body as { message?: string } | undefined)?.message ?? String(outcome.body);
}

function namesReference(message: string, reference: { name: string }) {
  expect(message).toContain(`secretlink: `);
  expect(message).toContain(`of SecretReference ${namespace}/${reference.name}`);
}

/** FailedCreate Events the Job controller recorded for a Job whose pods were refused. */
async function failedCreates(jobName: string): Promise<string[] | undefined> {
  const events = await api(k8s.CoreV1Api).listNamespacedEvent({
    namespace,
    fieldSelector: `involvedObject.kind=Job,involvedObject.name=${jobName}`,
  });
  const messages = events.items.filter((e) => e.reason === 'FailedCreate').map((e) => e.message ?? '');
  return messages.length > 0 ? messages : undefined;
}

async function podsOfJob(jobName: string): Promise<k8s.V1Pod[]> {
  return (await api(k8s.CoreV1Api).listNamespacedPod({ namespace, labelSelector: `job-name=${jobName}` }))
    .items;
}

let legitimatePod: Promise<k8s.V1Pod> | undefined;

/** A pod the legitimate path produced: CronJob -> Job (as `kubectl create job --from`) -> Job controller. */
function legitimateJobPod(): Promise<k8s.V1Pod> {
  legitimatePod ??= (async () => {
    await clientAs('alice', k8s.BatchV1Api).createNamespacedCronJob({
      namespace,
      body: {
        metadata: { name: 'nightly-load' },
        spec: {
          schedule: '* * * * *',
          // Suspended so the only Job is the one this test starts; `create job --from` ignores suspension.
          suspend: true,
          jobTemplate: {
            spec: {
              backoffLimit: 0,
              template: jobTemplate(consumerLabels, {
                containers: [
                  bareContainer({
                    env: [
                      {
                        name: 'WAREHOUSE_PASSWORD',
                        valueFrom: { secretKeyRef: { name: warehouse.target, key: 'password' } },
                      },
                    ],
                  }),
                ],
              }),
            },
          },
        },
      },
    });
    await kubectl(
      '--as',
      'alice',
      '-n',
      namespace,
      'create',
      'job',
      'nightly-load-manual',
      '--from=cronjob/nightly-load',
    );
    return eventually('the Job controller to create a running pod for the CronJob-made Job', async () => {
      const [running] = (await podsOfJob('nightly-load-manual')).filter((p) => p.status?.phase === 'Running');
      return running;
    });
  })();
  return legitimatePod;
}

async function waitForDefaultServiceAccount(ns: string) {
  await eventually(`the default ServiceAccount in ${ns}`, () =>
    api(k8s.CoreV1Api).readNamespacedServiceAccount({ name: 'default', namespace: ns }),
  );
}

/** Waits until the API server refuses, on a dry run, a bare pod that uses `target`. */
async function waitForEnforcement(target: string) {
  const core = api(k8s.CoreV1Api);
  const probe = pod('enforcement-probe', {
    volumes: [{ name: 'credentials', secret: { secretName: target } }],
  });
  await eventually(`the policy to protect Secret ${target}`, async () => {
    const outcome = await core.createNamespacedPod({ namespace, body: probe, dryRun: 'All' }).then(
      () => undefined,
      (error: unknown) => error,
    );
    return statusCodeOf(outcome) === 403 ? true : undefined;
  });
}

describe.each(modes)('isolation $isolation', (current) => {
  let removeAdmission: (() => Promise<void>) | undefined;

  beforeAll(async () => {
    mode = current;
    legitimatePod = undefined;
    await installCrds();
    removeAdmission = await mode.install();

    namespace = await createNamespace(mode.isolation === 'Shared' ? 'admission' : 'admission-per-job');
    otherNamespace = await createNamespace('admission-other');
    await Promise.all([
      waitForDefaultServiceAccount(namespace),
      waitForDefaultServiceAccount(otherNamespace),
    ]);
    // alice may edit workloads in the protected namespace, like a team member would.
    await api(k8s.RbacAuthorizationV1Api).createNamespacedRoleBinding({
      namespace,
      body: {
        metadata: { name: 'alice-edit' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'edit' },
        subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'alice' }],
      },
    });

    const references = api(k8s.CustomObjectsApi);
    // The policy protects a target once the operator has claimed it in status; no operator runs here, so the
    // test records, in the operator's name (only it may write that status), the claim the operator would write
    // at its first reconcile.
    const operatorAccount = { name: 'secretlink-operator', namespace: 'secretlink-system' };
    await api(k8s.RbacAuthorizationV1Api).createNamespacedRole({
      namespace,
      body: {
        metadata: { name: 'operator-status' },
        rules: [
          { apiGroups: ['secretlink.dev'], resources: ['secretreferences/status'], verbs: ['get', 'patch'] },
        ],
      },
    });
    await api(k8s.RbacAuthorizationV1Api).createNamespacedRoleBinding({
      namespace,
      body: {
        metadata: { name: 'operator-status' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'operator-status' },
        subjects: [{ kind: 'ServiceAccount', ...operatorAccount }],
      },
    });
    const asOperator = clientAs(
      `system:serviceaccount:${operatorAccount.namespace}:${operatorAccount.name}`,
      k8s.CustomObjectsApi,
    );
    const claim = (name: string, target: string) =>
      asOperator.patchNamespacedCustomObjectStatus(
        {
          group: 'secretlink.dev',
          version: 'v1alpha1',
          plural: 'secretreferences',
          namespace,
          name,
          body: { status: { managedSecret: { name: target } } },
        },
        k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
      );
    const create = (name: string, spec: Record<string, unknown>) =>
      references.createNamespacedCustomObject({
        group: 'secretlink.dev',
        version: 'v1alpha1',
        plural: 'secretreferences',
        namespace,
        body: {
          apiVersion: 'secretlink.dev/v1alpha1',
          kind: 'SecretReference',
          metadata: { name },
          spec: {
            storeRef: { name: 'aws' },
            data: [{ key: 'password', remote: { name: `${name}/loader` } }],
            isolation: mode.isolation,
            ...spec,
          },
        },
      });
    await create(warehouse.name, {
      target: { name: warehouse.target },
      consumers: {
        matchLabels: { 'app.kubernetes.io/name': 'meltano' },
        matchExpressions: [{ key: 'tier', operator: 'In', values: ['batch'] }],
      },
    });
    await create(dbt.name, {
      consumers: {
        matchLabels: { 'app.kubernetes.io/name': 'dbt' },
        serviceAccountNames: [dbt.serviceAccount],
      },
    });
    await Promise.all([claim(warehouse.name, warehouse.target), claim(dbt.name, dbt.target)]);
    // Names an ordinary Secret that already exists; the operator reports a conflict and never claims it.
    await create('squatter', {
      target: { name: 'team-config' },
      consumers: { matchLabels: { app: 'nobody' } },
    });
    await Promise.all([waitForEnforcement(warehouse.target), waitForEnforcement(dbt.target)]);
    // A real, matching Job, suspended so it never makes pods of its own.
    victim = await clientAs('alice', k8s.BatchV1Api).createNamespacedJob({
      namespace,
      body: job('paused-load', jobTemplate(consumerLabels, mountsWarehouse), { suspend: true }),
    });
    await waitForEnforcement(guarded());
  });

  afterAll(async () => {
    await Promise.all([deleteNamespace(namespace), deleteNamespace(otherNamespace)]);
    // Other test files share the control plane; leave it without the policies, as it was found.
    await removeAdmission?.();
  });

  describe('the job-pods-only admission policy', () => {
    it('is accepted by the API server and type-checks against Pod and SecretReference without warnings', async () => {
      const policies = api(k8s.AdmissionregistrationV1Api);
      const policy = await eventually('the policy to be type-checked', async () => {
        const current = await policies.readValidatingAdmissionPolicy({ name: 'secretlink-job-pods-only' });
        return current.status?.observedGeneration === current.metadata?.generation ? current : undefined;
      });
      expect(policy.status?.typeChecking?.expressionWarnings ?? []).toEqual([]);
    });

    it(title(cases.barePod), async () => {
      const message = await refusal(
        alice().createNamespacedPod({ namespace, body: pod('bare', mountsGuarded()) }),
      );
      namesReference(message, warehouse);
      expect(message).toContain('was created by alice, not the Job controller');
    });

    it(title(cases.forgedOwner), async () => {
      // The victim is a real, matching Job; the pod claims to be its, and names the Secret it would get.
      const forged = pod('forged', mountsGuarded(), {
        labels: { ...consumerLabels, 'job-name': 'paused-load' },
        ownerReferences: [
          {
            apiVersion: 'batch/v1',
            kind: 'Job',
            name: 'paused-load',
            uid: victim.metadata!.uid!,
            controller: true,
          },
        ],
      });
      const message = await refusal(alice().createNamespacedPod({ namespace, body: forged }));
      namesReference(message, warehouse);
      expect(message).toContain('was created by alice, not the Job controller');
    });

    it(title(cases.jobControllerWithoutJob), async () => {
      const orphan = pod('orphan', mountsGuarded(), { labels: consumerLabels });
      const message = await refusal(
        clientAs(jobController, k8s.CoreV1Api).createNamespacedPod({ namespace, body: orphan }),
      );
      namesReference(message, warehouse);
      expect(message).toContain('is not controlled by a Job');
    });

    it(title(cases.deployment), async () => {
      await clientAs('alice', k8s.AppsV1Api).createNamespacedDeployment({
        namespace,
        body: {
          metadata: { name: 'loader' },
          spec: {
            replicas: 1,
            selector: { matchLabels: consumerLabels },
            template: {
              metadata: { labels: consumerLabels },
              spec: { containers: [bareContainer()], ...mountsGuarded() },
            },
          },
        },
      });
      const failure = await eventually('the ReplicaSet to report that its pod was refused', async () => {
        const sets = await api(k8s.AppsV1Api).listNamespacedReplicaSet({ namespace });
        const conditions = sets.items.flatMap((set) => set.status?.conditions ?? []);
        return conditions.find((c) => c.type === 'ReplicaFailure' && c.reason === 'FailedCreate');
      });
      namesReference(failure.message ?? '', warehouse);
      expect(failure.message).toContain('not the Job controller');
      const pods = await api(k8s.CoreV1Api).listNamespacedPod({ namespace, labelSelector: 'tier=batch' });
      expect(pods.items.filter((p) => p.metadata?.generateName?.startsWith('loader-'))).toEqual([]);
    });

    it(title(cases.wrongLabels), async () => {
      await clientAs('alice', k8s.BatchV1Api).createNamespacedJob({
        namespace,
        body: job(
          'web-load',
          jobTemplate({ 'app.kubernetes.io/name': 'meltano', tier: 'web' }, mountsWarehouse),
        ),
      });
      const [message] = await eventually('the Job controller to report a refused pod', () =>
        failedCreates('web-load'),
      );
      namesReference(message!, warehouse);
      expect(message).toContain("its labels do not match the reference's consumers: tier In (batch)");
      expect(await podsOfJob('web-load')).toEqual([]);
    });

    it(title(cases.wrongServiceAccount), async () => {
      await clientAs('alice', k8s.BatchV1Api).createNamespacedJob({
        namespace,
        body: job(
          'dbt-as-default',
          jobTemplate(
            { 'app.kubernetes.io/name': 'dbt' },
            { volumes: [{ name: 'credentials', secret: { secretName: dbt.target } }] },
          ),
        ),
      });
      const [message] = await eventually('the Job controller to report a refused pod', () =>
        failedCreates('dbt-as-default'),
      );
      namesReference(message!, dbt);
      expect(message).toContain(`refers to Secret ${dbt.target} `);
      expect(message).toContain(
        'runs as ServiceAccount default, not one of its consumers.serviceAccountNames',
      );
      expect(await podsOfJob('dbt-as-default')).toEqual([]);
    });

    it(title(cases.envVar), async () => {
      const env = [{ name: 'PASSWORD', valueFrom: { secretKeyRef: { name: guarded(), key: 'password' } } }];
      const message = await refusal(
        alice().createNamespacedPod({
          namespace,
          body: pod('env-var', { containers: [bareContainer({ env })] }),
        }),
      );
      namesReference(message, warehouse);
    });

    it(title(cases.envFrom), async () => {
      const envFrom = [{ secretRef: { name: guarded() } }];
      const message = await refusal(
        alice().createNamespacedPod({
          namespace,
          body: pod('env-from', { containers: [bareContainer({ envFrom })] }),
        }),
      );
      namesReference(message, warehouse);
    });

    it(title(cases.initContainer), async () => {
      const init = { ...bareContainer({ envFrom: [{ secretRef: { name: guarded() } }] }), name: 'init' };
      const message = await refusal(
        alice().createNamespacedPod({ namespace, body: pod('init-container', { initContainers: [init] }) }),
      );
      namesReference(message, warehouse);
    });

    it(title(cases.projectedVolume), async () => {
      const volumes = [
        {
          name: 'bundle',
          projected: { sources: [{ configMap: { name: 'settings' } }, { secret: { name: guarded() } }] },
        },
      ];
      const message = await refusal(
        alice().createNamespacedPod({ namespace, body: pod('projected', { volumes }) }),
      );
      namesReference(message, warehouse);
    });

    it(title(cases.imagePullSecrets), async () => {
      const message = await refusal(
        alice().createNamespacedPod({
          namespace,
          body: pod('pull-secret', { imagePullSecrets: [{ name: guarded() }] }),
        }),
      );
      namesReference(message, warehouse);
      expect(message).toContain('was created by alice, not the Job controller');
    });

    // Each storage volume that takes a Secret for its driver, with the fields its validation requires, so that
    // only the policy stands between the request and the pod.
    // Made for the guarded name once it is known (in PerJob mode, the victim Job's own Secret).
    const storageVolumes = (name: string): [Case, k8s.V1Volume][] => {
      const secretRef = { name };
      return [
        [
          cases.csiVolume,
          { name: 'v', csi: { driver: 'secrets.example.com', nodePublishSecretRef: secretRef } },
        ],
        [cases.azureFileVolume, { name: 'v', azureFile: { secretName: name, shareName: 'share' } }],
        [cases.cephfsVolume, { name: 'v', cephfs: { monitors: ['10.0.0.1:6789'], secretRef } }],
        [cases.rbdVolume, { name: 'v', rbd: { monitors: ['10.0.0.1:6789'], image: 'disk', secretRef } }],
        [
          cases.iscsiVolume,
          {
            name: 'v',
            iscsi: { targetPortal: '10.0.0.1:3260', iqn: 'iqn.2001-04.com.example:disk', lun: 0, secretRef },
          },
        ],
        [cases.flexVolume, { name: 'v', flexVolume: { driver: 'example.com/disk', secretRef } }],
        [
          cases.scaleIOVolume,
          {
            name: 'v',
            scaleIO: { gateway: 'https://10.0.0.1', system: 'sio', volumeName: 'disk', secretRef },
          },
        ],
        [cases.storageosVolume, { name: 'v', storageos: { volumeName: 'disk', secretRef } }],
        [cases.cinderVolume, { name: 'v', cinder: { volumeID: 'disk', secretRef } }],
      ];
    };
    for (const [index, [storageCase]] of storageVolumes('').entries()) {
      it(title(storageCase), async () => {
        const [, volume] = storageVolumes(guarded())[index]!;
        const kind = Object.keys(volume).find((key) => key !== 'name')!;
        const message = await refusal(
          alice().createNamespacedPod({
            namespace,
            body: pod(`${kind.toLowerCase()}-volume`, { volumes: [volume] }),
          }),
        );
        namesReference(message, warehouse);
        expect(message).toContain('was created by alice, not the Job controller');
      });
    }

    it(title(cases.cronJobPath), async () => {
      const running = await legitimateJobPod();
      const owner = running.metadata?.ownerReferences?.find((reference) => reference.controller);
      expect(owner).toMatchObject({ apiVersion: 'batch/v1', kind: 'Job', name: 'nightly-load-manual' });
      const jobs = await api(k8s.BatchV1Api).readNamespacedJob({ name: 'nightly-load-manual', namespace });
      expect(jobs.metadata?.ownerReferences?.[0]).toMatchObject({ kind: 'CronJob', name: 'nightly-load' });
      // It names the Secret that serves it: the target, or in PerJob mode its own Job's, rewritten on the way in.
      const named = running.spec?.containers[0]?.env?.[0]?.valueFrom?.secretKeyRef?.name;
      expect(named).toBe(mode.secretFor(warehouse.target, jobs.metadata!.uid!));
    });

    it(title(cases.ephemeralContainer), async () => {
      const name = (await legitimateJobPod()).metadata!.name!;
      const core = api(k8s.CoreV1Api);
      const addDebugger = async () => {
        const current = await core.readNamespacedPod({ name, namespace });
        current.spec!.ephemeralContainers = [
          { name: 'debugger', image: 'busybox', targetContainerName: 'main' },
        ];
        return core.replaceNamespacedPodEphemeralcontainers({ name, namespace, body: current });
      };
      // kwok may update the pod between read and replace; a conflict is not an answer, so ask again.
      const message = await eventually('an admission decision on the ephemeral container', async () => {
        const outcome = await refusal(addDebugger()).catch((error: unknown) => {
          if (statusCodeOf(error) === 409) return undefined;
          throw error;
        });
        return outcome;
      });
      namesReference(message, warehouse);
      expect(message).toContain('ephemeral containers cannot be added to it (requested by secretlink-admin)');
      const after = await core.readNamespacedPod({ name, namespace });
      expect(after.spec?.ephemeralContainers ?? []).toEqual([]);
    });

    it(title(cases.imageSwap), async () => {
      const name = (await legitimateJobPod()).metadata!.name!;
      const failure = await kubectl(
        '--as',
        'alice',
        '-n',
        namespace,
        'set',
        'image',
        `pod/${name}`,
        'main=evil',
      ).then(
        () => undefined,
        (error: { stderr?: string }) => error.stderr ?? String(error),
      );
      expect(failure).toBeDefined();
      namesReference(failure!, warehouse);
      expect(failure).toContain('its container images cannot be changed (requested by alice)');
      const after = await api(k8s.CoreV1Api).readNamespacedPod({ name, namespace });
      expect(after.spec?.containers.map((c) => c.image)).toEqual(['busybox']);
    });

    it(title(cases.otherNamespace), async () => {
      const core = api(k8s.CoreV1Api);
      await core.createNamespacedPod({ namespace: otherNamespace, body: pod('same-name', mountsGuarded()) });
      const created = await core.readNamespacedPod({ name: 'same-name', namespace: otherNamespace });
      expect(created.spec?.volumes?.[0]?.secret?.secretName).toBe(guarded());
    });

    it(title(cases.unclaimedTarget), async () => {
      const volumes = [{ name: 'config', secret: { secretName: 'team-config' } }];
      await alice().createNamespacedPod({ namespace, body: pod('team-config-user', { volumes }) });
      const created = await api(k8s.CoreV1Api).readNamespacedPod({ name: 'team-config-user', namespace });
      expect(created.metadata?.name).toBe('team-config-user');
    });

    it(title(cases.unrelatedSecret), async () => {
      const volumes = [{ name: 'other', secret: { secretName: 'grafana-credentials' } }];
      await alice().createNamespacedPod({ namespace, body: pod('unrelated', { volumes }) });
      const created = await api(k8s.CoreV1Api).readNamespacedPod({ name: 'unrelated', namespace });
      expect(created.metadata?.name).toBe('unrelated');
    });
  });

  // The rule looks at Job templates, which name the target in both modes (users write the target; only pods are
  // rewritten), so it runs in both as it is.
  describe('the optional job-creators rule, enabled as docs/security.md describes', () => {
    let overlay: string;

    beforeAll(async () => {
      overlay = await applyAdmissionWith('config/admission/job-creators');
      const batch = api(k8s.BatchV1Api);
      const probe = job('creators-probe', jobTemplate(consumerLabels, mountsWarehouse), { suspend: true });
      await eventually('the job-creators rule to be enforced', async () => {
        const outcome = await batch.createNamespacedJob({ namespace, body: probe, dryRun: 'All' }).then(
          () => undefined,
          (error: unknown) => error,
        );
        return statusCodeOf(outcome) === 403 ? true : undefined;
      });
    });

    afterAll(async () => {
      const component = path.join(repo, 'config/admission/job-creators');
      await kubectl('delete', '--ignore-not-found', '-f', path.join(component, 'job-creators-policy.yaml'));
      await kubectl('delete', '--ignore-not-found', '-f', path.join(component, 'job-creators-binding.yaml'));
      await rm(overlay, { recursive: true, force: true });
    });

    it('is accepted by the API server and type-checks against Job and SecretReference without warnings', async () => {
      const policies = api(k8s.AdmissionregistrationV1Api);
      const policy = await eventually('the policy to be type-checked', async () => {
        const current = await policies.readValidatingAdmissionPolicy({ name: 'secretlink-job-creators' });
        return current.status?.observedGeneration === current.metadata?.generation ? current : undefined;
      });
      expect(policy.status?.typeChecking?.expressionWarnings ?? []).toEqual([]);
    });

    it(title(cases.jobCreatedByUser), async () => {
      const attempt = clientAs('alice', k8s.BatchV1Api).createNamespacedJob({
        namespace,
        body: job('direct-load', jobTemplate(consumerLabels, mountsWarehouse), { suspend: true }),
      });
      const message = await refusal(attempt);
      namesReference(message, warehouse);
      expect(message).toContain('was created by alice, who may not create Jobs that use it');
    });

    it(title(cases.jobPullSecretCreatedByUser), async () => {
      const attempt = clientAs('alice', k8s.BatchV1Api).createNamespacedJob({
        namespace,
        body: job(
          'pulling-load',
          jobTemplate(consumerLabels, { imagePullSecrets: [{ name: warehouse.target }] }),
          { suspend: true },
        ),
      });
      const message = await refusal(attempt);
      namesReference(message, warehouse);
      expect(message).toContain('was created by alice, who may not create Jobs that use it');
    });

    it(title(cases.jobCreatedByCronJobController), async () => {
      const created = await clientAs(cronJobController, k8s.BatchV1Api).createNamespacedJob({
        namespace,
        body: job('scheduled-load', jobTemplate(consumerLabels, mountsWarehouse), { suspend: true }),
      });
      expect(created.metadata?.uid).toBeTruthy();
    });
  });
});

describe('docs/security.md', () => {
  it('lists every admission case with the result these tests prove, and nothing else', async () => {
    const text = await readFile(path.join(repo, 'docs/security.md'), 'utf8');
    const table =
      text.split('<!-- admission-cases:start -->')[1]?.split('<!-- admission-cases:end -->')[0] ?? '';
    const rows = table
      .split('\n')
      .filter((line) => line.startsWith('|'))
      .slice(2)
      .map((line) => {
        const [attempt, result] = line
          .split('|')
          .slice(1, 3)
          .map((cell) => cell.trim());
        return { attempt, result };
      });
    expect(rows).toEqual(Object.values(cases));
  });
});
