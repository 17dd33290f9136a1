// The Stalled condition: set beside Ready=False when the failure cannot clear without a person changing
// something (a spec, a store, an annotation, a conflicting object). kstatus, which Flux uses to wait for what
// it applied, reads Ready=False as still in progress and Stalled=True as failed, so without Stalled a
// terminal failure would keep Flux waiting until its timeout. Argo CD's health check reads it the same way.
import { findCondition, ReferenceReason, StoreReason, transitionTime } from './conditions.ts';
import type { Condition } from './types.ts';

export const stalledCondition = 'Stalled';

/**
 * For every SecretReference reason: does Ready=False with it stall? A record over the reason type, so a new
 * reason does not compile until someone decides. Only failures the operator retries because they may clear
 * on their own (the store answers again, a deleted Secret is written again) are not stalled.
 */
const referenceStalls: Record<ReferenceReason, boolean> = {
  [ReferenceReason.Materialized]: false,
  [ReferenceReason.NoConsumers]: false,
  [ReferenceReason.Expired]: false,
  [ReferenceReason.StoreUnavailable]: false,
  [ReferenceReason.SecretGone]: false,
  [ReferenceReason.AuditUnavailable]: false,
  [ReferenceReason.StoreNotFound]: true,
  [ReferenceReason.StoreNotAllowed]: true,
  [ReferenceReason.StoreInvalid]: true,
  [ReferenceReason.CredentialNotAllowed]: true,
  [ReferenceReason.AccessDenied]: true,
  [ReferenceReason.RemoteNotFound]: true,
  [ReferenceReason.RemoteValueInvalid]: true,
  [ReferenceReason.RemoteNotAllowed]: true,
  [ReferenceReason.TemplateInvalid]: true,
  [ReferenceReason.LimitExceeded]: true,
  [ReferenceReason.Conflict]: true,
  [ReferenceReason.ForeignPodUsesTarget]: true,
  [ReferenceReason.TargetClaimed]: true,
  [ReferenceReason.NamespaceRefused]: true,
  [ReferenceReason.InvalidSpec]: true,
};

const storeStalls: Record<StoreReason, boolean> = {
  [StoreReason.Valid]: false,
  [StoreReason.InvalidSpec]: true,
};

/** True when a Ready condition reports a failure that needs a person; an unknown reason is not (Flux waits). */
export function stalls(ready: Pick<Condition, 'status' | 'reason'>): boolean {
  if (ready.status !== 'False') return false;
  return (
    (referenceStalls as Record<string, boolean>)[ready.reason] === true ||
    (storeStalls as Record<string, boolean>)[ready.reason] === true
  );
}

/**
 * `conditions` with Stalled set from `ready` (same reason, message and observedGeneration) when it stalls, and
 * removed when it does not, as Flux's own controllers do. Its lastTransitionTime comes from `previous`.
 */
export function withStalled(
  conditions: readonly Condition[],
  ready: Condition,
  previous: readonly Condition[] | undefined,
  now: Date,
): Condition[] {
  const others = conditions.filter((condition) => condition.type !== stalledCondition);
  if (!stalls(ready)) return others;
  const stalled: Condition = {
    type: stalledCondition,
    status: 'True',
    reason: ready.reason,
    message: ready.message,
    lastTransitionTime: transitionTime(findCondition(previous, stalledCondition), 'True', now),
    ...(ready.observedGeneration === undefined ? {} : { observedGeneration: ready.observedGeneration }),
  };
  return [...others, stalled];
}
