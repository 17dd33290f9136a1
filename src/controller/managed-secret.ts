// How secretlink marks the Secrets it manages, and the desired shape of one. Labels and annotations carry
// names, version ids and times, never a value.
import type { V1OwnerReference, V1Secret } from '@kubernetes/client-node';
import { annotations as apiAnnotations, group, labels, managedBy } from '../api/constants.ts';
import type { Grant } from './outcome.ts';

const managedByLabel = labels.managedBy;
const referenceLabel = labels.reference;

const annotation = {
  ...apiAnnotations,
  /** Digest of the reference's content definition when written; a different digest forces a rewrite. */
  contentHash: `${group}/content-hash`,
  /** Keyed HMAC of the written content, so audit records can tell versions apart. */
  fingerprint: `${group}/fingerprint`,
  /** The accesses the last write granted or renewed, written with it, so its audit records can be derived again. */
  audit: `${group}/audit`,
  /**
   * A mark of the write that only the operator can compute (a keyed HMAC over the reference uid, the target
   * name and the resourceVersion of the status the write was decided against), so a Secret whose create was
   * made but never confirmed (the operator stopped first) is known as this reference's own after a restart.
   */
  claim: `${group}/claim`,
} as const;

export interface ManagedAnnotations {
  contentHash?: string;
  fingerprint?: string;
  /** Remote name -> version id last written. */
  remoteVersions: Record<string, string>;
  writtenAt?: string;
  expiresAt?: string;
}

/** A Secret is ours only when it carries both labels; anything else with the target's name is foreign. */
export function isManagedFor(secret: V1Secret, namespace: string, referenceName: string): boolean {
  const labels = secret.metadata?.labels ?? {};
  return (
    secret.metadata?.namespace === namespace &&
    labels[managedByLabel] === managedBy &&
    labels[referenceLabel] === referenceName
  );
}

export function managedAnnotations(secret: V1Secret): ManagedAnnotations {
  const annotations = secret.metadata?.annotations ?? {};
  const remoteVersions: Record<string, string> = {};
  try {
    for (const entry of JSON.parse(annotations[annotation.remoteVersions] ?? '[]')) {
      remoteVersions[entry.name] = entry.version;
    }
  } catch {
    // An edited annotation only means the next refresh rewrites the Secret.
  }
  return {
    contentHash: annotations[annotation.contentHash],
    fingerprint: annotations[annotation.fingerprint],
    remoteVersions,
    writtenAt: annotations[annotation.writtenAt],
    expiresAt: annotations[annotation.expiresAt],
  };
}

export interface DesiredSecret {
  namespace: string;
  name: string;
  referenceName: string;
  type: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  data: Record<string, Buffer>;
  contentHash: string;
  fingerprint: string;
  /** `<kind>/<name>` of the store the values came from. */
  store: string;
  remoteVersions: Record<string, string>;
  writtenAt: string;
  expiresAt?: string;
  ownerReferences: V1OwnerReference[];
  /** The accesses this write grants or renews, for its audit records. */
  audit?: WriteAudit;
  /** The operator's own annotations besides these (a dynamic credential's revocation handle); they win. */
  ownAnnotations?: Record<string, string>;
  /** See `annotation.claim`. */
  claim?: string;
}

/** What a write carries for its audit: when it was decided and the accesses it grants or renews. */
export interface WriteAudit {
  time: string;
  grants: Grant[];
  /** The replica that made the write, so its records name it whoever derives them. */
  by?: string;
}

export function buildSecret(desired: DesiredSecret): V1Secret {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      namespace: desired.namespace,
      name: desired.name,
      // Our own labels last, so a user's target.labels cannot disguise or un-manage the Secret.
      labels: { ...desired.labels, [managedByLabel]: managedBy, [referenceLabel]: desired.referenceName },
      annotations: {
        ...desired.annotations,
        [annotation.contentHash]: desired.contentHash,
        [annotation.fingerprint]: desired.fingerprint,
        [annotation.store]: desired.store,
        [annotation.remoteVersions]: JSON.stringify(versionList(desired.remoteVersions)),
        [annotation.writtenAt]: desired.writtenAt,
        ...(desired.expiresAt ? { [annotation.expiresAt]: desired.expiresAt } : {}),
        ...(desired.audit ? auditAnnotation(desired.audit) : {}),
        ...desired.ownAnnotations,
        ...(desired.claim ? { [annotation.claim]: desired.claim } : {}),
      },
      ownerReferences: desired.ownerReferences,
    },
    type: desired.type,
    immutable: false,
    data: Object.fromEntries(
      Object.entries(desired.data).map(([key, value]) => [key, value.toString('base64')]),
    ),
  };
}

/** The expiry annotation kept current when only owners change, so `kubectl get secret -o yaml` tells the truth. */
export function expiresAtAnnotation(expiresAt: string | undefined): Record<string, string | null> {
  return { [annotation.expiresAt]: expiresAt ?? null };
}

/** The annotation that carries a write's grants; names, uids and reasons only. */
export function auditAnnotation(audit: WriteAudit): Record<string, string> {
  return { [annotation.audit]: JSON.stringify(audit) };
}

/** The claim mark the Secret's last create or replace carried, if any. */
export function claimMarkOf(secret: V1Secret): string | undefined {
  return secret.metadata?.annotations?.[annotation.claim];
}

/** The grants the Secret's last write carried, if it carried any that can be read. */
export function writeAuditOf(secret: V1Secret): WriteAudit | undefined {
  const text = secret.metadata?.annotations?.[annotation.audit];
  if (!text) return undefined;
  try {
    const parsed = JSON.parse(text) as Partial<WriteAudit>;
    if (typeof parsed.time !== 'string' || !Array.isArray(parsed.grants)) return undefined;
    const grants = parsed.grants.filter(
      (grant): grant is Grant =>
        (grant?.action === 'Materialized' || grant?.action === 'Refreshed') &&
        typeof grant.reason === 'string' &&
        typeof grant.job?.name === 'string' &&
        typeof grant.job?.uid === 'string',
    );
    return { time: parsed.time, grants, ...(typeof parsed.by === 'string' ? { by: parsed.by } : {}) };
  } catch {
    // Only the operator writes it on a Secret it trusts; an edited one cannot be read back, and is not.
    return undefined;
  }
}

/** Remote versions as a list sorted by name, the order status and annotations both show. */
export function versionList(record: Record<string, string>): { name: string; version: string }[] {
  return Object.entries(record)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, version]) => ({ name, version }));
}

/** Zeroes the values the operator owns (its copies) once they are written or no longer needed. */
export function zeroValues(data: Record<string, Buffer>): void {
  for (const value of Object.values(data)) value.fill(0);
}
