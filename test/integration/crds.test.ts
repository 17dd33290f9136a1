// The secretlink API as the real kube-apiserver serves it: the CRDs install, the samples apply, defaults are
// filled in, bad input is refused at apply time with a message naming the field, and kubectl explains and
// lists the resources. CRDs are cluster-wide and shared with other test files, so they are applied
// idempotently and never deleted here.
import { spawn } from 'node:child_process';
import path from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { defaults, group, version } from '../../src/api/constants.ts';
import type { ClusterSecretStore, SecretReference, SecretStore } from '../../src/api/types.ts';
import { repoRoot } from '../env/components.ts';
import {
  api,
  createNamespace,
  deleteNamespace,
  environment,
  eventually,
  kubectl,
} from '../support/cluster.ts';
import { crdsDir, readCrds, type SchemaNode } from '../support/crd-files.ts';
import { invalidObjects } from './api-invalid-objects.ts';

const samplesDir = path.join(repoRoot, 'config', 'samples');
const plural: Record<string, string> = Object.fromEntries(readCrds().map((crd) => [crd.kind, crd.plural]));

let namespace: string;
const custom = () => api(k8s.CustomObjectsApi);

/** Creates an object through the API (dry run: validated and defaulted, never stored). */
async function dryRunCreate(body: SecretReference | SecretStore | ClusterSecretStore) {
  const common = {
    group,
    version,
    plural: plural[body.kind]!,
    body,
    dryRun: 'All',
    fieldValidation: 'Strict',
  };
  return body.kind === 'ClusterSecretStore'
    ? custom().createClusterCustomObject(common)
    : custom().createNamespacedCustomObject({ ...common, namespace });
}

interface StatusCause {
  field?: string;
  message?: string;
  reason?: string;
}

/** The field-level causes the API server gave for refusing `body`. */
async function refusal(body: SecretReference | SecretStore | ClusterSecretStore): Promise<StatusCause[]> {
  try {
    await dryRunCreate(body);
  } catch (error) {
    if (!(error instanceof k8s.ApiException)) throw error;
    expect(error.code).toBe(422);
    const status = JSON.parse(String(error.body)) as { details?: { causes?: StatusCause[] } };
    return status.details?.causes ?? [];
  }
  throw new Error(`the API server accepted ${body.kind} ${JSON.stringify(body.spec)}`);
}

beforeAll(async () => {
  await kubectl('apply', '--server-side', '-f', crdsDir);
  await kubectl(
    'wait',
    '--for=condition=Established',
    '--timeout=60s',
    ...readCrds().map((crd) => `crd/${crd.document.metadata.name}`),
  );
  namespace = await createNamespace('api');
});

afterAll(async () => {
  await kubectl('delete', '--ignore-not-found', '--wait=false', 'clustersecretstore', 'gcp-analytics');
  await deleteNamespace(namespace);
});

describe('the secretlink.dev CRDs', () => {
  it('install idempotently with server-side apply and serve three resources, all in the secretlink category', async () => {
    const again = await kubectl('apply', '--server-side', '-f', crdsDir);
    expect(again.stdout).toMatch(/secretreferences\.secretlink\.dev serverside-applied/);

    const { stdout } = await kubectl('api-resources', `--api-group=${group}`, '--no-headers', '-o', 'wide');
    const rows = stdout
      .trim()
      .split('\n')
      .map((line) => line.trim().split(/\s+/));
    expect(rows.map((row) => row.slice(0, 2))).toEqual([
      ['clustersecretstores', 'cstore'],
      ['secretreferences', 'sref'],
      ['secretstores', 'sstore'],
    ]);
    for (const row of rows) expect(row.at(-1)).toBe('secretlink');
  });

  it('apply every sample with server-side apply, twice without change', async () => {
    const first = await kubectl('apply', '--server-side', '-k', samplesDir, '-n', namespace);
    expect(first.stdout).toMatch(/secretreference\.secretlink\.dev\/snowflake-loader serverside-applied/);
    const versions = () =>
      kubectl(
        'get',
        'secretlink',
        '-n',
        namespace,
        '-o',
        'jsonpath={.items[*].metadata.resourceVersion}',
      ).then((result) => result.stdout);
    const before = await versions();
    await kubectl('apply', '--server-side', '-k', samplesDir, '-n', namespace);
    // Applying the same manifests again is a no-op: no object is rewritten (what Argo CD and Flux rely on).
    expect(await versions()).toBe(before);

    const { stdout } = await kubectl('get', 'secretlink', '-n', namespace, '-o', 'name');
    // The category covers the cluster-scoped store too.
    expect(stdout.trim().split('\n').sort()).toEqual([
      'clustersecretstore.secretlink.dev/gcp-analytics',
      'secretreference.secretlink.dev/bigquery-dbt',
      'secretreference.secretlink.dev/postgres-source',
      'secretreference.secretlink.dev/snowflake-loader',
      'secretstore.secretlink.dev/aws-warehouse',
      'secretstore.secretlink.dev/vault-elt',
    ]);
    const cluster = await kubectl(
      'get',
      'cstore',
      'gcp-analytics',
      '-o',
      'jsonpath={.spec.provider.gcp.projectID}',
    );
    expect(cluster.stdout).toBe('acme-analytics');
  });

  it('fill in the defaults the spec leaves out', async () => {
    const reference = (await dryRunCreate({
      apiVersion: 'secretlink.dev/v1alpha1',
      kind: 'SecretReference',
      metadata: { name: 'minimal' },
      spec: {
        storeRef: { name: 'vault-elt' },
        data: [{ key: 'password', remote: { name: 'elt/db' } }],
        consumers: { matchLabels: { app: 'meltano' } },
      },
    })) as SecretReference;
    expect(reference.spec).toMatchObject({
      ttl: '1h',
      refreshInterval: '5m',
      storeRef: { kind: 'SecretStore' },
      target: { type: 'Opaque' },
    });
    expect(reference.spec.target?.name).toBeUndefined();

    const kubernetesAuth = (await dryRunCreate({
      apiVersion: 'secretlink.dev/v1alpha1',
      kind: 'SecretStore',
      metadata: { name: 'minimal' },
      spec: {
        provider: {
          vault: {
            server: 'https://vault.example.com',
            auth: { kubernetes: { role: 'elt', serviceAccountRef: { name: 'vault-auth' } } },
          },
        },
      },
    })) as SecretStore;
    expect(kubernetesAuth.spec.provider.vault).toMatchObject({
      kv: { mount: defaults.vaultKvMount, version: defaults.vaultKvVersion },
      auth: { kubernetes: { mountPath: 'kubernetes' } },
    });

    const appRole = (await dryRunCreate({
      apiVersion: 'secretlink.dev/v1alpha1',
      kind: 'SecretStore',
      metadata: { name: 'minimal-approle' },
      spec: {
        provider: {
          vault: {
            server: 'https://vault.example.com',
            kv: { version: 1 },
            auth: { appRole: { roleId: 'r-1', secretIdRef: { name: 'approle', key: 'secret-id' } } },
          },
        },
      },
    })) as SecretStore;
    expect(appRole.spec.provider.vault).toMatchObject({
      kv: { mount: 'secret', version: 1 },
      auth: { appRole: { mountPath: 'approle' } },
    });
  });

  it('accept each base object that the refusal table below breaks in one place', async () => {
    for (const { base } of invalidObjects) await expect(dryRunCreate(base())).resolves.toBeTruthy();
  });

  it.each(invalidObjects.map((entry) => [entry.what, entry] as const))(
    'refuse %s, naming the field',
    async (_what, { base, mutate, field, message }) => {
      const body = base();
      mutate(body as never);
      const causes = await refusal(body);
      const cause = causes.find((candidate) => candidate.field === field);
      expect(cause, `causes: ${JSON.stringify(causes)}`).toBeDefined();
      expect(cause!.message).toContain(message);
    },
  );

  it('show kubectl users the field, the value and how to fix it', async () => {
    const manifest = stringify({
      apiVersion: 'secretlink.dev/v1alpha1',
      kind: 'SecretReference',
      metadata: { name: 'too-long', namespace },
      spec: {
        storeRef: { name: 'vault-elt' },
        dataFrom: [{ remote: { name: 'elt/db' } }],
        consumers: { matchLabels: { app: 'meltano' } },
        ttl: '36h',
      },
    });
    const failure = await kubectlWithInput(manifest, 'apply', '--server-side', '-f', '-');
    expect(failure).toContain(
      'spec.ttl: Invalid value: "36h": spec.ttl must be a duration from 1m to 24h, written like 90s, 45m or 1h30m, e.g. 1h',
    );
  });

  it('refuse a misspelt field instead of dropping it silently', async () => {
    const manifest = stringify({
      apiVersion: 'secretlink.dev/v1alpha1',
      kind: 'SecretReference',
      metadata: { name: 'misspelt', namespace },
      spec: {
        storeRef: { name: 'vault-elt' },
        dataFrom: [{ remote: { name: 'elt/db' } }],
        consumers: { matchLabels: { app: 'meltano' } },
        refreshIntreval: '1m',
      },
    });
    const failure = await kubectlWithInput(manifest, 'apply', '--server-side', '-f', '-');
    expect(failure).toContain('.spec.refreshIntreval: field not declared in schema');
  });

  it('keep status apart from spec: status is written only through the status subresource', async () => {
    const name = 'status-split';
    await custom().createNamespacedCustomObject({
      group,
      version,
      namespace,
      plural: 'secretreferences',
      body: {
        apiVersion: 'secretlink.dev/v1alpha1',
        kind: 'SecretReference',
        metadata: { name },
        spec: {
          storeRef: { name: 'vault-elt' },
          dataFrom: [{ remote: { name: 'elt/db' } }],
          consumers: { matchLabels: { app: 'meltano' } },
        },
        status: { consumingJobCount: 99 },
      },
    });
    const created = (await custom().getNamespacedCustomObject({
      group,
      version,
      namespace,
      plural: 'secretreferences',
      name,
    })) as SecretReference;
    expect(created.status).toBeUndefined();

    await kubectl(
      'patch',
      'sref',
      name,
      '-n',
      namespace,
      '--subresource=status',
      '--type=merge',
      '-p',
      JSON.stringify({ status: { consumingJobCount: 1 } }),
    );
    const patched = (await custom().getNamespacedCustomObject({
      group,
      version,
      namespace,
      plural: 'secretreferences',
      name,
    })) as SecretReference;
    expect(patched.status?.consumingJobCount).toBe(1);
    expect(patched.metadata.generation).toBe(created.metadata.generation);
  });
});

describe('kubectl', () => {
  it('lists SecretReferences with store, target, readiness, consuming Jobs and expiry', async () => {
    await kubectl('apply', '--server-side', '-k', samplesDir, '-n', namespace);
    const status = {
      observedGeneration: 1,
      secretName: 'snowflake-loader',
      consumingJobCount: 2,
      expiresAt: '2031-05-01T04:30:00Z',
      conditions: [
        {
          type: 'Ready',
          status: 'True',
          reason: 'Materialized',
          message: 'written for 2 Jobs',
          lastTransitionTime: '2031-05-01T02:30:00Z',
        },
      ],
    };
    await kubectl(
      'patch',
      'sref',
      'snowflake-loader',
      '-n',
      namespace,
      '--subresource=status',
      '--type=merge',
      '-p',
      JSON.stringify({ status }),
    );

    const { stdout } = await kubectl('get', 'sref', 'snowflake-loader', '-n', namespace);
    const [header, row] = stdout
      .trim()
      .split('\n')
      .map((line) => line.trim().split(/\s{2,}/));
    expect(header).toEqual(['NAME', 'STORE', 'TARGET', 'READY', 'REASON', 'JOBS', 'EXPIRES', 'AGE']);
    // A future time shows as a timestamp: kubectl would print <invalid> for a date column in the future.
    expect(row!.slice(0, 7)).toEqual([
      'snowflake-loader',
      'aws-warehouse',
      'snowflake-loader',
      'True',
      'Materialized',
      '2',
      '2031-05-01T04:30:00Z',
    ]);

    const wide = await kubectl('get', 'sref', 'snowflake-loader', '-n', namespace, '-o', 'wide');
    expect(wide.stdout).toMatch(/STORE KIND\s+MESSAGE/);
    expect(wide.stdout).toMatch(/SecretStore\s+written for 2 Jobs/);
  });

  it('lists stores with their provider and readiness', async () => {
    await kubectl('apply', '--server-side', '-k', samplesDir, '-n', namespace);
    const status = {
      provider: 'vault',
      conditions: [
        {
          type: 'Ready',
          status: 'False',
          reason: 'CredentialsNotFound',
          message: 'x',
          lastTransitionTime: '2031-05-01T02:30:00Z',
        },
      ],
    };
    await kubectl(
      'patch',
      'sstore',
      'vault-elt',
      '-n',
      namespace,
      '--subresource=status',
      '--type=merge',
      '-p',
      JSON.stringify({ status }),
    );
    const { stdout } = await kubectl('get', 'sstore', 'vault-elt', '-n', namespace);
    const [header, row] = stdout
      .trim()
      .split('\n')
      .map((line) => line.trim().split(/\s{2,}/));
    expect(header).toEqual(['NAME', 'PROVIDER', 'READY', 'REASON', 'AGE']);
    expect(row!.slice(0, 4)).toEqual(['vault-elt', 'vault', 'False', 'CredentialsNotFound']);
  });

  it.each([
    ['SecretReference', 'secretreference', 'spec'],
    ['SecretStore', 'secretstore', 'spec'],
    ['ClusterSecretStore', 'clustersecretstore', 'spec'],
  ])('explains every field of %s.spec with its description', async (kind, resource, root) => {
    const schema = readCrds().find((crd) => crd.kind === kind)!.schema.properties![root]!;

    const recursive = await eventually('kubectl explain to know the resource', () =>
      kubectl('explain', `${resource}.${root}`, '--recursive').then((result) => result.stdout),
    );
    for (const field of fieldNames(schema)) expect(recursive).toMatch(new RegExp(`^\\s+${field}\\s`, 'm'));

    // Without --recursive, kubectl prints the description of each field one level down.
    for (const [fieldPath, node] of objectNodes(schema, `${resource}.${root}`)) {
      const { stdout } = await kubectl('explain', fieldPath);
      const shown = squash(stdout);
      expect(shown, fieldPath).toContain(squash(node.description!));
      for (const [name, child] of Object.entries(node.properties ?? {})) {
        expect(shown, `${fieldPath}.${name}`).toContain(squash(child.description!));
      }
    }
  });
});

function squash(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

function fieldNames(node: SchemaNode): string[] {
  const objectNode = node.items ?? node;
  return Object.entries(objectNode.properties ?? {}).flatMap(([name, child]) => [name, ...fieldNames(child)]);
}

/** Every object below `node` that has fields, with the path kubectl explain takes (lists are transparent). */
function objectNodes(node: SchemaNode, fieldPath: string): [string, SchemaNode][] {
  const objectNode = node.items ?? node;
  if (!objectNode.properties) return [];
  return [
    [fieldPath, objectNode],
    ...Object.entries(objectNode.properties).flatMap(([name, child]) =>
      objectNodes(child, `${fieldPath}.${name}`),
    ),
  ];
}

/** Runs kubectl with `input` on stdin and returns what it printed, whether it succeeded or not. */
function kubectlWithInput(input: string, ...args: string[]): Promise<string> {
  const { kubeconfig, kubectl: binary } = environment();
  return new Promise((resolve, reject) => {
    const child = spawn(binary, ['--kubeconfig', kubeconfig, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    const collect = (chunk: Buffer) => {
      output += chunk.toString();
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.on('error', reject);
    child.on('close', () => resolve(output));
    child.stdin.end(input);
  });
}
