// Invariant 8 against the real API server: the operator's own ServiceAccount, with exactly the RBAC and the
// admission policies the install ships (config/rbac, config/admission), tries what a compromised operator
// would, and tenants try to forge what only the operator may write. Last, the real operator runs as that
// ServiceAccount and serves a Job end to end: the shipped rights are enough for its job, and no more.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labels, managedBy } from '../../src/api/constants.ts';
import { reportingController } from '../../src/audit/event-sink.ts';
import { loadOrCreateFingerprintKey } from '../../src/audit/fingerprint.ts';
import { operatorNamespace } from '../env/install.ts';
import { installOperatorRbac, operatorKubeConfig, operatorUsername } from '../env/operator-identity.ts';
import { awsStoreSpec } from '../env/stores/store-specs.ts';
import {
  api,
  createNamespace,
  deleteNamespace,
  environment,
  eventually,
  kubeConfig,
  kubectl,
  readSecretIfPresent,
  statusCodeOf,
} from '../support/cluster.ts';
import {
  installCrds,
  referenceApi,
  startTestOperator,
  storeApi,
  type TestOperator,
} from '../support/operator.ts';
import {
  createVaultKubernetesRole,
  kvReadPolicy,
  seedAwsSecret,
  stores,
  writeVaultPolicy,
  writeVaultSecret,
} from '../support/stores.ts';

const mergePatch = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);
const fingerprintKeySecret = 'secretlink-fingerprint-key';
const leaseName = 'secretlink-operator';
const tenantUser = 'tenant-admin';
const apiServerAudience = 'https://kubernetes.default.svc.cluster.local';
const optedIn = 'secretlink-store-auth';
const managedLabels = { [labels.managedBy]: managedBy, [labels.reference]: 'warehouse' };

let namespace: string;
let operatorConfig: k8s.KubeConfig;

const asOperator = <T extends k8s.ApiType>(type: k8s.ApiConstructor<T>): T =>
  operatorConfig.makeApiClient(type);

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
const asTenant = <T extends k8s.ApiType>(type: k8s.ApiConstructor<T>): T => clientAs(tenantUser, type);

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

const policyNames = [
  'secretlink-operator-secrets',
  'secretlink-operator-tokens',
  'secretlink-operator-objects',
  'secretlink-operator-lease',
  'secretlink-operator-events',
  'secretlink-reserved-objects',
  'secretlink-reserved-secret-marks',
];
const byPolicy = (policy: string) => `ValidatingAdmissionPolicy '${policy}'`;
const byRbac = 'cannot create resource "serviceaccounts/token"';

/**
 * Waits until `policy` refuses `attempt`: a new policy and its binding take a moment to be enforced. One that
 * never is fails the tests that rely on it, each with what the API server admitted.
 */
async function enforced(policy: string, attempt: () => Promise<unknown>): Promise<void> {
  await eventually(`policy ${policy} to be enforced`, async () =>
    (await refusal(attempt()).catch(() => '')).includes(byPolicy(policy)) ? true : undefined,
  ).catch(() => undefined);
}

function secret(
  name: string,
  extra: Partial<k8s.V1Secret> = {},
  metadata: k8s.V1ObjectMeta = {},
): k8s.V1Secret {
  return { metadata: { name, ...metadata }, stringData: { password: 'not-a-real-value' }, ...extra };
}

function reference(name: string): k8s.KubernetesObject & { spec: unknown } {
  return {
    apiVersion: 'secretlink.dev/v1alpha1',
    kind: 'SecretReference',
    metadata: { name },
    spec: {
      storeRef: { name: 'aws' },
      data: [{ key: 'password', remote: { name: `${namespace}/warehouse`, property: 'password' } }],
      consumers: { matchLabels: { app: 'dbt' } },
    },
  };
}

function tokenRequest(name: string, inNamespace: string, spec: k8s.V1TokenRequestSpec) {
  return asOperator(k8s.CoreV1Api).createNamespacedServiceAccountToken({
    name,
    namespace: inNamespace,
    body: { spec },
  });
}

async function applyRole(
  inNamespace: string,
  role: string,
  rules: k8s.V1PolicyRule[],
  subject: k8s.RbacV1Subject,
) {
  const rbac = api(k8s.RbacAuthorizationV1Api);
  await rbac.createNamespacedRole({ namespace: inNamespace, body: { metadata: { name: role }, rules } });
  await rbac.createNamespacedRoleBinding({
    namespace: inNamespace,
    body: {
      metadata: { name: role },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: role },
      subjects: [subject],
    },
  });
}

async function deleteRole(inNamespace: string, role: string) {
  const rbac = api(k8s.RbacAuthorizationV1Api);
  await rbac.deleteNamespacedRoleBinding({ namespace: inNamespace, name: role }).catch(() => undefined);
  await rbac.deleteNamespacedRole({ namespace: inNamespace, name: role }).catch(() => undefined);
}

beforeAll(async () => {
  await installCrds();
  await installOperatorRbac(environment());
  await kubectl('apply', '-k', 'config/admission');
  namespace = await createNamespace('tenant');
  operatorConfig = await operatorKubeConfig(environment());

  // The tenant administers its namespace, secretlink objects and their status included.
  await applyRole(
    namespace,
    'tenant-admin',
    [{ apiGroups: ['', 'secretlink.dev'], resources: ['*'], verbs: ['*'] }],
    { kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: tenantUser },
  );
  const core = api(k8s.CoreV1Api);
  await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name: optedIn } } });
  // The shipped sample, applied as a namespace administrator would: it opts one ServiceAccount in, by name.
  await kubectl('apply', '-n', namespace, '-f', 'config/samples/token-requester-role.yaml');
  await customApi().createNamespacedCustomObject({
    ...referenceApi,
    namespace,
    body: reference('warehouse'),
  });

  await Promise.all([
    enforced('secretlink-operator-secrets', () =>
      asOperator(k8s.CoreV1Api).createNamespacedSecret({ namespace, body: secret('probe'), dryRun: 'All' }),
    ),
    enforced('secretlink-operator-tokens', () =>
      tokenRequest(optedIn, namespace, { audiences: ['vault'], expirationSeconds: 3600 }),
    ),
    enforced('secretlink-operator-objects', () =>
      operatorCustom().patchNamespacedCustomObject(
        { ...referenceApi, namespace, name: 'warehouse', body: { spec: { ttl: '9h' } }, dryRun: 'All' },
        mergePatch,
      ),
    ),
    enforced('secretlink-operator-lease', () =>
      asOperator(k8s.CoordinationV1Api).createNamespacedLease({
        namespace: operatorNamespace,
        body: { metadata: { name: 'probe' } },
        dryRun: 'All',
      }),
    ),
    enforced('secretlink-operator-events', () =>
      asOperator(k8s.EventsV1Api).createNamespacedEvent({
        namespace,
        body: event('probe', 'kubelet'),
        dryRun: 'All',
      }),
    ),
    enforced('secretlink-reserved-objects', () =>
      customApi().createNamespacedCustomObject({
        ...referenceApi,
        namespace: 'kube-system',
        body: reference('probe'),
        dryRun: 'All',
      }),
    ),
    enforced('secretlink-reserved-secret-marks', () =>
      asTenant(k8s.CoreV1Api).createNamespacedSecret({
        namespace,
        body: secret('probe', {}, { labels: managedLabels }),
        dryRun: 'All',
      }),
    ),
  ]);
});

afterAll(async () => {
  await deleteNamespace(namespace);
  // Other test files share the control plane and run their operators as the admin: leave it as it was found.
  await kubectl('delete', '--ignore-not-found', '-k', 'config/admission');
  await kubectl('delete', '--ignore-not-found', '-k', 'config/rbac');
});

function customApi() {
  return api(k8s.CustomObjectsApi);
}
function operatorCustom() {
  return asOperator(k8s.CustomObjectsApi);
}

function event(name: string, controller: string): k8s.EventsV1Event {
  return {
    metadata: { name },
    eventTime: new k8s.V1MicroTime(),
    type: 'Normal',
    reason: 'Probe',
    action: 'Probe',
    regarding: {
      apiVersion: 'secretlink.dev/v1alpha1',
      kind: 'SecretReference',
      namespace,
      name: 'warehouse',
    },
    reportingController: controller,
    reportingInstance: 'attacker',
  };
}

describe('a compromised operator, with exactly the shipped RBAC and admission policies', () => {
  it('has policies the API server type-checks against the objects they guard without a warning', async () => {
    const policies = api(k8s.AdmissionregistrationV1Api);
    for (const name of policyNames) {
      const policy = await eventually(`policy ${name} to be type-checked`, async () => {
        const current = await policies.readValidatingAdmissionPolicy({ name });
        return current.status?.typeChecking ? current : undefined;
      });
      expect({ name, warnings: policy.status?.typeChecking?.expressionWarnings ?? [] }).toEqual({
        name,
        warnings: [],
      });
    }
  });

  it('acts as its ServiceAccount, not as the admin', async () => {
    const review = await asOperator(k8s.AuthenticationV1Api).createSelfSubjectReview({ body: {} });
    expect(review.status?.userInfo?.username).toBe(operatorUsername);
  });

  it('cannot create, take over, overwrite or delete a Secret secretlink does not manage', async () => {
    const core = asOperator(k8s.CoreV1Api);
    await api(k8s.CoreV1Api).createNamespacedSecret({ namespace, body: secret('app-config') });
    const policy = byPolicy('secretlink-operator-secrets');

    expect(await refusal(core.createNamespacedSecret({ namespace, body: secret('planted') }))).toContain(
      policy,
    );
    // Adding the managed labels to someone else's Secret would make it look like secretlink's.
    const takeover = secret('app-config', {}, { labels: managedLabels });
    expect(
      await refusal(core.replaceNamespacedSecret({ namespace, name: 'app-config', body: takeover })),
    ).toContain('it is not a Secret secretlink manages');
    const overwrite = { stringData: { password: 'attacker-chosen' } };
    expect(
      await refusal(
        core.patchNamespacedSecret({ namespace, name: 'app-config', body: overwrite }, mergePatch),
      ),
    ).toContain(policy);
    expect(await refusal(core.deleteNamespacedSecret({ namespace, name: 'app-config' }))).toContain(policy);

    const untouched = await readSecretIfPresent(namespace, 'app-config');
    expect(untouched?.metadata?.labels ?? {}).toEqual({});
    expect(Buffer.from(untouched?.data?.password ?? '', 'base64').toString()).toBe('not-a-real-value');
  });

  it('cannot write a ServiceAccount token Secret, even one carrying the managed labels', async () => {
    const token = secret(
      'default-token',
      { type: 'kubernetes.io/service-account-token' },
      { labels: managedLabels, annotations: { 'kubernetes.io/service-account.name': 'default' } },
    );
    const message = await refusal(
      asOperator(k8s.CoreV1Api).createNamespacedSecret({ namespace, body: token }),
    );
    expect(message).toContain('it is a ServiceAccount token Secret');
  });

  it('cannot write or delete any Secret in kube-system', async () => {
    const core = asOperator(k8s.CoreV1Api);
    const managed = secret('planted', {}, { labels: managedLabels });
    expect(await refusal(core.createNamespacedSecret({ namespace: 'kube-system', body: managed }))).toContain(
      'no Secret in kube-system is the operator',
    );
    await api(k8s.CoreV1Api).createNamespacedSecret({
      namespace: 'kube-system',
      body: secret('cluster-thing'),
    });
    try {
      expect(
        await refusal(core.deleteNamespacedSecret({ namespace: 'kube-system', name: 'cluster-thing' })),
      ).toContain('no Secret in kube-system is the operator');
    } finally {
      await api(k8s.CoreV1Api).deleteNamespacedSecret({ namespace: 'kube-system', name: 'cluster-thing' });
    }
  });

  it('cannot write a Secret in its own namespace other than creating its fingerprint key', async () => {
    const core = asOperator(k8s.CoreV1Api);
    const managed = secret('planted', {}, { labels: managedLabels });
    expect(
      await refusal(core.createNamespacedSecret({ namespace: operatorNamespace, body: managed })),
    ).toContain(`in its own namespace it may only create its fingerprint key ${fingerprintKeySecret}`);
    // Creating the key is admitted (it may already exist from an earlier start); deleting it is not.
    await loadOrCreateFingerprintKey(core, operatorNamespace, fingerprintKeySecret);
    expect(
      await refusal(
        core.deleteNamespacedSecret({ namespace: operatorNamespace, name: fingerprintKeySecret }),
      ),
    ).toContain(byPolicy('secretlink-operator-secrets'));
  });

  it('creates, updates and deletes a Secret it manages', async () => {
    const core = asOperator(k8s.CoreV1Api);
    await core.createNamespacedSecret({ namespace, body: secret('managed', {}, { labels: managedLabels }) });
    await core.patchNamespacedSecret(
      { namespace, name: 'managed', body: { stringData: { password: 'next-version' } } },
      mergePatch,
    );
    // Nor can it turn its own Secret into an ordinary one that it would then keep.
    const unmanage = { metadata: { labels: { [labels.managedBy]: null } } };
    expect(
      await refusal(core.patchNamespacedSecret({ namespace, name: 'managed', body: unmanage }, mergePatch)),
    ).toContain('it is not a Secret secretlink manages');
    await core.deleteNamespacedSecret({ namespace, name: 'managed' });
    expect(await readSecretIfPresent(namespace, 'managed')).toBeUndefined();
  });

  it("cannot request a token for kube-system's job-controller: RBAC grants none, and were it granted, the policy refuses", async () => {
    const spec = { audiences: ['vault'], expirationSeconds: 600 };
    expect(await refusal(tokenRequest('job-controller', 'kube-system', spec))).toContain(byRbac);
    // A careless opt-in in kube-system, as RBAC would take it.
    await applyRole(
      'kube-system',
      'secretlink-careless-opt-in',
      [
        {
          apiGroups: [''],
          resources: ['serviceaccounts/token'],
          verbs: ['create'],
          resourceNames: ['job-controller'],
        },
      ],
      { kind: 'ServiceAccount', name: 'secretlink-operator', namespace: operatorNamespace },
    );
    try {
      const message = await eventually('RBAC to grant the token and the policy to refuse it', async () => {
        const outcome = await refusal(tokenRequest('job-controller', 'kube-system', spec));
        return outcome.includes(byRbac) ? undefined : outcome;
      });
      expect(message).toContain(byPolicy('secretlink-operator-tokens'));
      expect(message).toContain('no ServiceAccount in kube-system serves a store');
    } finally {
      await deleteRole('kube-system', 'secretlink-careless-opt-in');
    }
  });

  it('cannot request a token for a ServiceAccount its namespace did not opt in (RBAC resourceNames)', async () => {
    const message = await refusal(
      tokenRequest('default', namespace, { audiences: ['vault'], expirationSeconds: 600 }),
    );
    expect(message).toContain(byRbac);
  });

  it("refuses an opted-in ServiceAccount's token with no audience, two audiences, the API server's audience or a long life", async () => {
    const policy = byPolicy('secretlink-operator-tokens');
    // No audience: the API server fills in its own, so the token would act against the cluster.
    expect(
      await refusal(tokenRequest(optedIn, namespace, { audiences: [], expirationSeconds: 600 })),
    ).toContain(policy);
    expect(
      await refusal(
        tokenRequest(optedIn, namespace, {
          audiences: ['vault', 'sts.amazonaws.com'],
          expirationSeconds: 600,
        }),
      ),
    ).toContain('exactly one audience, not 2');
    expect(
      await refusal(
        tokenRequest(optedIn, namespace, { audiences: [apiServerAudience], expirationSeconds: 600 }),
      ),
    ).toContain("its audience is the API server's own");
    expect(
      await refusal(tokenRequest(optedIn, namespace, { audiences: ['vault'], expirationSeconds: 3600 })),
    ).toContain('at most 600 seconds, not 3600');
  });

  it('gets a token with one audience for 600 s for an opted-in ServiceAccount', async () => {
    const minted = await tokenRequest(optedIn, namespace, { audiences: ['vault'], expirationSeconds: 600 });
    expect(minted.status?.token).toBeTruthy();
  });

  it("cannot change a SecretReference's spec, labels or another's finalizer, but sets its own finalizer and status", async () => {
    const custom = operatorCustom();
    const patch = (body: object) =>
      custom.patchNamespacedCustomObject({ ...referenceApi, namespace, name: 'warehouse', body }, mergePatch);
    const policy = byPolicy('secretlink-operator-objects');
    // The consumers are what the pod policy trusts: widening them would hand the Secret to any pod.
    expect(await refusal(patch({ spec: { consumers: { matchLabels: { app: 'anything' } } } }))).toContain(
      'it may not change the spec',
    );
    expect(await refusal(patch({ metadata: { labels: { team: 'attacker' } } }))).toContain(policy);
    expect(await refusal(patch({ metadata: { finalizers: ['example.com/hold'] } }))).toContain(
      'it may add or remove only its own finalizer',
    );
    expect(
      await refusal(custom.deleteNamespacedCustomObject({ ...referenceApi, namespace, name: 'warehouse' })),
    ).toMatch(/forbidden/);

    await patch({ metadata: { finalizers: ['secretlink.dev/revoke-secret'] } });
    await custom.patchNamespacedCustomObjectStatus(
      { ...referenceApi, namespace, name: 'warehouse', body: { status: { observedGeneration: 1 } } },
      mergePatch,
    );
    await patch({ metadata: { finalizers: [] } });
    const current = (await customApi().getNamespacedCustomObject({
      ...referenceApi,
      namespace,
      name: 'warehouse',
    })) as {
      metadata: { finalizers?: string[] };
      spec: unknown;
      status?: { observedGeneration?: number };
    };
    expect(current.spec).toMatchObject(reference('warehouse').spec as object);
    expect(current.status?.observedGeneration).toBe(1);
  });

  it('cannot take another Lease, or record Events in the name of another component or in kube-system', async () => {
    const leases = asOperator(k8s.CoordinationV1Api);
    expect(
      await refusal(
        leases.createNamespacedLease({
          namespace: operatorNamespace,
          body: { metadata: { name: 'kube-controller-manager' } },
        }),
      ),
    ).toContain(byPolicy('secretlink-operator-lease'));
    const events = asOperator(k8s.EventsV1Api);
    expect(
      await refusal(events.createNamespacedEvent({ namespace, body: event('forged', 'kubelet') })),
    ).toContain(`its Events name ${reportingController} as their reporter`);
    expect(
      await refusal(
        events.createNamespacedEvent({
          namespace: 'kube-system',
          body: event('forged', reportingController),
        }),
      ),
    ).toContain(byPolicy('secretlink-operator-events'));
  });
});

describe('a tenant, administering its namespace', () => {
  it('cannot write the status of its SecretReference or SecretStore', async () => {
    const custom = asTenant(k8s.CustomObjectsApi);
    // What the operator records there (the Secret it wrote, who consumes it) is what a forger would change.
    const forged = { status: { secretName: 'someone-elses', consumingJobCount: 0 } };
    expect(
      await refusal(
        custom.patchNamespacedCustomObjectStatus(
          { ...referenceApi, namespace, name: 'warehouse', body: forged },
          mergePatch,
        ),
      ),
    ).toContain('only the operator writes the status of secretreferences');
    await custom.createNamespacedCustomObject({
      ...storeApi,
      namespace,
      body: {
        apiVersion: 'secretlink.dev/v1alpha1',
        kind: 'SecretStore',
        metadata: { name: 'aws' },
        spec: awsStoreSpec(stores().aws),
      },
    });
    const ready = {
      status: {
        conditions: [
          {
            type: 'Ready',
            status: 'True',
            reason: 'Valid',
            message: 'forged',
            lastTransitionTime: new Date().toISOString(),
          },
        ],
      },
    };
    expect(
      await refusal(
        custom.patchNamespacedCustomObjectStatus(
          { ...storeApi, namespace, name: 'aws', body: ready },
          mergePatch,
        ),
      ),
    ).toContain('only the operator writes the status of secretstores');
  });

  it('cannot plant, add, change or remove secretlink.dev/ labels and annotations on a Secret', async () => {
    const core = asTenant(k8s.CoreV1Api);
    const marks = 'only the operator sets secretlink.dev/ labels and annotations on Secrets';
    // A Secret planted with the managed labels would look like one secretlink wrote.
    expect(
      await refusal(
        core.createNamespacedSecret({ namespace, body: secret('warehouse', {}, { labels: managedLabels }) }),
      ),
    ).toContain(marks);
    await core.createNamespacedSecret({ namespace, body: secret('tenant-own') });
    const addLabel = { metadata: { labels: { [labels.managedBy]: managedBy } } };
    expect(
      await refusal(
        core.patchNamespacedSecret({ namespace, name: 'tenant-own', body: addLabel }, mergePatch),
      ),
    ).toContain(`label ${labels.managedBy}`);
    const addAnnotation = { metadata: { annotations: { 'secretlink.dev/fingerprint': 'hmac-sha256:00' } } };
    expect(
      await refusal(
        core.patchNamespacedSecret({ namespace, name: 'tenant-own', body: addAnnotation }, mergePatch),
      ),
    ).toContain('annotation secretlink.dev/fingerprint');

    // One the operator wrote: its marks cannot be changed or removed by the tenant either.
    await asOperator(k8s.CoreV1Api).createNamespacedSecret({
      namespace,
      body: secret('written-by-operator', {}, { labels: managedLabels }),
    });
    const unmanage = { metadata: { labels: { [labels.managedBy]: null } } };
    expect(
      await refusal(
        core.patchNamespacedSecret({ namespace, name: 'written-by-operator', body: unmanage }, mergePatch),
      ),
    ).toContain(marks);
    const relabel = { metadata: { labels: { [labels.reference]: 'other' } } };
    expect(
      await refusal(
        core.patchNamespacedSecret({ namespace, name: 'written-by-operator', body: relabel }, mergePatch),
      ),
    ).toContain(marks);
    // The grants a write carried, read back after a restart to record it: a forged one would make the
    // operator emit audit records for a Job that never got the Secret.
    const forgedGrants = {
      metadata: {
        annotations: {
          'secretlink.dev/audit': JSON.stringify({
            time: '2026-01-01T00:00:00Z',
            grants: [{ action: 'Materialized', reason: 'forged', job: { name: 'ghost', uid: 'ghost-uid' } }],
          }),
        },
      },
    };
    expect(
      await refusal(
        core.patchNamespacedSecret(
          { namespace, name: 'written-by-operator', body: forgedGrants },
          mergePatch,
        ),
      ),
    ).toContain('annotation secretlink.dev/audit');
  });

  it("may set secretlink.dev/allowed-stores on its Secret, the one mark that is the owner's to give", async () => {
    const core = asTenant(k8s.CoreV1Api);
    await core.createNamespacedSecret({
      namespace,
      body: secret(
        'store-credentials',
        {},
        { annotations: { 'secretlink.dev/allowed-stores': 'SecretStore/aws' } },
      ),
    });
    const widened = {
      metadata: { annotations: { 'secretlink.dev/allowed-stores': 'SecretStore/aws, SecretStore/vault' } },
    };
    await core.patchNamespacedSecret({ namespace, name: 'store-credentials', body: widened }, mergePatch);
    const stored = await readSecretIfPresent(namespace, 'store-credentials');
    expect(stored?.metadata?.annotations?.['secretlink.dev/allowed-stores']).toBe(
      'SecretStore/aws, SecretStore/vault',
    );
  });

  it('cannot create a SecretReference in kube-system, not even as a cluster admin', async () => {
    const message = await refusal(
      customApi().createNamespacedCustomObject({
        ...referenceApi,
        namespace: 'kube-system',
        body: reference('take-it'),
      }),
    );
    expect(message).toContain('SecretReferences cannot be created in kube-system');
  });
});

describe('the operator, running as its ServiceAccount with the shipped RBAC and policies', () => {
  let served: string;
  let operator: TestOperator | undefined;

  beforeAll(async () => {
    served = await createNamespace('served');
    const admin = api(k8s.CoreV1Api);
    await admin.createNamespacedSecret({
      namespace: served,
      body: {
        metadata: {
          name: 'aws-credentials',
          annotations: { 'secretlink.dev/allowed-stores': 'SecretStore/aws' },
        },
        stringData: { id: 'testing', secret: 'testing' },
      },
    });
    await customApi().createNamespacedCustomObject({
      ...storeApi,
      namespace: served,
      body: {
        apiVersion: 'secretlink.dev/v1alpha1',
        kind: 'SecretStore',
        metadata: { name: 'aws' },
        spec: awsStoreSpec(stores().aws),
      },
    });
    await seedAwsSecret(`${served}/warehouse`, JSON.stringify({ password: 'first-password' }));
    // A fresh start: no key and no Lease left by an earlier run on this control plane.
    await admin
      .deleteNamespacedSecret({ namespace: operatorNamespace, name: fingerprintKeySecret })
      .catch(() => undefined);
    await api(k8s.CoordinationV1Api)
      .deleteNamespacedLease({ namespace: operatorNamespace, name: leaseName })
      .catch(() => undefined);
    // What run.ts does first, with the operator’s own identity.
    await loadOrCreateFingerprintKey(asOperator(k8s.CoreV1Api), operatorNamespace, fingerprintKeySecret);
    operator = startTestOperator({
      namespaces: [served],
      identity: 'operator-as-serviceaccount',
      leaseName,
      kubeConfig: operatorConfig,
    });
  });

  function job(name: string, secretName: string): k8s.V1Job {
    return {
      metadata: { name },
      spec: {
        backoffLimit: 0,
        template: {
          metadata: { labels: { app: 'dbt' }, annotations: { 'secretlink.dev/simulated-run-time': '4s' } },
          spec: {
            restartPolicy: 'Never',
            containers: [{ name: 'dbt', image: 'dbt', envFrom: [{ secretRef: { name: secretName } }] }],
          },
        },
      },
    };
  }

  afterAll(async () => {
    await operator?.stop();
    expect(operator?.sinkErrors).toEqual([]);
    await deleteNamespace(served);
  });

  it("creates its fingerprint key, leads, writes and revokes a Job's Secret, with status, finalizer and Events", async () => {
    const key = await readSecretIfPresent(operatorNamespace, fingerprintKeySecret);
    expect(key?.immutable).toBe(true);
    await customApi().createNamespacedCustomObject({
      ...referenceApi,
      namespace: served,
      body: {
        ...reference('warehouse'),
        spec: {
          storeRef: { name: 'aws' },
          data: [{ key: 'password', remote: { name: `${served}/warehouse`, property: 'password' } }],
          consumers: { matchLabels: { app: 'dbt' } },
        },
      },
    });
    await api(k8s.BatchV1Api).createNamespacedJob({ namespace: served, body: job('dbt-run', 'warehouse') });

    const written = await eventually("the Job's Secret", () => readSecretIfPresent(served, 'warehouse'));
    expect(Buffer.from(written.data?.password ?? '', 'base64').toString()).toBe('first-password');
    const lease = await api(k8s.CoordinationV1Api).readNamespacedLease({
      namespace: operatorNamespace,
      name: leaseName,
    });
    expect(lease.spec?.holderIdentity).toBe('operator-as-serviceaccount');

    const current = (await customApi().getNamespacedCustomObject({
      ...referenceApi,
      namespace: served,
      name: 'warehouse',
    })) as {
      metadata: { finalizers?: string[] };
      status?: { conditions?: { type: string; status: string }[] };
    };
    expect(current.metadata.finalizers).toContain('secretlink.dev/revoke-secret');
    await eventually('the reference to report Ready', async () => {
      const now = (await customApi().getNamespacedCustomObject({
        ...referenceApi,
        namespace: served,
        name: 'warehouse',
      })) as typeof current;
      return now.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')
        ? true
        : undefined;
    });
    await eventually('the store to report its status', async () => {
      const store = (await customApi().getNamespacedCustomObject({
        ...storeApi,
        namespace: served,
        name: 'aws',
      })) as typeof current;
      return store.status?.conditions?.length ? true : undefined;
    });

    await eventually('the Secret to be revoked when the Job ends', async () =>
      (await readSecretIfPresent(served, 'warehouse')) ? undefined : true,
    );
    // The Event sink records after the delete it reports, and retries: the Revoked Event can come a moment later.
    await eventually('the grant and the revocation as Events', async () => {
      const events = await api(k8s.EventsV1Api).listNamespacedEvent({ namespace: served });
      const reasons = new Set(
        events.items.filter((e) => e.reportingController === reportingController).map((e) => e.reason),
      );
      return reasons.has('Materialized') && reasons.has('Revoked') ? true : undefined;
    });

    // Deleting the reference goes through the operator's finalizer.
    await customApi().deleteNamespacedCustomObject({ ...referenceApi, namespace: served, name: 'warehouse' });
    await eventually('the reference to be gone', async () => {
      const outcome = await customApi()
        .getNamespacedCustomObject({ ...referenceApi, namespace: served, name: 'warehouse' })
        .catch((error: unknown) => error);
      return statusCodeOf(outcome) === 404 ? true : undefined;
    });
    expect((operator?.audit ?? []).map((record) => record.action)).toEqual(
      expect.arrayContaining(['Materialized', 'Revoked']),
    );
  });

  it('requests a token for an opted-in ServiceAccount, with one audience for 600 s, and serves a Job from Vault', async () => {
    const role = `attack-${served}`;
    const storeAccount = 'secretlink-store-auth';
    await api(k8s.CoreV1Api).createNamespacedServiceAccount({
      namespace: served,
      body: {
        metadata: {
          name: storeAccount,
          annotations: { 'secretlink.dev/allowed-stores': 'SecretStore/vault' },
        },
      },
    });
    await kubectl('apply', '-n', served, '-f', 'config/samples/token-requester-role.yaml');
    await writeVaultSecret(`${served}/warehouse`, { password: 'vault-password' });
    await writeVaultPolicy(role, kvReadPolicy([`${served}/*`]));
    await createVaultKubernetesRole({
      name: role,
      serviceAccount: storeAccount,
      namespace: served,
      policies: [role],
      audience: 'vault',
    });
    const vault = stores().vault;
    await customApi().createNamespacedCustomObject({
      ...storeApi,
      namespace: served,
      body: {
        apiVersion: 'secretlink.dev/v1alpha1',
        kind: 'SecretStore',
        metadata: { name: 'vault' },
        spec: {
          provider: {
            vault: {
              server: vault.address,
              kv: { mount: vault.kvV2Mount, version: 2 },
              auth: {
                kubernetes: {
                  mountPath: vault.kubernetesAuthPath,
                  role,
                  serviceAccountRef: { name: storeAccount, audience: 'vault' },
                },
              },
            },
          },
        },
      },
    });
    await customApi().createNamespacedCustomObject({
      ...referenceApi,
      namespace: served,
      body: {
        ...reference('vault-warehouse'),
        spec: {
          storeRef: { name: 'vault' },
          data: [{ key: 'password', remote: { name: `${served}/warehouse`, property: 'password' } }],
          consumers: { matchLabels: { app: 'dbt' } },
        },
      },
    });
    await api(k8s.BatchV1Api).createNamespacedJob({
      namespace: served,
      body: job('vault-run', 'vault-warehouse'),
    });

    const written = await eventually("the Job's Secret from Vault", () =>
      readSecretIfPresent(served, 'vault-warehouse'),
    );
    expect(Buffer.from(written.data?.password ?? '', 'base64').toString()).toBe('vault-password');
  });
});

describe('the --namespaces overlay (config/namespaced)', () => {
  /** Whether the API server's RBAC lets the operator's ServiceAccount do `verb` on `resource` in `inNamespace`. */
  async function operatorMay(
    verb: string,
    resource: string,
    inNamespace?: string,
    group = '',
  ): Promise<boolean> {
    const review = await api(k8s.AuthorizationV1Api).createSubjectAccessReview({
      body: {
        spec: {
          user: operatorUsername,
          groups: [
            'system:serviceaccounts',
            `system:serviceaccounts:${operatorNamespace}`,
            'system:authenticated',
          ],
          resourceAttributes: { verb, resource, group, ...(inNamespace ? { namespace: inNamespace } : {}) },
        },
      },
    });
    return review.status?.allowed ?? false;
  }

  it('leaves the operator no Secret reads outside the namespaces it watches', async () => {
    const rendered = (await kubectl('kustomize', 'config/namespaced')).stdout;
    // The overlay's bindings, with the test's namespace in place of its example one.
    const bindings = rendered
      .split(/^---$/m)
      .filter((doc) => /^kind: (Cluster)?RoleBinding$/m.test(doc))
      .join('\n---\n')
      .replaceAll('namespace: analytics', `namespace: ${namespace}`);
    await kubectl('delete', 'clusterrolebinding', 'secretlink-operator');
    const file = path.join(environment().runDir, 'namespaced-bindings.yaml');
    await writeFile(file, bindings);
    await kubectl('apply', '-f', file);

    await eventually('RBAC to withdraw cluster-wide Secret reads', async () =>
      (await operatorMay('list', 'secrets')) ? undefined : true,
    );
    expect(await operatorMay('get', 'secrets', 'kube-system')).toBe(false);
    expect(await operatorMay('get', 'secrets', 'default')).toBe(false);
    expect(await operatorMay('list', 'secrets', namespace)).toBe(true);
    expect(await operatorMay('list', 'jobs', namespace, 'batch')).toBe(true);
    // Cluster-scoped reads that hold no Secret stay.
    expect(await operatorMay('list', 'clustersecretstores', undefined, 'secretlink.dev')).toBe(true);
    expect(await operatorMay('list', 'namespaces')).toBe(true);
  });
});
