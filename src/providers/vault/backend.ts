// Reads from a Vault KV mount. A KV secret is a map of keys to values, so its whole value is that map as
// JSON and `property` picks a key. Vault keeps strings, not bytes: binary data must be stored encoded
// (base64, say) and comes back as that text. KV v2 has numbered versions and a metadata endpoint that
// answers existence without the value; KV v1 has neither.
import type { ListPage, SecretPayload, StoreBackend, VersionSelector } from '../backend.ts';
import { AccessDenied, InvalidReference, LimitExceeded, NotFound, type ProviderError } from '../errors.ts';
import { maxListedSecrets } from '../limits.ts';
import type { Existence, ListQuery } from '../types.ts';
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

/** Folders below the one a find starts in that a listing descends into; deeper ones are not listed. */
export const maxListDepth = 8;

/** A listing in progress: the folders still to list (each ending in "/", "" for the mount's root). */
interface ListCursor {
  pending: { folder: string; depth: number }[];
  listed: number;
}

/** The folder a listing for `prefix` starts in: everything up to its last "/". */
export function startFolder(prefix: string | undefined): string {
  if (!prefix) return '';
  return prefix.slice(0, prefix.lastIndexOf('/') + 1);
}

/** Whether names under `folder` can start with `prefix`, so the folder is worth listing. */
function mayHold(folder: string, prefix: string | undefined): boolean {
  return !prefix || folder.startsWith(prefix) || prefix.startsWith(folder);
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

  /**
   * Lists one folder per page (KV v2 through its metadata endpoint, which holds no values), going into
   * subfolders at most maxListDepth deep. Keys ending in "/" are folders; the others are secrets.
   */
  async listPage(query: ListQuery, cursor: string | undefined, signal: AbortSignal): Promise<ListPage> {
    if (Object.keys(query.tags ?? {}).length > 0) {
      throw new InvalidReference(
        'Vault KV keeps no tags: find a Vault secret by path and name instead of tags',
        { provider: 'vault' },
      );
    }
    const state: ListCursor = cursor
      ? (JSON.parse(cursor) as ListCursor)
      : { pending: [{ folder: startFolder(query.prefix), depth: 0 }], listed: 0 };
    const next = state.pending.shift();
    if (!next) return { secrets: [] };
    // Folders count too: a tree of empty folders must not keep a listing going forever.
    state.listed += 1;
    if (state.listed > maxListedSecrets) {
      throw new LimitExceeded(`listing Vault went past ${maxListedSecrets} folders; narrow find.path`, {
        provider: 'vault',
      });
    }
    const secrets: ListPage['secrets'] = [];
    for (const key of await this.#listFolder(next.folder, signal)) {
      const child = `${next.folder}${key}`;
      if (!key.endsWith('/')) secrets.push({ name: child });
      else if (next.depth < maxListDepth && mayHold(child, query.prefix)) {
        state.pending.push({ folder: child, depth: next.depth + 1 });
      }
    }
    return { secrets, cursor: state.pending.length > 0 ? JSON.stringify(state) : undefined };
  }

  async #listFolder(folder: string, signal: AbortSignal): Promise<string[]> {
    const encoded = folder === '' ? '' : `${secretPath(folder.slice(0, -1))}/`;
    const base = this.#kvVersion === 2 ? `${this.#mount}/metadata/` : `${this.#mount}/`;
    try {
      const answer = await this.#read(`${base}${encoded}?list=true`, folder || '/', signal);
      const keys = (answer.body as { data?: { keys?: unknown } } | undefined)?.data?.keys;
      return Array.isArray(keys)
        ? keys.filter((key): key is string => typeof key === 'string' && key !== '')
        : [];
    } catch (error) {
      // Vault answers an empty or missing folder with 404.
      if (error instanceof NotFound) return [];
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
