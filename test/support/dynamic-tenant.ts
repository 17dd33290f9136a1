// What the dynamic credential tests share: a namespace whose Vault store may issue database credentials (and
// nothing else of Vault's), a login to the environment's PostgreSQL as a credential would make it, and the
// lease handles a Secret carries, remembered so that the leak scans look for them.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { appendFile, readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import * as k8s from '@kubernetes/client-node';
import { expect, inject } from 'vitest';
import { leaseAnnotation } from '../../src/controller/dynamic-lease.ts';
import { handleCanariesFile, runLayout } from '../env/evidence/end-of-run.ts';
import { scanForCanary } from '../env/evidence/scan.ts';
import { allowedStores, vaultStoreSpec } from '../env/stores/store-specs.ts';
import { api, createNamespace } from './cluster.ts';
import { customApi, referenceApi, storeApi } from './operator.ts';
import { stores, vaultClient, writeVaultPolicy } from './stores.ts';

const exec = promisify(execFile);

export interface Login {
  username: string;
  password: string;
}

/** The least a store's Vault identity needs for dynamic credentials: nothing else of Vault's. */
const dynamicPolicy = `
path "database/creds/${'elt-reader'}" { capabilities = ["read"] }
path "auth/token/create-orphan" { capabilities = ["update"] }
path "auth/token/revoke-accessor" { capabilities = ["update"] }
path "sys/leases/renew" { capabilities = ["update"] }
path "sys/leases/revoke" { capabilities = ["update"] }
`;

/**
 * A namespace (named after `prefix`) with a Vault token limited to dynamic credentials, the SecretStore `vault`
 * and the SecretReference `warehouse` asking for the test role's credential for `app: elt` Jobs, with `spec`
 * added to its spec.
 */
export async function createDynamicTenant(
  prefix: string,
  spec: Record<string, unknown> = {},
): Promise<string> {
  const namespace = await createNamespace(prefix);
  const policy = `dynamic-${namespace}`;
  await writeVaultPolicy(policy, dynamicPolicy);
  const created = (await vaultClient().tokenCreate({
    policies: [policy],
    no_default_policy: true,
    ttl: '1h',
  })) as {
    auth: { client_token: string };
  };
  await api(k8s.CoreV1Api).createNamespacedSecret({
    namespace,
    body: {
      metadata: { name: 'vault-token', annotations: allowedStores('vault') },
      stringData: { token: created.auth.client_token },
    },
  });
  await customApi().createNamespacedCustomObject({
    ...storeApi,
    namespace,
    body: {
      apiVersion: 'secretlink.dev/v1alpha1',
      kind: 'SecretStore',
      metadata: { name: 'vault' },
      spec: vaultStoreSpec(stores().vault),
    },
  });
  await customApi().createNamespacedCustomObject({
    ...referenceApi,
    namespace,
    body: {
      apiVersion: 'secretlink.dev/v1alpha1',
      kind: 'SecretReference',
      metadata: { name: 'warehouse' },
      spec: {
        storeRef: { name: 'vault' },
        dynamic: { database: { role: stores().vault.databaseRole } },
        consumers: { matchLabels: { app: 'elt' } },
        ttl: '1m',
        ...spec,
      },
    },
  });
  return namespace;
}

/** A Job whose pods (kwok runs them for `runTime`) read the Secret `warehouse` into their env. */
export function startEltJob(namespace: string, name: string, runTime: string): Promise<k8s.V1Job> {
  return api(k8s.BatchV1Api).createNamespacedJob({
    namespace,
    body: {
      metadata: { name },
      spec: {
        backoffLimit: 0,
        template: {
          metadata: { labels: { app: 'elt' }, annotations: { 'secretlink.dev/simulated-run-time': runTime } },
          spec: {
            restartPolicy: 'Never',
            containers: [
              {
                name: 'load',
                image: 'meltano/meltano:v3.5',
                envFrom: [{ secretRef: { name: 'warehouse' } }],
              },
            ],
          },
        },
      },
    },
  });
}

/**
 * The credential a Secret holds. Its lease id and token accessor are added to `handles` and to the run's
 * handle canaries, which the end-of-run check scans the operator's whole output for.
 */
export async function loginOf(secret: k8s.V1Secret, handles: string[]): Promise<Login> {
  const handle = JSON.parse(secret.metadata?.annotations?.[leaseAnnotation] ?? '{}') as Record<
    string,
    string
  >;
  for (const value of [handle.leaseId, handle.tokenAccessor]) {
    if (!value) continue;
    handles.push(value);
    await appendFile(path.join(inject('environment').runDir, handleCanariesFile), `${value}\n`);
  }
  const decode = (key: string) => Buffer.from(secret.data![key]!, 'base64').toString('utf8');
  return { username: decode('username'), password: decode('password') };
}

function psqlArgs(login: Login, sql: string): { args: string[]; env: NodeJS.ProcessEnv } {
  const pg = stores().postgres;
  return {
    args: ['-h', pg.host, '-p', String(pg.port), '-U', login.username, '-d', pg.database, '-tAXc', sql],
    env: { ...process.env, PGPASSWORD: login.password, PGCONNECT_TIMEOUT: '5' },
  };
}

/** Logs in as the credential would; the answer is PostgreSQL's own. */
export async function logsIn(login: Login): Promise<boolean> {
  const { args, env } = psqlArgs(login, 'SELECT current_user');
  try {
    const { stdout } = await exec(stores().postgres.psql, args, { env });
    return stdout.trim() === login.username;
  } catch {
    return false;
  }
}

/** A session that stays open (as a long load would) until the server ends it. */
export function openSession(login: Login): { process: ChildProcess; ended: Promise<number | null> } {
  const { args, env } = psqlArgs(login, 'SELECT pg_sleep(600)');
  const child = spawn(stores().postgres.psql, args, { env, stdio: 'ignore' });
  return { process: child, ended: new Promise((resolve) => child.on('exit', (code) => resolve(code))) };
}

/**
 * No lease id or token accessor in what the operators wrote: their logs, audit files, and the Events and
 * statuses seen. (The store's own server log names leases: it is the store's, not the operator's.)
 */
export async function expectNoHandleInOperatorOutput(handles: readonly string[]): Promise<void> {
  const runDir = inject('environment').runDir;
  const logs = path.join(runDir, runLayout.logs);
  const operatorLogs = (await readdir(logs)).filter((name) => name.startsWith('operator-'));
  expect(operatorLogs.length).toBeGreaterThan(0);
  const scanned = [path.join(runDir, runLayout.audit), path.join(runDir, runLayout.evidence)];
  for (const handle of handles) {
    expect((await scanForCanary(scanned, handle)).hits).toEqual([]);
    for (const log of operatorLogs) {
      expect(await readFile(path.join(logs, log), 'utf8')).not.toContain(handle);
    }
  }
}
