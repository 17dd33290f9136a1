// Status of SecretStores and ClusterSecretStores, reconciled by key like references are, but in a queue of
// its own: read the store from the cache, decide with the pure desiredStoreStatus, and patch the status
// subresource only when it differs from what the cache shows.
import type { Logger } from 'pino';
import { findCondition } from '../api/conditions.ts';
import { readyCondition } from '../api/constants.ts';
import type { AnySecretStore, StoreStatus } from '../api/types.ts';
import type { Clock } from '../runtime/clock.ts';
import type { ClusterView } from './ports.ts';
import { desiredStoreStatus, storeStatusDiffers } from './store-status.ts';

export interface StoreStatusWriter {
  /** A merge patch of the status subresource; a store deleted meanwhile is not an error. */
  writeStoreStatus(store: AnySecretStore, status: StoreStatus): Promise<void>;
}

export interface StoreLocation {
  kind: AnySecretStore['kind'];
  namespace: string;
  name: string;
}

export function parseStoreKey(key: string): StoreLocation | undefined {
  const [kind, ...rest] = key.split('/');
  if (kind === 'SecretStore' && rest.length === 2) return { kind, namespace: rest[0]!, name: rest[1]! };
  if (kind === 'ClusterSecretStore' && rest.length === 1) return { kind, namespace: '', name: rest[0]! };
  return undefined;
}

export interface StoreStatusDeps {
  view: Pick<ClusterView, 'store'>;
  writer: StoreStatusWriter;
  clock: Clock;
  logger: Logger;
}

export class StoreStatusReconciler {
  private readonly deps: StoreStatusDeps;

  constructor(deps: StoreStatusDeps) {
    this.deps = deps;
  }

  /** True when a status was written. */
  async reconcile(key: string): Promise<boolean> {
    const location = parseStoreKey(key);
    if (!location) return false;
    const store = this.deps.view.store(location.kind, location.namespace, location.name);
    // Deleted: its status went with it.
    if (!store) return false;
    const next = desiredStoreStatus(store, new Date(this.deps.clock.now()));
    if (!storeStatusDiffers(store.status, next)) return false;
    await this.deps.writer.writeStoreStatus(store, next);
    const ready = findCondition(next.conditions, readyCondition);
    this.deps.logger.debug(
      { store: key, ready: ready?.status, reason: ready?.reason },
      'store status written',
    );
    return true;
  }
}
