// The credentials side of every fixture: a namespace of this run on the real API server, Secrets and
// ServiceAccounts in it, and the operator's CredentialSource reading them.
import * as k8s from '@kubernetes/client-node';
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

  async secret(name: string, data: Record<string, string>): Promise<void> {
    await this.#core.createNamespacedSecret({
      namespace: this.namespace,
      body: { metadata: { name }, stringData: data },
    });
  }

  async serviceAccount(name: string): Promise<void> {
    await this.#core.createNamespacedServiceAccount({
      namespace: this.namespace,
      body: { metadata: { name } },
    });
  }

  async close(): Promise<void> {
    await deleteNamespace(this.namespace);
  }
}
