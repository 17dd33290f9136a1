// The migration command against the real API server: its output, once the consumers are filled in, is valid
// secretlink API (server-side dry run, strict field validation), and what it leaves for the user to fill in
// is refused by the API server with a message that says what to do.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../env/components.ts';
import { createNamespace, deleteNamespace, kubectl } from '../support/cluster.ts';
import { crdsDir, readCrds } from '../support/crd-files.ts';

const exec = promisify(execFile);
const example = path.join(repoRoot, 'test', 'integration', 'migrate-eso-example.yaml');

let namespace: string;
let workDir: string;

/** Runs the command as the README documents it, with the example moved into this file's namespace. */
async function runMigrate(input: string): Promise<{ stdout: string; stderr: string; report: unknown }> {
  const inputFile = path.join(workDir, `eso-${Math.random().toString(36).slice(2)}.yaml`);
  const reportFile = `${inputFile}.report.json`;
  await writeFile(inputFile, input);
  const { stdout, stderr } = await exec(
    process.execPath,
    [path.join(repoRoot, 'src', 'migrate', 'cli.ts'), '--report', reportFile, inputFile],
    { cwd: repoRoot },
  );
  return { stdout, stderr, report: JSON.parse(await readFile(reportFile, 'utf8')) };
}

/** `kubectl apply --dry-run=server`: validated and defaulted by the API server, never stored. */
async function dryRunApply(manifests: string): Promise<{ ok: boolean; output: string }> {
  const file = path.join(workDir, `out-${Math.random().toString(36).slice(2)}.yaml`);
  await writeFile(file, manifests);
  try {
    const { stdout, stderr } = await kubectl('apply', '--dry-run=server', '--validate=strict', '-f', file);
    return { ok: true, output: stdout + stderr };
  } catch (error) {
    const failed = error as { stdout?: string; stderr?: string };
    return { ok: false, output: `${failed.stdout ?? ''}${failed.stderr ?? ''}` };
  }
}

async function exampleInNamespace(): Promise<string> {
  return (await readFile(example, 'utf8')).replaceAll(/\banalytics\b/g, namespace);
}

beforeAll(async () => {
  await kubectl('apply', '--server-side', '-f', crdsDir);
  await kubectl(
    'wait',
    '--for=condition=Established',
    '--timeout=60s',
    ...readCrds().map((crd) => `crd/${crd.document.metadata.name}`),
  );
  namespace = await createNamespace('migrate');
  workDir = await mkdtemp(path.join(tmpdir(), 'secretlink-migrate-'));
});

afterAll(async () => {
  await deleteNamespace(namespace);
  await rm(workDir, { recursive: true, force: true });
});

describe('npm run migrate against the API server', () => {
  it('produces stores and references the API server accepts once the consumers are filled in', async () => {
    const { stdout } = await runMigrate(await exampleInNamespace());
    // What a user does with the placeholder: say which Jobs may use each Secret.
    const filled = stdout.replaceAll(
      'consumers: {}',
      'consumers: { matchLabels: { app.kubernetes.io/name: elt } }',
    );
    const applied = await dryRunApply(filled);
    expect(applied.output).toContain(`secretstore.secretlink.dev/aws-warehouse created (server dry run)`);
    expect(applied.output).toContain('clustersecretstore.secretlink.dev/vault-elt created (server dry run)');
    for (const name of ['dbt-warehouse', 'meltano-tap-postgres', 'airbyte-source-stripe']) {
      expect(applied.output).toContain(`secretreference.secretlink.dev/${name} created (server dry run)`);
    }
    expect(applied.ok).toBe(true);
  });

  it('is refused by the API server while a converted ExternalSecret’s consumers placeholder is unfilled', async () => {
    const { stdout, stderr } = await runMigrate(await exampleInNamespace());
    expect(stdout).toContain('# FILL IN: which Jobs may use this Secret');
    expect(stderr).toContain('spec.consumers: ESO has no consumers: fill in which Jobs may use the Secret');
    const applied = await dryRunApply(stdout);
    expect(applied.ok).toBe(false);
    for (const name of ['dbt-warehouse', 'meltano-tap-postgres', 'airbyte-source-stripe']) {
      expect(applied.output).toContain(
        `SecretReference.secretlink.dev "${name}" is invalid: spec.consumers: Invalid value: ` +
          'spec.consumers must select Jobs by at least one label: set matchLabels or matchExpressions',
      );
    }
  });

  it('lists in its report exactly which credentials must opt in to which converted store', async () => {
    const { stderr, report } = await runMigrate(await exampleInNamespace());
    expect((report as { credentialOptIns: unknown }).credentialOptIns).toEqual([
      {
        kind: 'Secret',
        namespace,
        name: 'aws-keys',
        annotation: 'secretlink.dev/allowed-stores',
        entries: ['SecretStore/aws-warehouse'],
        value: 'SecretStore/aws-warehouse',
        needsTokenRequestGrant: false,
      },
      {
        kind: 'ServiceAccount',
        namespace: 'secretlink-system',
        name: 'vault-auth',
        annotation: 'secretlink.dev/allowed-stores',
        entries: ['ClusterSecretStore/vault-elt'],
        value: 'ClusterSecretStore/vault-elt',
        needsTokenRequestGrant: true,
      },
    ]);
    expect(stderr).toContain(
      `kubectl annotate secret -n ${namespace} aws-keys 'secretlink.dev/allowed-stores=SecretStore/aws-warehouse'`,
    );
  });

  it.each([
    {
      what: 'an IRSA store whose role is only in the ServiceAccount annotation',
      store: `kind: SecretStore
metadata: { name: aws-irsa, namespace: NS }
spec:
  provider:
    aws: { service: SecretsManager, region: eu-west-1, auth: { jwt: { serviceAccountRef: { name: elt } } } }`,
      refusal: 'roleArn must be an IAM role ARN',
    },
    {
      what: 'a namespaced store that used the controller’s ambient AWS identity',
      store: `kind: SecretStore
metadata: { name: aws-ambient, namespace: NS }
spec:
  provider:
    aws: { service: SecretsManager, region: eu-west-1 }`,
      refusal: "defaultChain is the operator's own AWS identity, which only a ClusterSecretStore may use",
    },
    {
      what: 'a ClusterSecretStore whose token Secret ESO looked up in each ExternalSecret’s namespace',
      store: `kind: ClusterSecretStore
metadata: { name: migrate-vault-referent }
spec:
  conditions: [{ namespaces: [NS] }]
  provider:
    vault: { server: "https://vault.acme.example", auth: { tokenSecretRef: { name: vault-token, key: token } } }`,
      refusal: 'namespace is required in a ClusterSecretStore: name the namespace that holds this credential',
    },
    {
      what: 'a GKE workload identity store without a pool provider audience',
      store: `kind: SecretStore
metadata: { name: gcp-gke, namespace: NS }
spec:
  provider:
    gcpsm:
      projectID: acme-analytics
      auth: { workloadIdentity: { clusterLocation: europe-west1, clusterName: prod, serviceAccountRef: { name: elt } } }`,
      refusal: 'workloadIdentity.serviceAccountRef.audience is required',
    },
  ])(
    'leaves $what for the user to fix, and the API server refuses it until then',
    async ({ store, refusal }) => {
      const input = `apiVersion: external-secrets.io/v1\n${store.replaceAll('NS', namespace)}\n`;
      const { stdout, report } = await runMigrate(input);
      expect((report as { findings: { severity: string }[] }).findings.map((f) => f.severity)).toContain(
        'action',
      );
      const applied = await dryRunApply(stdout);
      expect(applied.ok).toBe(false);
      expect(applied.output).toContain(refusal);
    },
  );
});
