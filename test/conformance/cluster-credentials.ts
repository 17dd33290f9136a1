// The credentials side of every fixture: a namespace of this run on the real API server, Secrets and
// ServiceAccounts in it, each opted in to the stores that may use it, and the operator's CredentialSource
// reading them.
import * as k8s from '@kubernetes/client-node';
import { allowedStoresAnnotation } from '../../src/providers/allowed-stores.ts';
import { KubeCredentialSource } from '../../src/providers/kube-credentials.ts';
import { api, createNamespace, deleteNamespace, kubeConfig } from '../support/cluster.ts';

export class ClusterCredentials {
  readonly namespace: string;
  readonly source: KubeCredentialSource;
  readonly #core = api(k8s.CoreV1Api);

  private constructor(namespace: string) {
    this.namespace = namespace;
    this.source = new KubeCredentialSource(kubeConfig());
  }

  static async create(prefix: string): Promise<ClusterCredentials> {
    return new ClusterCredentials(await createNamespace(prefix));
  }

  /** A Secret that the SecretStores of this namespace named in `stores` may use. */
  async secret(name: string, data: Record<string, string>, stores: string[]): Promise<void> {
    await this.#core.createNamespacedSecret({
      namespace: this.namespace,
      body: { metadata: { name, annotations: optIn(stores) }, stringData: data },
    });
  }

  /** A ServiceAccount that the SecretStores of this namespace named in `stores` may mint tokens for. */
  async serviceAccount(name: string, stores: string[]): Promise<void> {
    await this.#core.createNamespacedServiceAccount({
      namespace: this.namespace,
      body: { metadata: { name, annotations: optIn(stores) } },
    });
  }

  async close(): Promise<void> {
    await deleteNamespace(this.namespace);
  }
}

/** The allowed-stores annotation naming these SecretStores. */
export function optIn(stores: string[]): Record<string, string> {
  return { [allowedStoresAnnotation]: stores.map((store) => `SecretStore/${store}`).join(',') };
}
