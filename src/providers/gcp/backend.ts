// Reads from GCP Secret Manager: AccessSecretVersion for a value, GetSecretVersion to learn a version
// without reading it. Payloads stay bytes.
import type { SecretManagerServiceClient } from '@google-cloud/secret-manager';
import type { ListPage, SecretPayload, StoreBackend, VersionSelector } from '../backend.ts';
import { InvalidReference, NotFound, type ProviderError } from '../errors.ts';
import type { Existence, ListQuery } from '../types.ts';
import { mapGcpError } from './errors.ts';

const versionNumber = /^[1-9]\d{0,18}$/;

/** A version is a version number or `latest`; no version means `latest`. */
export function parseGcpVersion(remote: string, version: string | undefined): VersionSelector {
  if (version === undefined || version === 'latest') return { key: 'latest', current: true, floating: true };
  if (versionNumber.test(version)) return { key: version, current: false, floating: false };
  throw new InvalidReference(`version "${version}" of "${remote}" must be a version number or "latest"`, {
    provider: 'gcp',
    remote,
  });
}

const secretName = /^[A-Za-z0-9_-]{1,255}$/;
const secretResource = /^projects\/[^/]+\/secrets\/[A-Za-z0-9_-]{1,255}$/;

/** The secret's resource name: a bare secret id lives in the store's project; a full name is used as given. */
export function secretResourceName(project: string, remote: string): string {
  if (secretResource.test(remote)) return remote;
  if (secretName.test(remote)) return `projects/${project}/secrets/${remote}`;
  throw new InvalidReference(`"${remote}" is not a GCP secret id or projects/<project>/secrets/<id> name`, {
    provider: 'gcp',
    remote,
  });
}

const listPageSize = 100;
/** Label keys and values as GCP allows them; anything else is left to the exact check after listing. */
const labelText = /^[a-z0-9_-]{1,63}$/;

/**
 * The server-side filter for labels (`labels.team=data AND labels.tier=gold`), where every label is written as
 * GCP allows. The local emulator ignores filters, and names are matched after listing either way.
 */
function labelFilter(query: ListQuery): string | undefined {
  const entries = Object.entries(query.tags ?? {});
  if (entries.length === 0) return undefined;
  if (!entries.every(([key, value]) => labelText.test(key) && labelText.test(value))) return undefined;
  return entries.map(([key, value]) => `labels.${key}=${value}`).join(' AND ');
}

function versionIdOf(resource: string | null | undefined): string {
  return resource?.split('/').pop() ?? '';
}

function toBuffer(data: Uint8Array | string | null | undefined): Buffer {
  if (data === null || data === undefined) return Buffer.alloc(0);
  if (typeof data === 'string') return Buffer.from(data, 'base64');
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

export class GcpBackend implements StoreBackend {
  readonly provider = 'gcp';
  readonly #client: SecretManagerServiceClient;
  readonly #project: string;

  constructor(client: SecretManagerServiceClient, project: string) {
    this.#client = client;
    this.#project = project;
  }

  version(remote: string, version: string | undefined): VersionSelector {
    secretResourceName(this.#project, remote);
    return parseGcpVersion(remote, version);
  }

  async fetch(name: string, selector: VersionSelector, signal: AbortSignal): Promise<SecretPayload> {
    const [answer] = await this.#client.accessSecretVersion(
      { name: `${secretResourceName(this.#project, name)}/versions/${selector.key}` },
      { retry: null, signal },
    );
    return { data: Buffer.from(toBuffer(answer.payload?.data)), versionId: versionIdOf(answer.name) };
  }

  async listPage(query: ListQuery, cursor: string | undefined, signal: AbortSignal): Promise<ListPage> {
    const filter = labelFilter(query);
    const [secrets, next] = await this.#client.listSecrets(
      {
        parent: `projects/${this.#project}`,
        pageSize: listPageSize,
        ...(cursor ? { pageToken: cursor } : {}),
        ...(filter ? { filter } : {}),
      },
      { autoPaginate: false, retry: null, signal },
    );
    return {
      // A reference names a secret of the store's project by its id, so the listing does too.
      secrets: secrets.map((secret) => ({
        name: versionIdOf(secret.name),
        tags: { ...(secret.labels ?? {}) },
      })),
      cursor: next?.pageToken || undefined,
    };
  }

  async describe(name: string, selector: VersionSelector, signal: AbortSignal): Promise<Existence> {
    try {
      const [version] = await this.#client.getSecretVersion(
        { name: `${secretResourceName(this.#project, name)}/versions/${selector.key}` },
        { retry: null, signal },
      );
      if (version.state !== 'ENABLED' && version.state !== 1) return { exists: false };
      return { exists: true, versionId: versionIdOf(version.name) };
    } catch (error) {
      if (mapGcpError(error, name) instanceof NotFound) return { exists: false };
      throw error;
    }
  }

  mapError(error: unknown, remote?: string): ProviderError {
    return mapGcpError(error, remote);
  }

  async close(): Promise<void> {
    await this.#client.close();
  }
}
