// Keeps connections to the API server open across requests. @kubernetes/client-node (2.0) builds a new
// undici Agent for every request it authenticates, so every request, watches included, opened its own TLS
// connection (a new secure context, CA parsing, a handshake) and left it behind: under a burst of Jobs most
// of the operator's CPU went there. One dispatcher per distinct TLS configuration is reused instead; a
// configuration that changes (a rotated client certificate) gets a dispatcher of its own.
import { createHash } from 'node:crypto';
import type * as k8s from '@kubernetes/client-node';

/** Dispatchers kept for the latest TLS configurations; older ones are closed once their requests finish. */
const keptConfigurations = 4;

type CreateDispatcher = (cluster: k8s.Cluster | null, agentOptions: Record<string, unknown>) => unknown;

const reusing = new WeakSet<k8s.KubeConfig>();

/** Makes every client made from `kubeConfig` share connections. Idempotent. */
export function reuseConnections(kubeConfig: k8s.KubeConfig): void {
  if (reusing.has(kubeConfig)) return;
  const target = kubeConfig as unknown as { createDispatcher?: CreateDispatcher };
  const create = target.createDispatcher;
  // Another client-node version may build its dispatchers differently: then it is left as it is.
  if (typeof create !== 'function') return;
  reusing.add(kubeConfig);
  const dispatchers = new Map<string, unknown>();
  target.createDispatcher = (cluster, agentOptions) => {
    const key = configurationKey(cluster, agentOptions);
    if (dispatchers.has(key)) return dispatchers.get(key);
    const dispatcher = create.call(kubeConfig, cluster, agentOptions);
    dispatchers.set(key, dispatcher);
    for (const [oldKey, old] of dispatchers) {
      if (dispatchers.size <= keptConfigurations) break;
      dispatchers.delete(oldKey);
      void (old as { close?: () => Promise<void> } | undefined)?.close?.().catch(() => undefined);
    }
    return dispatcher;
  };
}

/** A digest of what the dispatcher is built from: the server, the proxy and the TLS material. */
function configurationKey(cluster: k8s.Cluster | null, options: Record<string, unknown>): string {
  const hash = createHash('sha256');
  const parts: unknown[] = [cluster?.server, cluster?.proxyUrl, cluster?.skipTLSVerify];
  for (const name of ['ca', 'cert', 'key', 'pfx', 'passphrase', 'rejectUnauthorized', 'servername'])
    parts.push(options[name]);
  for (const part of parts) {
    hash.update(part === undefined ? '\u0000' : Buffer.isBuffer(part) ? part : JSON.stringify(part));
    hash.update('\u0001');
  }
  return hash.digest('hex');
}
