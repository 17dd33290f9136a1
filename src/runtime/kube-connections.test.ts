import * as k8s from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { reuseConnections } from './kube-connections.ts';

const pem = (label: string) =>
  Buffer.from(`-----BEGIN CERTIFICATE-----\n${label}\n-----END CERTIFICATE-----\n`).toString('base64');

function kubeConfig(clientCert: string): k8s.KubeConfig {
  const config = new k8s.KubeConfig();
  config.loadFromOptions({
    clusters: [{ name: 'c', server: 'https://127.0.0.1:6443', caData: pem('ca') }],
    users: [{ name: 'u', certData: pem(clientCert), keyData: pem('key') }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  return config;
}

/** The dispatcher client-node gives one request. */
async function dispatcherOf(config: k8s.KubeConfig): Promise<unknown> {
  let dispatcher: unknown;
  await config.applySecurityAuthentication({
    setHeaderParam: () => undefined,
    setDispatcher: (value: unknown) => {
      dispatcher = value;
    },
  } as unknown as k8s.RequestContext);
  return dispatcher;
}

describe('reuseConnections', () => {
  it('gives every request the same dispatcher, where client-node alone builds one per request', async () => {
    const plain = kubeConfig('client');
    expect(await dispatcherOf(plain)).not.toBe(await dispatcherOf(plain));

    const reused = kubeConfig('client');
    reuseConnections(reused);
    reuseConnections(reused);
    const first = await dispatcherOf(reused);
    expect(first).toBeDefined();
    expect(await dispatcherOf(reused)).toBe(first);
  });

  it('builds a new dispatcher when the TLS material changes, as after a certificate rotation', async () => {
    const config = kubeConfig('client');
    reuseConnections(config);
    const before = await dispatcherOf(config);
    config.users[0] = { ...config.users[0]!, certData: pem('rotated') };
    const after = await dispatcherOf(config);
    expect(after).not.toBe(before);
    expect(await dispatcherOf(config)).toBe(after);
  });
});
