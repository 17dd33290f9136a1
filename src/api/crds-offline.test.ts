// Validates manifests against crds/ with no API server, as a CI job or a pre-commit hook would: kubeconform
// (built from its pinned Go module) checks them against JSON Schemas converted from the CRDs.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { ensureComponent } from '../../test/env/build.ts';
import { kubeconform as kubeconformComponent, repoRoot } from '../../test/env/components.ts';
import { consoleProgress } from '../../test/env/progress.ts';
import { readCrds } from '../../test/support/crd-files.ts';
import { toJsonSchema } from '../../test/support/json-schema.ts';

const exec = promisify(execFile);
const samplesDir = path.join(repoRoot, 'config', 'samples');
/** Kinds from Kubernetes itself: their schemas would need a download, and the API server tests cover them. */
const builtInKinds = ['ServiceAccount', 'ConfigMap', 'CronJob', 'Role', 'RoleBinding'];

interface Resource {
  filename: string;
  kind: string;
  name: string;
  status: 'statusValid' | 'statusInvalid' | 'statusError' | 'statusSkipped' | 'statusEmpty';
  msg: string;
  validationErrors?: { path: string; msg: string }[] | null;
}

let workDir: string;
let binary: string;

beforeAll(async () => {
  binary = (await ensureComponent(kubeconformComponent, consoleProgress('[kubeconform]'))).kubeconform!;
  workDir = await mkdtemp(path.join(os.tmpdir(), 'secretlink-schemas-'));
  // kubeconform looks schemas up by group, lower-case kind and version.
  for (const crd of readCrds()) {
    const dir = path.join(workDir, 'schemas', crd.document.spec.group);
    await mkdir(dir, { recursive: true });
    const file = `${crd.kind.toLowerCase()}_${crd.document.spec.versions[0]!.name}.json`;
    await writeFile(path.join(dir, file), JSON.stringify(toJsonSchema(crd), null, 2));
  }
}, 600_000);

afterAll(async () => {
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

async function kubeconform(files: string[]): Promise<Resource[]> {
  const args = [
    '-strict',
    '-verbose',
    '-output',
    'json',
    '-skip',
    builtInKinds.join(','),
    '-schema-location',
    `${workDir}/schemas/{{ .Group }}/{{ .ResourceKind }}_{{ .ResourceAPIVersion }}.json`,
    ...files,
  ];
  // Exit status 1 means "some resource is invalid"; the JSON report says which.
  const { stdout } = await exec(binary, args).catch((error: { code?: number; stdout?: string }) => {
    if (error.code === 1 && error.stdout) return { stdout: error.stdout };
    throw error;
  });
  return (JSON.parse(stdout) as { resources: Resource[] }).resources;
}

async function validateOne(manifest: object): Promise<Resource> {
  const file = path.join(workDir, `manifest-${Math.random().toString(36).slice(2)}.yaml`);
  await writeFile(file, stringify(manifest));
  const [result] = await kubeconform([file]);
  return result!;
}

describe('offline validation with kubeconform', () => {
  it('accepts every sample, and checks every secretlink resource among them against its schema', async () => {
    const files = (await readdir(samplesDir)).filter((file) => file.endsWith('.yaml'));
    const results = await kubeconform(files.map((file) => path.join(samplesDir, file)));

    const checked = results.filter((result) => !builtInKinds.includes(result.kind));
    expect(checked.map(({ kind, name, status }) => ({ kind, name, status }))).toEqual(
      expect.arrayContaining([
        { kind: 'SecretStore', name: 'aws-warehouse', status: 'statusValid' },
        { kind: 'SecretStore', name: 'vault-elt', status: 'statusValid' },
        { kind: 'ClusterSecretStore', name: 'gcp-analytics', status: 'statusValid' },
        { kind: 'SecretReference', name: 'snowflake-loader', status: 'statusValid' },
        { kind: 'SecretReference', name: 'postgres-source', status: 'statusValid' },
        { kind: 'SecretReference', name: 'bigquery-dbt', status: 'statusValid' },
      ]),
    );
    expect(checked.filter((result) => result.status !== 'statusValid')).toEqual([]);
  });

  const reference = (spec: Record<string, unknown>) => ({
    apiVersion: 'secretlink.dev/v1alpha1',
    kind: 'SecretReference',
    metadata: { name: 'broken' },
    spec: {
      storeRef: { name: 'vault-elt' },
      data: [{ key: 'password', remote: { name: 'elt/db' } }],
      consumers: { matchLabels: { app: 'meltano' } },
      ...spec,
    },
  });
  const store = (provider: Record<string, unknown>, kind = 'SecretStore', extra = {}) => ({
    apiVersion: 'secretlink.dev/v1alpha1',
    kind,
    metadata: { name: 'broken' },
    spec: { provider, ...extra },
  });
  const vault = {
    server: 'https://vault.example.com',
    auth: { tokenSecretRef: { name: 'vault', key: 'token' } },
  };

  it.each([
    ['a misspelt field', reference({ consumer: {} }), '/spec', 'consumer'],
    ['a duration written as a number', reference({ ttl: 3600 }), '/spec/ttl', 'string'],
    [
      'an unknown store kind',
      reference({ storeRef: { kind: 'Store', name: 'x' } }),
      '/spec/storeRef/kind',
      'SecretStore',
    ],
    [
      'no consumers',
      { ...reference({}), spec: { storeRef: { name: 'x' }, dataFrom: [{ remote: { name: 'a' } }] } },
      '/spec',
      'consumers',
    ],
    ['a data entry without a remote', reference({ data: [{ key: 'password' }] }), '/spec/data/0', 'remote'],
    [
      'a Secret key longer than 253 characters',
      reference({ data: [{ key: 'k'.repeat(254), remote: { name: 'a' } }] }),
      '/spec/data/0/key',
      '253',
    ],
    [
      'a KV version other than 1 or 2',
      store({ vault: { ...vault, kv: { version: 3 } } }),
      '/spec/provider/vault/kv/version',
      '1',
    ],
    [
      'an AWS store without a region',
      store({ aws: { auth: { defaultChain: {} } } }),
      '/spec/provider/aws',
      'region',
    ],
    [
      'a ClusterSecretStore without allowedNamespaces',
      store({ vault }, 'ClusterSecretStore'),
      '/spec',
      'allowedNamespaces',
    ],
  ])('rejects %s, naming the field', async (_what, manifest, fieldPath, mentioned) => {
    const result = await validateOne(manifest);
    expect(result.status).toBe('statusInvalid');
    const errors = result.validationErrors ?? [];
    expect(errors.map((error) => error.path)).toContain(fieldPath);
    expect(errors.find((error) => error.path === fieldPath)!.msg).toContain(mentioned);
  });
});
