// The status a SecretStore or ClusterSecretStore should show, as a pure function of the store object and the
// time. It says which provider the store uses and whether its spec can work (the providers' static checks,
// which catch what the CRD's CEL rules cannot). Store specs hold only references to credentials, never values,
// so nothing here can put a credential into status.
import { StoreReason, setCondition } from '../api/conditions.ts';
import { readyCondition } from '../api/constants.ts';
import { withStalled } from '../api/stalled.ts';
import type { AnySecretStore, Condition, StoreStatus } from '../api/types.ts';
import { selectProvider, validateStore } from '../providers/registry.ts';

/** At most this many problems are spelled out; the rest are counted, so the message stays readable. */
const problemsShown = 10;

export function desiredStoreStatus(store: AnySecretStore, now: Date): StoreStatus {
  const generation = store.metadata.generation ?? 0;
  const provider = selectProvider(store.spec)?.name;
  const problems = validateStore(store);
  const ready: Omit<Condition, 'lastTransitionTime'> =
    problems.length === 0
      ? {
          type: readyCondition,
          status: 'True',
          reason: StoreReason.Valid,
          message:
            `The ${provider} store spec is valid. Its credentials and access are checked when a ` +
            'SecretReference reads from it, and any failure is reported in the status of that SecretReference.',
          observedGeneration: generation,
        }
      : {
          type: readyCondition,
          status: 'False',
          reason: StoreReason.InvalidSpec,
          message: `The store spec cannot work: ${describe(problems)}. SecretReferences cannot read from this store until it is fixed.`,
          observedGeneration: generation,
        };
  const conditions = setCondition(store.status?.conditions, ready, now);
  const readyNow = conditions.find((condition) => condition.type === readyCondition)!;
  return {
    provider,
    observedGeneration: generation,
    conditions: withStalled(conditions, readyNow, store.status?.conditions, now),
  };
}

function describe(problems: { path: string; message: string }[]): string {
  const shown = problems.slice(0, problemsShown).map(({ path, message }) => `${path}: ${message}`);
  const more = problems.length - shown.length;
  return more > 0 ? `${shown.join('; ')}; and ${more} more` : shown.join('; ');
}

/** Status is written only when a reader would see a difference, so an unchanged store is never rewritten. */
export function storeStatusDiffers(current: StoreStatus | undefined, next: StoreStatus): boolean {
  return JSON.stringify(normalise(current ?? {})) !== JSON.stringify(normalise(next));
}

// Fixed key order: the cache's objects come from the API server, whose field order is not ours to rely on.
function normalise(status: StoreStatus) {
  return {
    provider: status.provider ?? null,
    observedGeneration: status.observedGeneration ?? null,
    conditions: (status.conditions ?? []).map((condition) => ({
      type: condition.type,
      status: condition.status,
      reason: condition.reason,
      message: condition.message,
      lastTransitionTime: condition.lastTransitionTime,
      observedGeneration: condition.observedGeneration ?? null,
    })),
  };
}
