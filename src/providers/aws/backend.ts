// Reads from AWS Secrets Manager: GetSecretValue for one value, BatchGetSecretValue for the current versions
// of many, DescribeSecret to learn versions without reading a value. SecretBinary stays bytes.
import {
  BatchGetSecretValueCommand,
  DescribeSecretCommand,
  type DescribeSecretCommandOutput,
  type Filter,
  GetSecretValueCommand,
  ListSecretsCommand,
  ListSecretVersionIdsCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import type { ListPage, SecretPayload, StoreBackend, VersionSelector } from '../backend.ts';
import { InvalidReference, NotFound, type ProviderError } from '../errors.ts';
import type { Existence, ListQuery } from '../types.ts';
import { fromCode, mapAwsError } from './errors.ts';

export const currentStage = 'AWSCURRENT';
/** BatchGetSecretValue accepts at most 20 ids per call. */
const batchLimit = 20;
const versionIdPattern = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const stagePattern = /^[A-Za-z0-9_+=.@-]{1,256}$/;

/**
 * A version is a version id when it has the UUID shape AWS gives version ids, otherwise a staging label
 * (AWSCURRENT, AWSPREVIOUS, AWSPENDING or one of your own). `latest` and no version mean AWSCURRENT.
 */
export function parseAwsVersion(remote: string, version: string | undefined): VersionSelector {
  if (version === undefined || version === 'latest' || version === currentStage) {
    return { key: `stage:${currentStage}`, current: true, floating: true };
  }
  if (versionIdPattern.test(version))
    return { key: `id:${version.toLowerCase()}`, current: false, floating: false };
  if (stagePattern.test(version)) return { key: `stage:${version}`, current: false, floating: true };
  throw new InvalidReference(
    `version "${version}" of "${remote}" is neither an AWS version id nor a staging label`,
    { provider: 'aws', remote },
  );
}

const filterValue = /^[a-zA-Z0-9 :_@/+=.-]{1,512}$/;
/** ListSecrets returns at most 100 entries per page. */
const listPageSize = 100;

/**
 * Server-side filters narrowing a listing. AWS matches each by prefix and pairs no tag key with its value, and a
 * value starting with "!" negates it, so they only narrow: the shared layer checks names and tags exactly.
 */
export function listFilters(query: ListQuery): Filter[] {
  // AWS refuses a filter value outside this alphabet; such a value is matched after listing only.
  const usable = (value: string) => filterValue.test(value) && !value.startsWith('!');
  const filters: Filter[] = [];
  if (query.prefix !== undefined && usable(query.prefix))
    filters.push({ Key: 'name', Values: [query.prefix] });
  for (const [key, value] of Object.entries(query.tags ?? {})) {
    if (usable(key)) filters.push({ Key: 'tag-key', Values: [key] });
    if (usable(value)) filters.push({ Key: 'tag-value', Values: [value] });
  }
  return filters;
}

function versionParameters(selector: VersionSelector) {
  const [kind, value] = splitKey(selector.key);
  return kind === 'id' ? { VersionId: value } : { VersionStage: value };
}

function splitKey(key: string): [string, string] {
  const colon = key.indexOf(':');
  return [key.slice(0, colon), key.slice(colon + 1)];
}

function payloadOf(answer: {
  SecretBinary?: Uint8Array;
  SecretString?: string;
  VersionId?: string;
}): SecretPayload {
  const data =
    answer.SecretBinary !== undefined
      ? Buffer.from(
          answer.SecretBinary.buffer,
          answer.SecretBinary.byteOffset,
          answer.SecretBinary.byteLength,
        )
      : Buffer.from(answer.SecretString ?? '', 'utf8');
  return { data: Buffer.from(data), versionId: answer.VersionId ?? '' };
}

export class AwsBackend implements StoreBackend {
  readonly provider = 'aws';
  readonly #client: SecretsManagerClient;
  readonly batch;

  constructor(client: SecretsManagerClient) {
    this.#client = client;
    this.batch = { size: batchLimit, fetchCurrent: this.#fetchCurrent.bind(this) };
  }

  version(remote: string, version: string | undefined): VersionSelector {
    return parseAwsVersion(remote, version);
  }

  async fetch(name: string, selector: VersionSelector, signal: AbortSignal): Promise<SecretPayload> {
    const answer = await this.#client.send(
      new GetSecretValueCommand({ SecretId: name, ...versionParameters(selector) }),
      {
        abortSignal: signal,
      },
    );
    return payloadOf(answer);
  }

  async #fetchCurrent(names: readonly string[], signal: AbortSignal) {
    const answer = await this.#client.send(new BatchGetSecretValueCommand({ SecretIdList: [...names] }), {
      abortSignal: signal,
    });
    const results = new Map<string, SecretPayload | ProviderError>();
    for (const value of answer.SecretValues ?? []) {
      // The answer names each secret by name and ARN; the request may have used either.
      const asked = names.find((name) => name === value.Name || name === value.ARN);
      if (asked) results.set(asked, payloadOf(value));
    }
    for (const failure of answer.Errors ?? []) {
      const asked = names.find((name) => name === failure.SecretId);
      if (asked) {
        results.set(
          asked,
          fromCode(failure.ErrorCode, undefined, `"${asked}"`, { provider: 'aws', remote: asked }),
        );
      }
    }
    return results;
  }

  async listPage(query: ListQuery, cursor: string | undefined, signal: AbortSignal): Promise<ListPage> {
    const filters = listFilters(query);
    const answer = await this.#client.send(
      new ListSecretsCommand({
        ...(filters.length > 0 ? { Filters: filters } : {}),
        MaxResults: listPageSize,
        NextToken: cursor,
      }),
      { abortSignal: signal },
    );
    const secrets = (answer.SecretList ?? [])
      // A secret scheduled for deletion can no longer be read.
      .filter((entry) => entry.Name !== undefined && entry.DeletedDate === undefined)
      .map((entry) => ({
        name: entry.Name!,
        tags: Object.fromEntries((entry.Tags ?? []).map((tag) => [tag.Key ?? '', tag.Value ?? ''])),
      }));
    return { secrets, cursor: answer.NextToken || undefined };
  }

  async describe(name: string, selector: VersionSelector, signal: AbortSignal): Promise<Existence> {
    let answer: DescribeSecretCommandOutput;
    try {
      answer = await this.#client.send(new DescribeSecretCommand({ SecretId: name }), {
        abortSignal: signal,
      });
    } catch (error) {
      if (mapAwsError(error, name) instanceof NotFound) return { exists: false };
      throw error;
    }
    // A secret scheduled for deletion can no longer be read.
    if (answer.DeletedDate) return { exists: false };
    const [kind, wanted] = splitKey(selector.key);
    for (const [versionId, stages] of Object.entries(answer.VersionIdsToStages ?? {})) {
      const matches = kind === 'id' ? versionId.toLowerCase() === wanted : (stages ?? []).includes(wanted);
      if (matches) return { exists: true, versionId };
    }
    // DescribeSecret lists only versions that carry a label; an older one stays readable until AWS removes it.
    if (kind === 'id') return this.#deprecatedVersion(name, wanted, signal);
    return { exists: false };
  }

  async #deprecatedVersion(name: string, wanted: string, signal: AbortSignal): Promise<Existence> {
    let NextToken: string | undefined;
    do {
      const page = await this.#client.send(
        new ListSecretVersionIdsCommand({ SecretId: name, IncludeDeprecated: true, NextToken }),
        { abortSignal: signal },
      );
      const found = page.Versions?.find((version) => version.VersionId?.toLowerCase() === wanted);
      if (found?.VersionId) return { exists: true, versionId: found.VersionId };
      NextToken = page.NextToken;
    } while (NextToken);
    return { exists: false };
  }

  mapError(error: unknown, remote?: string): ProviderError {
    return mapAwsError(error, remote);
  }

  async close(): Promise<void> {
    this.#client.destroy();
  }
}
