// The reasons a Ready condition can give. Each names something a person can act on; the operator decides
// which applies by the type of error it met, never by matching message text.
import { toKubernetesTime } from './timestamps.ts';
import type { Condition } from './types.ts';

/** Reasons for a SecretReference's Ready condition; the comment says the status each goes with. */
export const ReferenceReason = {
  /** True: the Secret is written for the consuming Jobs. */
  Materialized: 'Materialized',
  /** True: nothing to write now; the Secret is written when a consuming Job starts. */
  NoConsumers: 'NoConsumers',
  /** True: every consuming Job passed ttl, so the Secret was revoked. */
  Expired: 'Expired',
  /** False: storeRef names a store that does not exist. */
  StoreNotFound: 'StoreNotFound',
  /** False: the ClusterSecretStore does not allow this namespace. */
  StoreNotAllowed: 'StoreNotAllowed',
  /**
   * False: the ClusterSecretStore's spec.remoteAccess does not let this namespace reach a remote the reference
   * names, or has no rule for it while the reference uses find; nothing is read, and a written Secret is revoked.
   */
  RemoteNotAllowed: 'RemoteNotAllowed',
  /** False: the store's own spec or credentials are invalid (see the store's status). */
  StoreInvalid: 'StoreInvalid',
  /**
   * False, retried: a Secret or ServiceAccount the store names for its credentials does not list the store in
   * its `secretlink.dev/allowed-stores` annotation; the message names the object and the entry to add.
   */
  CredentialNotAllowed: 'CredentialNotAllowed',
  /** False, retried: the store did not answer, timed out or throttled. */
  StoreUnavailable: 'StoreUnavailable',
  /** False: the store refused the operator's identity. */
  AccessDenied: 'AccessDenied',
  /** False: a remote secret, version or property does not exist. */
  RemoteNotFound: 'RemoteNotFound',
  /** False: a remote value is not what the spec expects (not JSON for property or dataFrom, say). */
  RemoteValueInvalid: 'RemoteValueInvalid',
  /**
   * False: a target.template key does not parse or render (undefined variable, output too large, ...); the
   * message names the key and what failed (the line and column only for a parse error), never a value.
   */
  TemplateInvalid: 'TemplateInvalid',
  /**
   * False: reading the reference would exceed one of the operator's limits (one store answer's size, the bytes
   * one reference may read); the message names the limit and its flag.
   */
  LimitExceeded: 'LimitExceeded',
  /** False: the target Secret exists and is not managed by secretlink; it is never adopted or overwritten. */
  Conflict: 'Conflict',
  /**
   * False: a pod that no consuming Job controls refers to the target Secret (it was created before the
   * reference, or waits with optional: true), so nothing is written; the message names the pods.
   */
  ForeignPodUsesTarget: 'ForeignPodUsesTarget',
  /** False: an older SecretReference in the namespace names the same target Secret; this one never writes it. */
  TargetClaimed: 'TargetClaimed',
  /** False: SecretReferences are not served in this namespace (kube-system, outside the pod admission policy). */
  NamespaceRefused: 'NamespaceRefused',
  /** False: the spec passed the schema but cannot work, e.g. a version the store's provider cannot read. */
  InvalidSpec: 'InvalidSpec',
  /**
   * False, retried at once: a consuming Job is entitled to the Secret but it does not exist, e.g. someone
   * deleted it just before the operator replaced it (nothing was written); it is written again.
   */
  SecretGone: 'SecretGone',
  /**
   * False, retried: the operator's signed audit file cannot take records (a full or read-only volume), so no
   * access is granted: no Secret is created, and no Job is added to or refreshed in one. Secrets already
   * written stay for the Jobs that hold them, and revocations and expiries go on.
   */
  AuditUnavailable: 'AuditUnavailable',
} as const;
export type ReferenceReason = (typeof ReferenceReason)[keyof typeof ReferenceReason];

/**
 * Reasons for a SecretStore's or ClusterSecretStore's Ready condition. Only the spec is judged (statically);
 * credentials and access are judged per SecretReference, whose own reasons report them.
 */
export const StoreReason = {
  /** True: the spec passes every check, including those the CRD schema cannot express. */
  Valid: 'Valid',
  /** False: the spec passed the schema but cannot work; the message names each field and what is wrong. */
  InvalidSpec: 'InvalidSpec',
} as const;
export type StoreReason = (typeof StoreReason)[keyof typeof StoreReason];

/**
 * Returns `conditions` with `next` in place of the condition of the same type. lastTransitionTime changes only
 * when the status does, as the API conventions ask, so a repeated reconcile writes nothing new.
 */
export function setCondition(
  conditions: readonly Condition[] | undefined,
  next: Omit<Condition, 'lastTransitionTime'>,
  now: Date,
): Condition[] {
  const current = findCondition(conditions, next.type);
  const updated: Condition = { ...next, lastTransitionTime: transitionTime(current, next.status, now) };
  if (!current) return [...(conditions ?? []), updated];
  // Keep the list's order, so an unchanged condition list serializes the same way.
  return (conditions ?? []).map((condition) => (condition === current ? updated : condition));
}

/**
 * The lastTransitionTime for a condition that now has `status`: the current one's while the status stays, else
 * `now` as RFC 3339 to the second (the one format every condition the operator writes uses).
 */
export function transitionTime(
  current: Condition | undefined,
  status: Condition['status'],
  now: Date,
): string {
  return current && current.status === status ? current.lastTransitionTime : toKubernetesTime(now);
}

export function findCondition(
  conditions: readonly Condition[] | undefined,
  type: string,
): Condition | undefined {
  return conditions?.find((condition) => condition.type === type);
}
