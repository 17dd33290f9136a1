// A provider's SDK stays out of memory until a store of its kind builds a client. Each case runs in a fresh
// Node process that records every module it resolves, so what was loaded is observed, not assumed.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { Unavailable } from './errors.ts';
import { loadClientModule } from './load-client.ts';

const storeClients = new URL('./store-clients.ts', import.meta.url).href;

const stores = {
  aws: { aws: { region: 'eu-west-1', endpoint: 'http://127.0.0.1:9', auth: { defaultChain: {} } } },
  gcp: { gcp: { projectID: 'my-project', endpoint: '127.0.0.1:9', auth: { applicationDefault: {} } } },
  vault: {
    vault: {
      server: 'http://127.0.0.1:9',
      auth: { tokenSecretRef: { name: 'vault', key: 'token', namespace: 'platform' } },
    },
  },
};

/** The package folders (and the provider's own client file) that a process loaded, after building clients. */
async function loadedAfterBuilding(kinds: (keyof typeof stores)[]): Promise<string[]> {
  const script = `
    import { registerHooks } from 'node:module';
    const seen = new Set();
    registerHooks({ resolve(specifier, context, next) { const r = next(specifier, context); seen.add(r.url); return r; } });
    const { StoreClients } = await import(${JSON.stringify(storeClients)});
    const credentials = { read: async () => undefined, secretResourceVersion: async () => '1', mintToken: async () => '' };
    const clients = new StoreClients({ credentials });
    let uid = 0;
    for (const provider of ${JSON.stringify(kinds.map((kind) => stores[kind]))}) {
      const store = { kind: 'ClusterSecretStore', metadata: { name: 's' + uid, uid: String(uid++) }, spec: { provider } };
      await clients.clientFor(store);
    }
    await clients.close();
    const names = new Set();
    for (const url of seen) {
      const pkg = url.match(/node_modules\\/((@[^/]+\\/)?[^/]+)/);
      if (pkg) names.add(pkg[1]);
      const own = url.match(/providers\\/(\\w+\\/client)\\.ts$/);
      if (own) names.add(own[1]);
    }
    console.log(JSON.stringify([...names].sort()));
  `;
  const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script]);
  return JSON.parse(stdout) as string[];
}

const gcpStack = ['@google-cloud/secret-manager', 'google-gax', '@grpc/grpc-js', 'protobufjs'];

describe('provider SDKs load on first use', () => {
  it('builds an AWS client without loading GCP’s grpc stack', async () => {
    const loaded = await loadedAfterBuilding(['aws']);
    expect(loaded).toContain('@aws-sdk/client-secrets-manager');
    expect(loaded).toContain('aws/client');
    for (const name of [...gcpStack, 'google-auth-library', 'gcp/client', 'vault/client']) {
      expect(loaded).not.toContain(name);
    }
  });

  it('builds a GCP client without loading the AWS SDK', async () => {
    const loaded = await loadedAfterBuilding(['gcp']);
    expect(loaded).toEqual(expect.arrayContaining([...gcpStack, 'gcp/client']));
    expect(loaded.filter((name) => name.startsWith('@aws-sdk/') || name === 'aws/client')).toEqual([]);
  });

  it('loads neither SDK for a Vault store', async () => {
    const loaded = await loadedAfterBuilding(['vault']);
    expect(loaded).toContain('vault/client');
    expect(loaded.filter((name) => name.startsWith('@aws-sdk/') || gcpStack.includes(name))).toEqual([]);
  });
});

describe('loadClientModule', () => {
  it('reports a client library that cannot be loaded as the store being unavailable', async () => {
    const failing = loadClientModule('gcp', () => import(`./missing-${Date.now()}.ts`));
    const error = await failing.catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(Unavailable);
    expect((error as Unavailable).message).toBe('the gcp client library could not be loaded');
    expect((error as Unavailable).detail.provider).toBe('gcp');
  });
});
