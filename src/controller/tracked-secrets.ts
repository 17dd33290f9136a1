// Which Secrets a reference still holds, by uid, whatever their name. A Secret the operator created stays
// tracked until the API server confirms it gone: a renamed target must not leave the old Secret (its value,
// its owners) behind, and a lost status must not lose it either. Pure; the reconciler deletes what this names.
import type { V1Secret } from '@kubernetes/client-node';
import type { ManagedSecretRecord } from '../api/types.ts';

/** One Secret the operator created, known by the uid the API server gave it. */
export interface TrackedSecret {
  name: string;
  uid: string;
}

export interface TrackingFacts {
  /** The reference's target now. Its Secret is the plan's business, never retired here. */
  targetName: string;
  /** From status: the Secret claimed and created, which may be under a name the target no longer has. */
  recorded?: ManagedSecretRecord;
  /** From status: Secrets retired by an earlier reconcile and not yet confirmed gone. */
  retired: TrackedSecret[];
  /**
   * Secrets that carry this reference's managed labels (the cache of managed Secrets, selected by label). Only
   * the operator may set those labels (config/admission/reserved), so these recover what a status lost: a
   * create whose uid was never recorded, or a status wiped by a restore.
   */
  labelled: V1Secret[];
}

/**
 * The Secrets to delete (each with a uid precondition) and to keep in `status.retiredSecrets` until they are:
 * every one the reference created under a name that is not its target now. Sorted and without repeats, so
 * the same facts give the same list.
 */
export function secretsToRetire(facts: TrackingFacts): TrackedSecret[] {
  const found = new Map<string, TrackedSecret>();
  const add = (name: string | undefined, uid: string | undefined) => {
    if (name && uid && name !== facts.targetName && !found.has(uid)) found.set(uid, { name, uid });
  };
  add(facts.recorded?.name, facts.recorded?.uid);
  for (const secret of facts.retired) add(secret.name, secret.uid);
  for (const secret of facts.labelled) add(secret.metadata?.name, secret.metadata?.uid);
  return [...found.values()].sort((a, b) => a.name.localeCompare(b.name) || a.uid.localeCompare(b.uid));
}

/**
 * What status records of the Secret under `targetName`: the claim, or a Secret retired from that name and not
 * yet confirmed gone when the target is renamed back to it. Either way one this reference created, by uid.
 */
export function recordedUnder(
  targetName: string,
  recorded: ManagedSecretRecord | undefined,
  retired: TrackedSecret[],
): ManagedSecretRecord | undefined {
  if (recorded?.name === targetName) return recorded;
  return retired.find((secret) => secret.name === targetName);
}

/** The names a reference's pods are guarded on by the pod admission policy: its claim and its retired Secrets. */
export function guardedNames(status: {
  managedSecret?: ManagedSecretRecord;
  retiredSecrets?: TrackedSecret[];
}): string[] {
  const names = [status.managedSecret?.name, ...(status.retiredSecrets ?? []).map((s) => s.name)];
  return [...new Set(names.filter((name): name is string => !!name))].sort();
}
