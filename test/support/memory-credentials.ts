// A CredentialSource over plain maps: for unit tests of what providers read and from where, and for the
// provider benchmark. The operator uses the API server (kube-credentials.ts); this one applies the same
// opt-in rule, so a test that forgets the allowed-stores annotation fails the way the operator would.
import {
  allowedStoresAnnotation,
  type CredentialRequester,
  requireOptIn,
} from '../../src/providers/allowed-stores.ts';
import type {
  CredentialSource,
  MintedToken,
  SecretKeyValue,
  TokenOptions,
} from '../../src/providers/credentials.ts';
import { CredentialNotFound, InvalidSpec } from '../../src/providers/errors.ts';

export class MemoryCredentialSource implements CredentialSource {
  /** `namespace/name` -> key -> value, with a resourceVersion and annotations per Secret. */
  readonly secrets = new Map<
    string,
    { version: string; data: Record<string, string>; annotations: Record<string, string> }
  >();
  /** `namespace/name` -> annotations of each ServiceAccount. */
  readonly serviceAccounts = new Map<string, Record<string, string>>();
  readonly reads: string[] = [];
  readonly versionChecks: string[] = [];
  readonly mints: { namespace: string; name: string; audience: string; expirationSeconds: number }[] = [];
  mintError?: Error;

  /** A Secret that the stores in `allowedStores` (annotation entries such as `SecretStore/aws`) may use. */
  put(
    namespace: string,
    name: string,
    data: Record<string, string>,
    { version = '1', allowedStores = [] }: { version?: string; allowedStores?: string[] } = {},
  ): void {
    const annotations = { [allowedStoresAnnotation]: allowedStores.join(',') };
    this.secrets.set(`${namespace}/${name}`, { version, data, annotations });
  }

  /** A ServiceAccount that the stores in `allowedStores` may mint tokens for. */
  serviceAccount(namespace: string, name: string, allowedStores: string[]): void {
    this.serviceAccounts.set(`${namespace}/${name}`, { [allowedStoresAnnotation]: allowedStores.join(',') });
  }

  async readSecretKey(
    namespace: string,
    name: string,
    key: string,
    requester: CredentialRequester,
  ): Promise<SecretKeyValue> {
    const secret = this.secrets.get(`${namespace}/${name}`);
    if (!secret) throw new CredentialNotFound(`Secret ${namespace}/${name} does not exist`);
    requireOptIn({ kind: 'Secret', namespace, name }, secret.annotations, requester);
    this.reads.push(`${namespace}/${name}#${key}`);
    const value = secret.data[key];
    if (value === undefined) throw new CredentialNotFound(`Secret ${namespace}/${name} has no key ${key}`);
    return { value: Buffer.from(value), resourceVersion: secret.version };
  }

  async secretResourceVersion(namespace: string, name: string): Promise<string | undefined> {
    this.versionChecks.push(`${namespace}/${name}`);
    return this.secrets.get(`${namespace}/${name}`)?.version;
  }

  async mintServiceAccountToken(
    namespace: string,
    name: string,
    options: TokenOptions,
    requester: CredentialRequester,
  ): Promise<MintedToken> {
    if (!options.audience)
      throw new InvalidSpec(`a token for ServiceAccount ${namespace}/${name} needs an audience`);
    const annotations = this.serviceAccounts.get(`${namespace}/${name}`);
    if (!annotations) throw new CredentialNotFound(`ServiceAccount ${namespace}/${name} does not exist`);
    requireOptIn({ kind: 'ServiceAccount', namespace, name }, annotations, requester);
    this.mints.push({ namespace, name, ...options });
    if (this.mintError) throw this.mintError;
    return {
      token: `token-for-${namespace}-${name}`,
      expiresAt: new Date(Date.now() + options.expirationSeconds * 1000),
    };
  }
}
