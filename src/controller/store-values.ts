// Reads what a SecretReference asks for from its store, through the cached provider clients. All or nothing:
// if any value cannot be read, nothing is returned, so a partial Secret is never written.
import type { AnySecretStore, SecretReference } from '../api/types.ts';
import { decodeValue } from '../providers/decoding.ts';
import { NotFound, TooLarge } from '../providers/errors.ts';
import { secretSizeLimit, totalSize } from '../providers/limits.ts';
import type { StoreClients } from '../providers/store-clients.ts';
import type { ReadValues, ValueSource } from './reconciler.ts';

/** How a remote appears in remoteVersions: its name, plus the pinned version when the spec names one. */
export function versionKey(remote: { name: string; version?: string }): string {
  return remote.version ? `${remote.name}@${remote.version}` : remote.name;
}

export function createStoreValues(clients: StoreClients): ValueSource {
  return {
    async read(store: AnySecretStore, reference: SecretReference, signal: AbortSignal): Promise<ReadValues> {
      const client = await clients.clientFor(store, signal);
      const data: Record<string, Buffer> = {};
      const remoteVersions: Record<string, string> = {};

      // dataFrom first, so an explicit data[] key wins over a property of the same name.
      for (const entry of reference.spec.dataFrom ?? []) {
        const resolved = await client.resolveAll(entry.remote, { signal });
        for (const [key, value] of Object.entries(resolved.values)) {
          // defineProperty, not assignment: a property named __proto__ is a key like any other.
          Object.defineProperty(data, key, {
            value: decodeValue(value, entry.decoding, { key, remote: entry.remote.name }),
            enumerable: true,
            writable: true,
            configurable: true,
          });
        }
        remoteVersions[versionKey(entry.remote)] = resolved.versionId;
      }
      const entries = reference.spec.data ?? [];
      const results = await client.resolveMany(
        entries.map((entry) => entry.remote),
        { signal },
      );
      results.forEach((result, index) => {
        if (result.status === 'rejected') throw result.reason;
        const entry = entries[index]!;
        data[entry.key] = decodeValue(result.value.value, entry.decoding, {
          key: entry.key,
          remote: entry.remote.name,
        });
        remoteVersions[versionKey(entry.remote)] = result.value.versionId;
      });

      const size = totalSize(data);
      if (size > secretSizeLimit) {
        throw new TooLarge(`the values add up to ${size} bytes; a Secret holds at most ${secretSizeLimit}`);
      }
      return { data, remoteVersions };
    },

    async versions(store: AnySecretStore, reference: SecretReference, signal: AbortSignal) {
      const client = await clients.clientFor(store, signal);
      const remotes = new Map<string, { name: string; version?: string }>();
      for (const entry of [...(reference.spec.dataFrom ?? []), ...(reference.spec.data ?? [])]) {
        remotes.set(versionKey(entry.remote), { name: entry.remote.name, version: entry.remote.version });
      }
      const versions: Record<string, string> = {};
      await Promise.all(
        [...remotes].map(async ([key, remote]) => {
          const existence = await client.exists(remote, { signal });
          if (!existence.exists)
            throw new NotFound(`remote secret "${remote.name}" no longer exists`, { remote: remote.name });
          // A store that cannot tell a version without reading (none today) reports none: treat as changed.
          versions[key] = existence.versionId ?? `unknown-${Date.now()}`;
        }),
      );
      return versions;
    },
  };
}
