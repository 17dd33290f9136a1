// The operator ships without client-side pacing (--kube-qps=0): the API server's own flow control (API
// Priority and Fairness) paces it, and answers what it will not serve now with 429 and Retry-After. Here a
// FlowSchema sends the operator's Secret creates in one namespace to a priority level with no seats that
// rejects rather than queues, as a saturated API server does: nothing may be lost, half-written or crashed,
// the retries wait as long as the API server asked, and the Job gets its Secret once the API server serves it.
// A level without seats still serves a request while none of its own runs, so another identity keeps one of
// its requests running there: a ConfigMap create held by an admission webhook that never answers.
import { readFileSync } from 'node:fs';
import net from 'node:net';
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { operatorNamespace } from '../env/install.ts';
import { installOperatorRbac, operatorKubeConfig, operatorServiceAccount } from '../env/operator-identity.ts';
import { createAwsTenant } from '../support/aws-tenant.ts';
import { api, deleteNamespace, environment, eventually, kubeConfig } from '../support/cluster.ts';
import {
  createJob,
  createReference,
  managedSecretsOf,
  readyWith,
  secretHolds,
} from '../support/fault-scenes.ts';
import { installCrds, startTestOperator, type TestOperator } from '../support/operator.ts';
import { seedAwsSecret } from '../support/stores.ts';

let namespace: string;
let operator: TestOperator | undefined;
const flowName = `secretlink-test-throttle-${process.pid}`;
const holder = 'seat-holder';
const flowControl = () => api(k8s.FlowcontrolApiserverV1Api);
/** Accepts the API server's webhook connections and never answers: each call waits for its timeout. */
const silent = net.createServer(() => {});
const connections = new Set<net.Socket>();
let webhookCalls = 0;
silent.on('connection', (socket) => {
  webhookCalls++;
  connections.add(socket);
  socket.on('close', () => connections.delete(socket));
});
let holding = false;
/** What the holder's creates were answered, for a failure message. */
const holderAnswers: number[] = [];
let holderLoop: Promise<void> = Promise.resolve();

beforeAll(async () => {
  await installCrds();
  namespace = await createAwsTenant('throttled');
  await seedAwsSecret(`${namespace}/warehouse`, 'throttled-value');
  // As the operator's own ServiceAccount: the admin is exempt from flow control, the operator is not.
  await installOperatorRbac(environment());
  await api(k8s.CoordinationV1Api)
    .deleteNamespacedLease({ namespace: operatorNamespace, name: 'secretlink-operator' })
    .catch(() => undefined);
});

afterAll(async () => {
  await removeThrottle();
  for (const socket of connections) socket.destroy();
  await new Promise((resolve) => silent.close(resolve));
  await operator?.stop();
  expect(operator?.sinkErrors ?? []).toEqual([]);
  await deleteNamespace(namespace);
});

/**
 * No seats and no borrowing: while one request of the level runs (the holder's), every other one the FlowSchema
 * sends here is rejected at once with 429.
 */
async function throttleSecretCreates(): Promise<void> {
  await flowControl().createPriorityLevelConfiguration({
    body: {
      metadata: { name: flowName },
      spec: {
        type: 'Limited',
        limited: {
          nominalConcurrencyShares: 0,
          lendablePercent: 0,
          borrowingLimitPercent: 0,
          limitResponse: { type: 'Reject' },
        },
      },
    },
  });
  await flowControl().createFlowSchema({
    body: {
      metadata: { name: flowName },
      spec: {
        priorityLevelConfiguration: { name: flowName },
        matchingPrecedence: 500,
        distinguisherMethod: { type: 'ByUser' },
        rules: [
          {
            subjects: [
              {
                kind: 'ServiceAccount',
                serviceAccount: { namespace: operatorNamespace, name: operatorServiceAccount },
              },
            ],
            resourceRules: [
              { verbs: ['create'], apiGroups: [''], resources: ['secrets'], namespaces: [namespace] },
            ],
          },
          {
            subjects: [{ kind: 'ServiceAccount', serviceAccount: { namespace, name: holder } }],
            resourceRules: [
              { verbs: ['create'], apiGroups: [''], resources: ['configmaps'], namespaces: [namespace] },
            ],
          },
        ],
      },
    },
  });
}

/** The holder's ConfigMap creates wait 30 s on the silent webhook (then pass: failurePolicy Ignore). */
async function startHoldingASeat(): Promise<void> {
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  const port = (silent.address() as net.AddressInfo).port;
  const core = api(k8s.CoreV1Api);
  await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name: holder } } });
  await api(k8s.RbacAuthorizationV1Api).createNamespacedRole({
    namespace,
    body: {
      metadata: { name: holder },
      rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['create'] }],
    },
  });
  await api(k8s.RbacAuthorizationV1Api).createNamespacedRoleBinding({
    namespace,
    body: {
      metadata: { name: holder },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: holder },
      subjects: [{ kind: 'ServiceAccount', name: holder, namespace }],
    },
  });
  await api(k8s.AdmissionregistrationV1Api).createValidatingWebhookConfiguration({
    body: {
      metadata: { name: flowName },
      webhooks: [
        {
          name: 'seat-holder.secretlink.dev',
          clientConfig: { url: `https://127.0.0.1:${port}/` },
          rules: [
            { operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['configmaps'] },
          ],
          namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': namespace } },
          failurePolicy: 'Ignore',
          sideEffects: 'None',
          admissionReviewVersions: ['v1'],
          timeoutSeconds: 30,
        },
      ],
    },
  });
  const token = await core.createNamespacedServiceAccountToken({
    namespace,
    name: holder,
    body: { spec: { audiences: [], expirationSeconds: 3600 } },
  });
  const asHolder = tokenKubeConfig(token.status?.token ?? '');
  holding = true;
  // One create at a time, the next sent as soon as the last returns: the level is never empty for long.
  holderLoop = (async () => {
    while (holding) {
      await asHolder
        .makeApiClient(k8s.CoreV1Api)
        .createNamespacedConfigMap({ namespace, body: { metadata: { generateName: 'held-' } } })
        .then(
          () => holderAnswers.push(201),
          (error) => {
            holderAnswers.push(error instanceof k8s.ApiException ? error.code : 0);
            return new Promise((resolve) => setTimeout(resolve, 50));
          },
        );
    }
  })();
}

function tokenKubeConfig(token: string): k8s.KubeConfig {
  const cluster = kubeConfig().getCurrentCluster()!;
  const config = new k8s.KubeConfig();
  config.loadFromOptions({
    clusters: [cluster],
    users: [{ name: holder, token }],
    contexts: [{ name: holder, cluster: cluster.name, user: holder }],
    currentContext: holder,
  });
  return config;
}

async function removeThrottle(): Promise<void> {
  holding = false;
  await api(k8s.AdmissionregistrationV1Api)
    .deleteValidatingWebhookConfiguration({ name: flowName })
    .catch(() => undefined);
  await flowControl()
    .deleteFlowSchema({ name: flowName })
    .catch(() => undefined);
  await flowControl()
    .deletePriorityLevelConfiguration({ name: flowName })
    .catch(() => undefined);
}

/** The HTTP status a Secret create made as the operator gets now (a dry run: nothing is created). */
async function operatorCreateAnswer(asOperator: k8s.KubeConfig): Promise<string> {
  try {
    const answer = await asOperator.makeApiClient(k8s.CoreV1Api).createNamespacedSecretWithHttpInfo({
      namespace,
      body: { metadata: { name: 'flow-control-probe' } },
      dryRun: 'All',
    });
    return `${answer.httpStatusCode} ${JSON.stringify(answer.headers)}`;
  } catch (error) {
    return error instanceof k8s.ApiException ? String(error.code) : String(error);
  }
}

interface RetryLine {
  msg?: string;
  err?: string;
  delayMs?: number;
  reference?: string;
}

function throttledRetries(file: string): RetryLine[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as RetryLine)
    .filter((line) => line.msg === 'reconcile will be retried' && line.err?.includes('HTTP 429'));
}

describe('the API server throttles the operator (API Priority and Fairness answers 429)', () => {
  it('retries a rejected Secret create no sooner than Retry-After, writes nothing meanwhile, and serves the Job once the API server takes the write', async () => {
    const asOperator = await operatorKubeConfig(environment());
    await throttleSecretCreates();
    await startHoldingASeat();
    // The API server applies a new FlowSchema in the background: the operator starts once it is in force.
    const answers: string[] = [];
    await eventually(
      'the FlowSchema to reject the operator',
      async () => {
        answers.push(await operatorCreateAnswer(asOperator));
        if (answers.at(-1) === '429') return true;
        throw new Error(
          `operator answered ${answers.slice(-2)}, holder ${holderAnswers.slice(-5)}, webhook calls ${webhookCalls}, flow schema ${JSON.stringify((await flowControl().readFlowSchema({ name: flowName })).metadata?.uid)}`,
        );
      },
      { timeoutMs: 60_000 },
    );
    operator = startTestOperator({
      namespaces: [namespace],
      identity: 'throttled-operator',
      leaseName: 'secretlink-operator',
      kubeConfig: asOperator,
      flags: ['--kube-qps=0'],
    });
    await createReference(namespace, 'warehouse', { store: 'aws', remote: `${namespace}/warehouse` });
    await readyWith(namespace, 'warehouse', (ready) => ready.reason === 'NoConsumers', 60_000);
    const job = await createJob(namespace, 'load', 'warehouse');

    const retries = await eventually(
      'the operator to retry a create the API server rejected twice',
      async () => {
        const lines = throttledRetries(operator!.logFile);
        return lines.length >= 2 ? lines : undefined;
      },
      { timeoutMs: 60_000 },
    );
    // The queue's own first delays are 100 ms and 200 ms; the API server asked for at least a second.
    for (const retry of retries) expect(retry.delayMs).toBeGreaterThanOrEqual(1000);
    expect(retries[0]?.reference).toBe(`${namespace}/warehouse`);
    expect(await managedSecretsOf(namespace, 'warehouse')).toEqual([]);
    expect(operator.ready() && operator.leading()).toBe(true);

    await removeThrottle();
    for (const socket of connections) socket.destroy();
    await holderLoop;
    const secret = await secretHolds(namespace, 'warehouse', 'throttled-value', 90_000);
    expect(secret.metadata?.ownerReferences?.map((owner) => owner.uid)).toEqual([job.metadata?.uid]);
    await readyWith(namespace, 'warehouse', (ready) => ready.status === 'True', 60_000);
  }, 300_000);
});
