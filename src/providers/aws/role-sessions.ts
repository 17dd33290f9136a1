// Temporary AWS credentials (STS AssumeRole) for ELT jobs that read from S3: a session for a role the store
// lists in assumableRoles, lasting no longer than the credential's bound and named after the Job it is for.
// STS sessions last at least 900 s and cannot be revoked one by one, so a bound under 900 s is refused rather
// than rounded up, and "revocation" is the session's own expiry.
import { AssumeRoleCommand, type AssumeRoleCommandOutput, type STSClient } from '@aws-sdk/nested-clients/sts';
import { InvalidReference, InvalidSpec, RemoteNotAllowed, Unavailable } from '../errors.ts';
import type { CallOptions, DynamicCredentials, IssuedLease, LeaseHolder, LeaseRequest } from '../types.ts';
import { mapAwsError } from './errors.ts';

/** STS's shortest session; its longest is the role's maximum session duration (at most 12 h). */
export const minSessionSeconds = 900;
const maxSessionSeconds = 43_200;

export class AwsRoleSessions implements DynamicCredentials {
  readonly #sts: STSClient;
  readonly #assumable: ReadonlySet<string>;
  readonly #now: () => number;

  constructor(sts: STSClient, assumableRoles: readonly string[], now: () => number) {
    this.#sts = sts;
    this.#assumable = new Set(assumableRoles);
    this.#now = now;
  }

  async issue(request: LeaseRequest, options: CallOptions = {}): Promise<IssuedLease> {
    const source = request.source;
    if (source.kind !== 'awsRole') {
      throw new InvalidSpec('an AWS store issues role sessions only (dynamic.awsRole)', { provider: 'aws' });
    }
    // Checked again here, whatever the caller judged: the store's owner decides which roles a tenant gets.
    if (!this.#assumable.has(source.roleArn)) {
      throw new RemoteNotAllowed(`the store does not list ${source.roleArn} in assumableRoles`, {
        provider: 'aws',
      });
    }
    if (request.maxSeconds < minSessionSeconds) {
      throw new InvalidReference(
        `STS sessions last at least ${minSessionSeconds}s, longer than the ${request.maxSeconds}s of access left: ` +
          'use a ttl of 15m or more',
        { provider: 'aws' },
      );
    }
    const durationSeconds = Math.min(request.maxSeconds, maxSessionSeconds);
    const issuedAt = this.#now();
    let answer: AssumeRoleCommandOutput;
    try {
      answer = await this.#sts.send(
        new AssumeRoleCommand({
          RoleArn: source.roleArn,
          RoleSessionName: sessionName(request.holder),
          DurationSeconds: durationSeconds,
        }),
        { abortSignal: options.signal },
      );
    } catch (error) {
      throw mapAwsError(error, source.roleArn);
    }
    const credentials = answer.Credentials;
    if (!credentials?.AccessKeyId || !credentials.SecretAccessKey || !credentials.SessionToken) {
      throw new Unavailable('STS answered AssumeRole without credentials', { provider: 'aws' });
    }
    const bound = issuedAt + durationSeconds * 1000;
    return {
      fields: {
        accessKeyId: Buffer.from(credentials.AccessKeyId),
        secretAccessKey: Buffer.from(credentials.SecretAccessKey),
        sessionToken: Buffer.from(credentials.SessionToken),
      },
      // The access key id names the session (it is no secret) and tells one session from the next.
      handle: { leaseId: credentials.AccessKeyId, tokenAccessor: '' },
      // STS's own expiry of the session it granted, which is what ends it.
      expiresAt: credentials.Expiration?.getTime() ?? bound,
      renewed: false,
    };
  }

  /** Nothing to call: STS has no per-session revocation; the session ends at its expiry (docs/security.md). */
  async revoke(): Promise<void> {}
}

/** Shows up in CloudTrail and in the assumed-role ARN: the Job the session is for (or the reference). */
export function sessionName(holder: LeaseHolder): string {
  const who = holder.job?.name ?? holder.reference;
  return `secretlink-${holder.namespace}.${who}`.replace(/[^\w+=,.@-]/g, '-').slice(0, 64);
}
