// Reads from a Vault KV mount. A KV secret is a map of keys to values, so its whole value is that map as
// JSON and `property` picks a key. Vault keeps strings, not bytes: binary data must be stored encoded
// (base64, say) and comes back as that text. KV v2 has numbered versions and a metadata endpoint that
// answers existence without the value; KV v1 has neither.
import type { SecretPayload, StoreBackend, VersionSelector } from '../backend.ts';
import { AccessDenied, InvalidReference, NotFound, type ProviderError } from '../errors.ts';
import type { Existence } from '../types.ts';
import { mountPath, type VaultTokens } from './auth.ts';
import { mapVaultError, vaultStatusError } from './errors.ts';
import type { VaultResponse, VaultTransport } from './http.ts';

/** What a KV v1 read reports as its version: v1 keeps none, so the controller cannot tell versions apart by id. */
export const unversioned = 'unversioned';
const versionNumber = /^[1-9]\d{0,9}$/;

export function parseVaultVersion(
  kvVersion: 1 | 2,
  remote: string,
  version: string | undefined,
): VersionSelector {
  if (version === undefined || version === 'latest') return { key: 'latest', current: true, floating: true };
  if (kvVersion === 1) {
    throw new InvalidReference(
      `"${remote}" is in a KV version 1 mount, which keeps no versions; remove version`,
      {
        provider: 'vault',
        remote,
      },
    );
  }
  if (versionNumber.test(version)) return { key: version, current: false, floating: false };
  throw new InvalidReference(`version "${version}" of "${remote}" must be a version number or "latest"`, {
    provider: 'vault',
    remote,
  });
}

/** A secret path inside the mount, each segment encoded; empty segments and dot segments are refused. */
export function secretPath(remote: string): string {
  const segments = remote.split('/');
  if (segments.some((segment) => segment === '' || segment === '.' || segment === '..')) {
    throw new InvalidReference(`"${remote}" is not a Vault secret path`, { provider: 'vault', remote });
  }
  return segments.map(encodeURIComponent).join('/');
}

interface KvAnswer {
  data?: {
    data?: Record<string, unknown> | null;
    metadata?: { version?: number };
    current_version?: number;
    versions?: Record<string, { deletion_time?: string; destroyed?: boolean }>;
  } & Record<string, unknown>;
}

export class VaultBackend implements StoreBackend {
  readonly provider = 'vault';
  readonly #transport: VaultTransport;
  readonly #tokens: VaultTokens;
  readonly #mount: string;
  readonly #kvVersion: 1 | 2;

  constructor(transport: VaultTransport, tokens: VaultTokens, mount: string, kvVersion: 1 | 2) {
    this.#transport = transport;
    this.#tokens = tokens;
    this.#mount = mountPath(mount);
    this.#kvVersion = kvVersion;
  }

  version(remote: string, version: string | undefined): VersionSelector {
    secretPath(remote);
    return parseVaultVersion(this.#kvVersion, remote, version);
  }

  async fetch(name: string, selector: VersionSelector, signal: AbortSignal): Promise<SecretPayload> {
    const path =
      this.#kvVersion === 2
        ? `${this.#mount}/data/${secretPath(name)}${selector.current ? '' : `?version=${selector.key}`}`
        : `${this.#mount}/${secretPath(name)}`;
    const answer = await this.#read(path, name, signal);
    const body = answer.body as KvAnswer | undefined;
    const data = this.#kvVersion === 2 ? body?.data?.data : body?.data;
    // KV v2 answers a deleted or destroyed version with null data.
    if (!data)
      throw new NotFound(`Vault has no data at "${name}" in ${this.#mount}`, {
        provider: 'vault',
        remote: name,
      });
    const versionId =
      this.#kvVersion === 2 ? String(body?.data?.metadata?.version ?? selector.key) : unversioned;
    return { data: Buffer.from(JSON.stringify(data), 'utf8'), versionId };
  }

  async describe(name: string, selector: VersionSelector, signal: AbortSignal): Promise<Existence> {
    try {
      if (this.#kvVersion === 1) {
        // KV v1 has no metadata: existence needs a read, whose value is dropped at once.
        await this.fetch(name, selector, signal);
        return { exists: true, versionId: unversioned };
      }
      const answer = await this.#read(`${this.#mount}/metadata/${secretPath(name)}`, name, signal);
      const metadata = (answer.body as KvAnswer | undefined)?.data;
      const version = selector.current ? String(metadata?.current_version ?? '') : selector.key;
      const state = metadata?.versions?.[version];
      if (!state || state.destroyed || state.deletion_time) return { exists: false };
      return { exists: true, versionId: version };
    } catch (error) {
      if (error instanceof NotFound) return { exists: false };
      throw error;
    }
  }

  mapError(error: unknown, remote?: string): ProviderError {
    return mapVaultError(error, remote);
  }

  async close(): Promise<void> {
    this.#transport.close();
  }

  /** A GET with the current token; a refused token is replaced once (revoked, or rotated in its Secret). */
  async #read(path: string, remote: string, signal: AbortSignal): Promise<VaultResponse> {
    let token = await this.#tokens.token(signal);
    let answer = await this.#transport.request('GET', path, { token, signal });
    if (answer.status === 403 && (await this.#tokens.replace(token, signal))) {
      token = await this.#tokens.token(signal);
      answer = await this.#transport.request('GET', path, { token, signal });
    }
    if (answer.status === 200) return answer;
    if (answer.status === 403) {
      throw new AccessDenied(`Vault policy does not allow reading "${remote}" in ${this.#mount}`, {
        provider: 'vault',
        remote,
        httpStatus: 403,
      });
    }
    throw vaultStatusError(answer.status, `secret "${remote}" in ${this.#mount}`, remote);
  }
}
