// A CredentialSource over plain maps: for unit tests of what providers read and from where, and for the
// provider benchmark. The operator uses the API server (kube-credentials.ts).
import type { CredentialSource, MintedToken, SecretKeyValue } from './credentials.ts';
import { CredentialNotFound } from './errors.ts';

export class MemoryCredentialSource implements CredentialSource {
  /** `namespace/name` -> key -> value, with a resourceVersion per Secret. */
  readonly secrets = new Map<string, { version: string; data: Record<string, string> }>();
  readonly reads: string[] = [];
  readonly versionChecks: string[] = [];
  readonly mints: { namespace: string; name: string; audience?: string }[] = [];
  mintError?: Error;

  put(namespace: string, name: string, data: Record<string, string>, version = '1'): void {
    this.secrets.set(`${namespace}/${name}`, { version, data });
  }

  async readSecretKey(namespace: string, name: string, key: string): Promise<SecretKeyValue> {
    this.reads.push(`${namespace}/${name}#${key}`);
    const secret = this.secrets.get(`${namespace}/${name}`);
    const value = secret?.data[key];
    if (!secret || value === undefined)
      throw new CredentialNotFound(`Secret ${namespace}/${name} has no key ${key}`);
    return { value: Buffer.from(value), resourceVersion: secret.version };
  }

  async secretResourceVersion(namespace: string, name: string): Promise<string | undefined> {
    this.versionChecks.push(`${namespace}/${name}`);
    return this.secrets.get(`${namespace}/${name}`)?.version;
  }

  async mintServiceAccountToken(
    namespace: string,
    name: string,
    options: { audience?: string },
  ): Promise<MintedToken> {
    this.mints.push({ namespace, name, audience: options.audience });
    if (this.mintError) throw this.mintError;
    return { token: `token-for-${namespace}-${name}`, expiresAt: new Date(Date.now() + 600_000) };
  }
}
