// Reads what a SecretReference asks for from its store, through the cached provider clients. All or nothing:
// if any value cannot be read, nothing is returned, so a partial Secret is never written. Each reconcile's
// reads are bounded: a few remote secrets at a time, a budget of bytes, and one deadline for all of them, so
// one reference cannot exhaust the memory or the workers every other reference depends on.
import type { AnySecretStore, DataFromEntry, RemoteFind, SecretReference } from '../api/types.ts';
import { abortable, deadline } from '../providers/deadline.ts';
import {
  InvalidReference,
  InvalidSpec,
  NotFound,
  RemoteNotAllowed,
  Unavailable,
} from '../providers/errors.ts';
import { defaultLimits, ReadBudget } from '../providers/limits.ts';
import { distinctByName } from '../providers/listing.ts';
import type { StoreClients } from '../providers/store-clients.ts';
import type { DynamicCredentials, ListedSecret, StoreClient } from '../providers/types.ts';
import { Slots } from '../runtime/slots.ts';
import { foundKey, listQueriesOf, selectFound } from './find.ts';
import { rewriteKey } from './key-rewrite.ts';
import { zeroValues } from './managed-secret.ts';
import type { ReadValues, ValueSource } from './ports.ts';
import { findAllowed, judgeRemoteAccess, type RemoteScope } from './remote-access.ts';
import { assertValuesFit, decodeOwned, putKey } from './secret-data.ts';
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
  /** Remote secrets one dataFrom find may read, whatever its maxSecrets says (--max-find-secrets). */
  maxFindSecrets: number;
  /**
   * References whose values (or versions) are read at once, across every reconcile (--store-read-concurrency);
   * with `concurrency` it bounds the store answers held at once. Unbounded when absent (a single reader).
   */
  readingReferences?: number;
}

export const defaultReadLimits: ReadLimits = {
  maxReferenceBytes: defaultLimits.maxReferenceBytes,
  concurrency: defaultLimits.referenceReadConcurrency,
  timeoutMs: defaultLimits.reconcileTimeoutMs,
  maxFindSecrets: defaultLimits.maxFindSecrets,
  readingReferences: defaultLimits.storeReadConcurrency,
};

export function createStoreValues(
  clients: StoreClients,
  limits: ReadLimits = defaultReadLimits,
): ValueSource {
  // A reconcile waits for a slot before its deadline starts: the deadline bounds the store, not the line.
  const slots = limits.readingReferences ? new Slots(limits.readingReferences) : undefined;
  const inTurn = <T>(signal: AbortSignal, work: () => Promise<T>) =>
    slots ? slots.run(signal, work) : work();
  return {
    read: (store, reference, scope, signal) =>
      inTurn(signal, () =>
        underDeadline(limits.timeoutMs, signal, (limited) => readValues(store, reference, scope, limited)),
      ),
    versions: (store, reference, scope, signal) =>
      inTurn(signal, () =>
        underDeadline(limits.timeoutMs, signal, (limited) => readVersions(store, reference, scope, limited)),
      ),
    issueLease: (store, request, signal) =>
      underDeadline(limits.timeoutMs, signal, async (limited) =>
        (await leasesOf(store, limited)).issue(request, { signal: limited }),
      ),
    revokeLease: (store, handle, signal) =>
      underDeadline(limits.timeoutMs, signal, async (limited) =>
        (await leasesOf(store, limited)).revoke(handle, { signal: limited }),
      ),
    renewLease: (store, handle, seconds, signal) =>
      underDeadline(limits.timeoutMs, signal, async (limited) => {
        const leases = await leasesOf(store, limited);
        if (!leases.renew) {
          throw new InvalidSpec(
            `${store.kind} ${store.metadata.name} cannot renew its dynamic credentials (spec.dynamic.renewalIncrement)`,
          );
        }
        return leases.renew(handle, seconds, { signal: limited });
      }),
  };

  async function leasesOf(store: AnySecretStore, signal: AbortSignal): Promise<DynamicCredentials> {
    const client = await clients.clientFor(store, signal);
    if (!client.leases) {
      throw new InvalidSpec(
        `${store.kind} ${store.metadata.name} cannot issue dynamic credentials: only Vault stores can (spec.dynamic)`,
      );
    }
    return client.leases;
  }

  async function readValues(
    store: AnySecretStore,
    reference: SecretReference,
    scope: RemoteScope,
    signal: AbortSignal,
  ): Promise<ReadValues> {
    assertNamesInScope(reference, scope);
    const client = await clients.clientFor(store, signal);
    const data: Record<string, Buffer> = {};
    try {
      return await readInto(client, reference, scope, signal, data);
    } catch (error) {
      // A read that fails half way (a missing entry, the budget spent) leaves no value behind.
      zeroValues(data);
      throw error;
    }
  }

  async function readInto(
    client: StoreClient,
    reference: SecretReference,
    scope: RemoteScope,
    signal: AbortSignal,
    data: Record<string, Buffer>,
  ): Promise<ReadValues> {
    const budget = new ReadBudget(limits.maxReferenceBytes);
    const remoteVersions: Record<string, string> = {};

    // dataFrom first, so an explicit data[] key wins over a property of the same name.
    for (const [index, entry] of (reference.spec.dataFrom ?? []).entries()) {
      if (entry.find) {
        const names = await findNames(client, reference, index, entry.find, scope, signal);
        await readFound(client, names, entry, { budget, data, remoteVersions, signal });
        continue;
      }
      const remote = remoteOf(entry, index);
      const resolved = await client.resolveAll(remote, { signal });
      budget.charge(versionKey(remote), resolved.bytesRead);
      const rewritten = new Map<string, string>();
      for (const [remoteKey, value] of Object.entries(resolved.values)) {
        const key = entry.rewrite ? rewriteKey(remoteKey, entry.rewrite, { remote: remote.name }) : remoteKey;
        putKey(data, rewritten, { key, from: remoteKey, remote: remote.name }, () =>
          decodeOwned(value, entry.decoding, { key, remote: remote.name }),
        );
      }
      remoteVersions[versionKey(remote)] = resolved.versionId;
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

  /** Lists what a find matches and keeps what may be read; no value is read here. */
  async function findNames(
    client: StoreClient,
    reference: SecretReference,
    index: number,
    find: RemoteFind,
    scope: RemoteScope,
    signal: AbortSignal,
  ): Promise<string[]> {
    const origin = {
      index,
      storeName: reference.spec.storeRef.name,
      namespace: reference.metadata.namespace ?? '',
    };
    // Refused before the store is even listed when find may not run through this store.
    if (!findAllowed(scope)) return selectFound([], find, scope, limits.maxFindSecrets, origin);
    const listed: ListedSecret[] = [];
    for (const query of listQueriesOf(find, scope)) listed.push(...(await client.list(query, { signal })));
    return selectFound(distinctByName(listed), find, scope, limits.maxFindSecrets, origin);
  }

  /** Each found secret's whole value under its name as a key, a few secrets at a time, within the budget. */
  async function readFound(
    client: StoreClient,
    names: readonly string[],
    entry: DataFromEntry,
    into: {
      budget: ReadBudget;
      data: Record<string, Buffer>;
      remoteVersions: Record<string, string>;
      signal: AbortSignal;
    },
  ): Promise<void> {
    const keys = new Map<string, string>();
    for (let start = 0; start < names.length; start += limits.concurrency) {
      const chunk = names.slice(start, start + limits.concurrency);
      const results = await client.resolveMany(
        chunk.map((name) => ({ name })),
        { signal: into.signal },
      );
      try {
        results.forEach((result, index) => {
          if (result.status === 'rejected') throw result.reason;
          const name = chunk[index]!;
          into.budget.charge(name, result.value.bytesRead);
          const key = foundKey(name, entry.rewrite);
          putKey(into.data, keys, { key, from: name, remote: name }, () =>
            decodeOwned(result.value.value, entry.decoding, { key, remote: name }),
          );
          into.remoteVersions[name] = result.value.versionId;
        });
      } catch (error) {
        // Values of this chunk not yet placed are the caller's copies too: none is left behind.
        for (const result of results) if (result.status === 'fulfilled') result.value.value.fill(0);
        throw error;
      }
      assertValuesFit(into.data);
    }
  }

  async function readVersions(
    store: AnySecretStore,
    reference: SecretReference,
    scope: RemoteScope,
    signal: AbortSignal,
  ): Promise<Record<string, string>> {
    assertNamesInScope(reference, scope);
    const client = await clients.clientFor(store, signal);
    const remotes = new Map<string, { name: string; version?: string }>();
    for (const [index, entry] of (reference.spec.dataFrom ?? []).entries()) {
      // A find is looked up again at every refresh: a secret that appeared or went changes the versions.
      if (entry.find) {
        for (const name of await findNames(client, reference, index, entry.find, scope, signal)) {
          remotes.set(name, { name });
        }
        continue;
      }
      const remote = remoteOf(entry, index);
      remotes.set(versionKey(remote), { name: remote.name, version: remote.version });
    }
    for (const entry of reference.spec.data ?? []) {
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

/**
 * The remotes a reference names must be within the scope before anything is read. The reconcile judged this
 * already (RemoteNotAllowed); checked again here so that no caller can read past it.
 */
function assertNamesInScope(reference: SecretReference, scope: RemoteScope): void {
  const judged = judgeRemoteAccess(reference, scope);
  if (judged.state !== 'ready') throw new RemoteNotAllowed(judged.message);
}

/** The remote of a dataFrom entry that names one; the API server refuses an entry with neither. */
function remoteOf(entry: DataFromEntry, index: number): { name: string; version?: string } {
  if (!entry.remote) throw new InvalidReference(`spec.dataFrom[${index}] sets neither remote nor find`);
  return entry.remote;
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
