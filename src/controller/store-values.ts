// Reads what a SecretReference asks for from its store, through the cached provider clients. All or nothing:
// if any value cannot be read, nothing is returned, so a partial Secret is never written. Each reconcile's
// reads are bounded: a few remote secrets at a time, a budget of bytes, and one deadline for all of them, so
// one reference cannot exhaust the memory or the workers every other reference depends on.
import type { AnySecretStore, SecretReference } from '../api/types.ts';
import { abortable, deadline } from '../providers/deadline.ts';
import { type Decoding, decodeValue } from '../providers/decoding.ts';
import { InvalidReference, NotFound, TooLarge, Unavailable } from '../providers/errors.ts';
import { defaultLimits, ReadBudget, secretSizeLimit, totalSize } from '../providers/limits.ts';
import type { StoreClients } from '../providers/store-clients.ts';
import type { StoreClient } from '../providers/types.ts';
import { rewriteKey } from './key-rewrite.ts';
import { zeroValues } from './managed-secret.ts';
import type { ReadValues, ValueSource } from './ports.ts';
import { invalidSecretKey, quoteKey } from './secret-keys.ts';
import { applyTemplate } from './secret-template.ts';

/** How a remote appears in remoteVersions: its name, plus the pinned version when the spec names one. */
export function versionKey(remote: { name: string; version?: string }): string {
  return remote.version ? `${remote.name}@${remote.version}` : remote.name;
}

export interface ReadLimits {
  /** Bytes of store answers one reference's values may come from (--max-reference-bytes). */
  maxReferenceBytes: number;
  /** Remote secrets of one reference read at once (--reference-read-concurrency). */
  concurrency: number;
  /** Deadline for all store reads of one reconcile (--reconcile-timeout-ms). */
  timeoutMs: number;
}

export const defaultReadLimits: ReadLimits = {
  maxReferenceBytes: defaultLimits.maxReferenceBytes,
  concurrency: defaultLimits.referenceReadConcurrency,
  timeoutMs: defaultLimits.reconcileTimeoutMs,
};

export function createStoreValues(
  clients: StoreClients,
  limits: ReadLimits = defaultReadLimits,
): ValueSource {
  return {
    read: (store, reference, signal) =>
      underDeadline(limits.timeoutMs, signal, (limited) => readValues(store, reference, limited)),
    versions: (store, reference, signal) =>
      underDeadline(limits.timeoutMs, signal, (limited) => readVersions(store, reference, limited)),
  };

  async function readValues(
    store: AnySecretStore,
    reference: SecretReference,
    signal: AbortSignal,
  ): Promise<ReadValues> {
    const client = await clients.clientFor(store, signal);
    const data: Record<string, Buffer> = {};
    try {
      return await readInto(client, reference, signal, data);
    } catch (error) {
      // A read that fails half way (a missing entry, the budget spent) leaves no value behind.
      zeroValues(data);
      throw error;
    }
  }

  async function readInto(
    client: StoreClient,
    reference: SecretReference,
    signal: AbortSignal,
    data: Record<string, Buffer>,
  ): Promise<ReadValues> {
    const budget = new ReadBudget(limits.maxReferenceBytes);
    const remoteVersions: Record<string, string> = {};

    // dataFrom first, so an explicit data[] key wins over a property of the same name.
    for (const entry of reference.spec.dataFrom ?? []) {
      const resolved = await client.resolveAll(entry.remote, { signal });
      budget.charge(versionKey(entry.remote), resolved.bytesRead);
      const rewritten = new Map<string, string>();
      for (const [remoteKey, value] of Object.entries(resolved.values)) {
        const key = entry.rewrite
          ? rewriteKey(remoteKey, entry.rewrite, { remote: entry.remote.name })
          : remoteKey;
        const from = key === remoteKey ? '' : ` (rewritten from ${quoteKey(remoteKey)})`;
        // The API server would refuse the whole Secret for this key, on every write; say which key, not why not.
        const invalid = invalidSecretKey(key);
        if (invalid) {
          throw new InvalidReference(
            `remote secret "${entry.remote.name}" has the key ${quoteKey(key)}${from}, which cannot be a Secret ` +
              `key: ${invalid}`,
            { remote: entry.remote.name },
          );
        }
        // Two keys rewritten to one would silently drop a value; which one survives is not for us to guess.
        const earlier = rewritten.get(key);
        if (earlier !== undefined) {
          throw new InvalidReference(
            `remote secret "${entry.remote.name}": the rewrite turns both ${quoteKey(earlier)} and ` +
              `${quoteKey(remoteKey)} into the key ${quoteKey(key)}`,
            { remote: entry.remote.name },
          );
        }
        rewritten.set(key, remoteKey);
        if (Object.hasOwn(data, key)) data[key]!.fill(0);
        // defineProperty, not assignment: a property named __proto__ is a key like any other.
        Object.defineProperty(data, key, {
          value: decodeOwned(value, entry.decoding, { key, remote: entry.remote.name }),
          enumerable: true,
          writable: true,
          configurable: true,
        });
      }
      remoteVersions[versionKey(entry.remote)] = resolved.versionId;
      assertValuesFit(data);
    }
    // A few entries at a time: the answers in memory at once stay bounded, and the budget stops the reads
    // as soon as it is spent instead of after every entry was fetched.
    const entries = reference.spec.data ?? [];
    for (let start = 0; start < entries.length; start += limits.concurrency) {
      const chunk = entries.slice(start, start + limits.concurrency);
      const results = await client.resolveMany(
        chunk.map((entry) => entry.remote),
        { signal },
      );
      results.forEach((result, index) => {
        if (result.status === 'rejected') throw result.reason;
        const entry = chunk[index]!;
        budget.charge(versionKey(entry.remote), result.value.bytesRead);
        // An explicit key wins over a dataFrom property of the same name; the value it replaces is ours to zero.
        if (Object.hasOwn(data, entry.key)) data[entry.key]!.fill(0);
        data[entry.key] = decodeOwned(result.value.value, entry.decoding, {
          key: entry.key,
          remote: entry.remote.name,
        });
        remoteVersions[versionKey(entry.remote)] = result.value.versionId;
      });
      assertValuesFit(data);
    }
    // Templates compose the Secret's keys from what was read; the values they drop are zeroed there.
    const template = reference.spec.target?.template;
    if (!template) return { data, remoteVersions };
    const composed = applyTemplate(template, data);
    try {
      assertValuesFit(composed);
    } catch (error) {
      zeroValues(composed);
      throw error;
    }
    return { data: composed, remoteVersions };
  }

  async function readVersions(
    store: AnySecretStore,
    reference: SecretReference,
    signal: AbortSignal,
  ): Promise<Record<string, string>> {
    const client = await clients.clientFor(store, signal);
    const remotes = new Map<string, { name: string; version?: string }>();
    for (const entry of [...(reference.spec.dataFrom ?? []), ...(reference.spec.data ?? [])]) {
      remotes.set(versionKey(entry.remote), { name: entry.remote.name, version: entry.remote.version });
    }
    const versions: Record<string, string> = {};
    const pending = [...remotes];
    for (let start = 0; start < pending.length; start += limits.concurrency) {
      await Promise.all(
        pending.slice(start, start + limits.concurrency).map(async ([key, remote]) => {
          const existence = await client.exists(remote, { signal });
          if (!existence.exists)
            throw new NotFound(`remote secret "${remote.name}" no longer exists`, { remote: remote.name });
          // Every provider names the version that exists; one that does not cannot be compared: retry, typed.
          if (existence.versionId === undefined)
            throw new Unavailable(`the store did not name the version of remote secret "${remote.name}"`, {
              remote: remote.name,
            });
          versions[key] = existence.versionId;
        }),
      );
    }
    return versions;
  }
}

function assertValuesFit(data: Record<string, Buffer>): void {
  const size = totalSize(data);
  if (size > secretSizeLimit) {
    throw new TooLarge(`the values add up to ${size} bytes; a Secret holds at most ${secretSizeLimit}`);
  }
}

/**
 * Runs a reconcile's store reads under one deadline. Running out of time is reported as the store being
 * unavailable (retried with backoff), with the limit named; the reads still in flight are abandoned.
 */
async function underDeadline<T>(
  timeoutMs: number,
  caller: AbortSignal,
  work: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  caller.throwIfAborted();
  const limit = deadline(timeoutMs, caller);
  try {
    return await abortable(work(limit.signal), limit.signal);
  } catch (error) {
    if (limit.timedOut()) {
      throw new Unavailable(
        `reading this reference's values took longer than ${timeoutMs} ms (--reconcile-timeout-ms)`,
        { code: 'ReconcileDeadline' },
      );
    }
    throw error;
  }
}

// Every value a client resolves is a copy the caller owns: when decoding makes another buffer of it, the
// encoded one is zeroed at once.
function decodeOwned(
  value: Buffer,
  decoding: Decoding | undefined,
  where: { key: string; remote: string },
): Buffer {
  const decoded = decodeValue(value, decoding, where);
  if (decoded !== value) value.fill(0);
  return decoded;
}
