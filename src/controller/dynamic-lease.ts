// The dynamic credential a managed Secret holds: how its revocation handle is carried on the Secret, and the
// pure decisions about it (keep the one held, or issue a new one, and for how long). The handle (lease id and
// the accessor of the token that holds the lease) lives only in an annotation of the Secret that holds the
// credential itself: the API server and the pod admission policy confine both alike, and a restarted operator
// finds it there to revoke the lease. Status, logs, Events and audit records name the lease by fingerprint.
import type { V1Secret } from '@kubernetes/client-node';
import { group } from '../api/constants.ts';
import { parseDuration } from '../api/duration.ts';
import type { DynamicCredential, SecretReference } from '../api/types.ts';
import type { LeaseHandle, LeaseSource } from '../providers/types.ts';

export const leaseAnnotation = `${group}/lease`;

export const dynamicDefaults = {
  mount: 'database',
  usernameKey: 'username',
  passwordKey: 'password',
} as const;

/** The lease a Secret holds, as its annotation records it. */
export interface HeldLease {
  handle: LeaseHandle;
  /** Epoch ms: when the lease ends at the latest. */
  expiresAt: number;
  /** Keyed HMAC of the lease id. */
  fingerprint: string;
  /** `<mount>/creds/<role>` it came from. */
  source: string;
  /** Set when the lease is held in increments (spec.dynamic.renewalIncrement): the increment, in seconds. */
  incrementSeconds?: number;
  /**
   * Epoch ms, known only to the process that issued the lease (never in the annotation): when a lease held in
   * increments ends unless renewed again.
   */
  heldUntil?: number;
}

/** Where a reference's dynamic credential comes from, as remoteVersions and audit records name it. */
export function leaseSource(dynamic: DynamicCredential): string {
  const source = leaseRequestSource(dynamic);
  return source.kind === 'database'
    ? `${source.mount}/creds/${source.role}`
    : `sts:AssumeRole/${source.roleArn}`;
}

/** The reference's renewal increment in ms (spec.dynamic.renewalIncrement), if it holds leases in increments. */
export function renewalIncrementMs(reference: SecretReference): number | undefined {
  const increment = reference.spec.dynamic?.database ? reference.spec.dynamic.renewalIncrement : undefined;
  return increment ? parseDuration(increment) : undefined;
}

/** The increment a new lease is requested with, in whole seconds. */
export function incrementSecondsOf(reference: SecretReference): number | undefined {
  const ms = renewalIncrementMs(reference);
  return ms === undefined ? undefined : Math.max(1, Math.floor(ms / 1000));
}

export function leaseRequestSource(dynamic: DynamicCredential): LeaseSource {
  if (dynamic.awsRole) return { kind: 'awsRole', roleArn: dynamic.awsRole.roleArn };
  const database = dynamic.database ?? { role: '' };
  return { kind: 'database', mount: database.mount ?? dynamicDefaults.mount, role: database.role };
}

/** The provider a dynamic credential needs its store to be. */
export function dynamicProvider(dynamic: DynamicCredential): 'aws' | 'vault' {
  return dynamic.awsRole ? 'aws' : 'vault';
}

/** Which Secret key each part of the credential goes to. */
export function dynamicKeys(dynamic: DynamicCredential): Record<string, string> {
  if (dynamic.awsRole) {
    return {
      accessKeyId: 'AWS_ACCESS_KEY_ID',
      secretAccessKey: 'AWS_SECRET_ACCESS_KEY',
      sessionToken: 'AWS_SESSION_TOKEN',
    };
  }
  return {
    username: dynamic.usernameKey ?? dynamicDefaults.usernameKey,
    password: dynamic.passwordKey ?? dynamicDefaults.passwordKey,
  };
}

/** The version a dynamic credential shows in remoteVersions: its lease's fingerprint, never its id. */
export function leaseVersion(fingerprint: string): string {
  return `lease:${fingerprint}`;
}

export function leaseAnnotationOf(lease: HeldLease): Record<string, string> {
  return {
    [leaseAnnotation]: JSON.stringify({
      leaseId: lease.handle.leaseId,
      tokenAccessor: lease.handle.tokenAccessor,
      expiresAt: new Date(lease.expiresAt).toISOString(),
      fingerprint: lease.fingerprint,
      source: lease.source,
      ...(lease.incrementSeconds ? { incrementSeconds: lease.incrementSeconds } : {}),
    }),
  };
}

/** The lease the Secret's annotation names, if it names one that can be read. */
export function heldLeaseOf(secret: V1Secret | undefined): HeldLease | undefined {
  const text = secret?.metadata?.annotations?.[leaseAnnotation];
  if (!text) return undefined;
  try {
    const parsed = JSON.parse(text) as Record<string, unknown>;
    const { leaseId, tokenAccessor, expiresAt, fingerprint, source, incrementSeconds } = parsed;
    if (typeof leaseId !== 'string' || typeof tokenAccessor !== 'string') return undefined;
    const expires = typeof expiresAt === 'string' ? Date.parse(expiresAt) : Number.NaN;
    return {
      handle: { leaseId, tokenAccessor },
      expiresAt: Number.isNaN(expires) ? 0 : expires,
      fingerprint: typeof fingerprint === 'string' ? fingerprint : '',
      source: typeof source === 'string' ? source : '',
      ...(typeof incrementSeconds === 'number' && incrementSeconds > 0 ? { incrementSeconds } : {}),
    };
  } catch {
    return undefined;
  }
}

/**
 * Whether a write keeps the lease the Secret holds: same source, and either valid for a while yet or lasting
 * as long as the Secret will (its last Job's expiry). A new lease would change the password under Jobs that
 * read it at start; only a lease about to end before the Secret does is replaced.
 */
export function keepsLease(
  held: HeldLease | undefined,
  reference: SecretReference,
  now: number,
  secretExpiresAt?: string,
): boolean {
  const dynamic = reference.spec.dynamic;
  if (!held || !dynamic || held.source !== leaseSource(dynamic)) return false;
  return held.expiresAt > now + leaseRenewMarginMs || coversSecret(held, secretExpiresAt);
}

/** Whether the lease lasts until the Secret goes (a lease is counted in whole seconds, so a little less). */
export function coversSecret(held: HeldLease, secretExpiresAt: string | undefined): boolean {
  return secretExpiresAt !== undefined && held.expiresAt >= Date.parse(secretExpiresAt) - leaseRoundingMs;
}

/** Seconds are rounded down when a lease is requested; that much short of the Secret's expiry still covers it. */
const leaseRoundingMs = 2_000;

/** A lease with less than this left is replaced at the next write rather than handed to another Job. */
export const leaseRenewMarginMs = 5_000;

/**
 * How long a new lease may live: until the Secret's expiry (the last consuming Job's ttl), never longer than
 * the reference's ttl from now. Whole seconds, rounded down, as Vault counts them.
 */
export function leaseSeconds(now: number, secretExpiresAt: string | undefined, ttlMs: number): number {
  const bound = Math.min(secretExpiresAt ? Date.parse(secretExpiresAt) : now + ttlMs, now + ttlMs);
  return Math.floor((bound - now) / 1000);
}
