// Dynamic credentials from Vault's database secrets engine. `<mount>/creds/<role>` takes no ttl, so each
// credential is requested with its own orphan child token whose explicit_max_ttl is the credential's bound,
// and its lease is renewed (at issue) to exactly that bound, never further: the role's login ends then (its
// VALID UNTIL, and Vault's revocation at expiry) whether or not the operator is running. A role whose
// default TTL is already longer than the bound is refused, and its fresh lease revoked at once. An orphan
// token, because a child of the operator's own token would be revoked with it at the operator's next login.
// Revocation revokes the lease itself (synchronously: the role's revocation statements, which end open
// sessions, run before Vault answers), then the token. With an increment (spec.dynamic.renewalIncrement) the
// lease is renewed at issue to the increment instead, and renewed again by the operator (`renew`) while it is
// entitled; the token's explicit_max_ttl still caps every renewal at the bound.
import { AccessDenied, InvalidReference, InvalidSpec, NotFound, Unavailable } from '../errors.ts';
import type { CallOptions, DynamicCredentials, IssuedLease, LeaseHandle, LeaseRequest } from '../types.ts';
import type { VaultTokens } from './auth.ts';
import { mapVaultError, vaultStatusError } from './errors.ts';
import type { VaultResponse, VaultTransport } from './http.ts';

interface CredsAnswer {
  lease_id?: string;
  lease_duration?: number;
  renewable?: boolean;
  data?: { username?: string; password?: string };
}

export class VaultLeases implements DynamicCredentials {
  readonly #transport: VaultTransport;
  readonly #tokens: VaultTokens;
  readonly #now: () => number;

  constructor(transport: VaultTransport, tokens: VaultTokens, now: () => number) {
    this.#transport = transport;
    this.#tokens = tokens;
    this.#now = now;
  }

  async issue(request: LeaseRequest, options: CallOptions = {}): Promise<IssuedLease> {
    const signal = options.signal ?? new AbortController().signal;
    const source = request.source;
    if (source.kind !== 'database') {
      throw new InvalidSpec('a Vault store issues database credentials only (dynamic.database)', {
        provider: 'vault',
      });
    }
    const where = `${source.mount}/creds/${source.role}`;
    if (request.maxSeconds < 1) {
      throw new InvalidReference(`no time is left to issue a credential from ${where}`, {
        provider: 'vault',
      });
    }
    const child = await this.#childToken(request, signal);
    const issuedAt = this.#now();
    const answer = await this.#transport.request(
      'GET',
      `${encodePath(source.mount)}/creds/${encodeURIComponent(source.role)}`,
      {
        token: child.token,
        signal,
      },
    );
    if (answer.status !== 200) {
      await this.#revokeToken(child.accessor, signal).catch(() => undefined);
      throw statusError(answer, `dynamic credentials from ${where}`);
    }
    const body = answer.body as CredsAnswer | undefined;
    const leaseId = body?.lease_id;
    const username = body?.data?.username;
    const password = body?.data?.password;
    const handle: LeaseHandle = { leaseId: leaseId ?? '', tokenAccessor: child.accessor };
    if (!leaseId || typeof username !== 'string' || typeof password !== 'string') {
      await this.revoke(handle, { signal }).catch(() => undefined);
      throw new Unavailable(`Vault answered ${where} without a lease, username and password`, {
        provider: 'vault',
      });
    }
    const leaseSeconds = body?.lease_duration ?? 0;
    if (leaseSeconds === 0 || leaseSeconds > request.maxSeconds) {
      await this.revoke(handle, { signal }).catch(() => undefined);
      throw new InvalidReference(
        `the Vault role ${where} gives credentials ${leaseSeconds === 0 ? 'no expiry' : `a ${leaseSeconds}s lease`}, ` +
          `longer than the ${request.maxSeconds}s this reference's ttl allows: set the role's default_ttl to at most the ttl`,
        { provider: 'vault' },
      );
    }
    // Held to the bound, or (with an increment) only the increment ahead: the role's default TTL may be either
    // side of it, and a renewal sets the lease's end to now + increment whichever it is.
    const wanted = Math.min(request.incrementSeconds ?? request.maxSeconds, request.maxSeconds);
    let held = leaseSeconds;
    let renewed = false;
    if (leaseSeconds !== wanted && body?.renewable) {
      const extended = await this.#renew(leaseId, wanted, signal).catch(async (error) => {
        await this.revoke(handle, { signal }).catch(() => undefined);
        throw error;
      });
      // Vault may grant less than asked (the role's max_ttl); never more than the bound, which is checked.
      held = Math.min(extended, request.maxSeconds);
      renewed = held !== leaseSeconds;
    }
    const fields = { username: Buffer.from(username, 'utf8'), password: Buffer.from(password, 'utf8') };
    if (request.incrementSeconds === undefined || held < wanted) {
      return { fields, handle, expiresAt: issuedAt + held * 1000, renewed };
    }
    // Renewable up to the bound (the token's explicit_max_ttl), held until the next renewal.
    return {
      fields,
      handle,
      expiresAt: issuedAt + request.maxSeconds * 1000,
      heldUntil: issuedAt + held * 1000,
      renewed,
    };
  }

  async renew(handle: LeaseHandle, seconds: number, options: CallOptions = {}): Promise<number> {
    const signal = options.signal ?? new AbortController().signal;
    return this.#renew(handle.leaseId, seconds, signal);
  }

  async revoke(handle: LeaseHandle, options: CallOptions = {}): Promise<void> {
    const signal = options.signal ?? new AbortController().signal;
    if (handle.leaseId) {
      // sync: Vault answers after the revocation statements ran (sessions ended, role dropped).
      const answer = await this.#call(
        'PUT',
        'sys/leases/revoke',
        { lease_id: handle.leaseId, sync: true },
        signal,
      );
      // An unknown lease (expired, or revoked before) is no error: Vault answers 204. A 400 is a revocation
      // that failed (the role's statements did), so the credential may still log in: an error, retried.
      if (answer.status !== 204 && answer.status !== 200) {
        throw statusError(answer, 'the revocation of a dynamic credential lease');
      }
    }
    await this.#revokeToken(handle.tokenAccessor, signal);
  }

  async #childToken(
    request: LeaseRequest,
    signal: AbortSignal,
  ): Promise<{ token: string; accessor: string }> {
    const holder = request.holder;
    const answer = await this.#call(
      'POST',
      'auth/token/create-orphan',
      {
        ttl: `${request.maxSeconds}s`,
        explicit_max_ttl: `${request.maxSeconds}s`,
        renewable: false,
        // Names the holder in Vault's own audit log; no secret here.
        display_name: `secretlink-${holder.namespace}-${holder.reference}`.slice(0, 100),
        meta: {
          namespace: holder.namespace,
          reference: holder.reference,
          ...(holder.job ? { job: holder.job.name, jobUid: holder.job.uid } : {}),
        },
      },
      signal,
    );
    const auth = (answer.body as { auth?: { client_token?: string; accessor?: string } } | undefined)?.auth;
    if (answer.status !== 200 || !auth?.client_token || !auth.accessor) {
      throw statusError(answer, 'a child token for a dynamic credential (auth/token/create-orphan)');
    }
    return { token: auth.client_token, accessor: auth.accessor };
  }

  async #renew(leaseId: string, seconds: number, signal: AbortSignal): Promise<number> {
    const answer = await this.#call(
      'PUT',
      'sys/leases/renew',
      { lease_id: leaseId, increment: seconds },
      signal,
    );
    const duration = (answer.body as { lease_duration?: number } | undefined)?.lease_duration;
    if (answer.status === 400) {
      // Vault answers 400 for a lease it no longer holds (expired, revoked with its token): it has lapsed.
      throw new NotFound('Vault no longer holds the dynamic credential lease: it lapsed or was revoked', {
        provider: 'vault',
        httpStatus: 400,
      });
    }
    if (answer.status !== 200 || typeof duration !== 'number') {
      throw statusError(answer, 'the renewal of a dynamic credential lease');
    }
    return duration;
  }

  async #revokeToken(accessor: string, signal: AbortSignal): Promise<void> {
    if (!accessor) return;
    const answer = await this.#call('POST', 'auth/token/revoke-accessor', { accessor }, signal);
    // A token that expired or was revoked before is gone already: Vault answers 200 with a warning.
    if (answer.status !== 204 && answer.status !== 200) {
      throw statusError(answer, 'the revocation of a dynamic credential token');
    }
  }

  /** A call with the operator's token; a refused token is replaced once, as reads do. */
  async #call(method: string, path: string, body: unknown, signal: AbortSignal): Promise<VaultResponse> {
    try {
      let token = await this.#tokens.token(signal);
      let answer = await this.#transport.request(method, path, { token, body, signal });
      if (answer.status === 403 && (await this.#tokens.replace(token, signal))) {
        token = await this.#tokens.token(signal);
        answer = await this.#transport.request(method, path, { token, body, signal });
      }
      return answer;
    } catch (error) {
      throw mapVaultError(error);
    }
  }
}

/** Vault's own error text is not passed on (it may name a lease); the status and what was asked are. */
function statusError(answer: VaultResponse, what: string) {
  if (answer.status === 403) {
    return new AccessDenied(`Vault policy does not allow ${what}`, { provider: 'vault', httpStatus: 403 });
  }
  return vaultStatusError(answer.status, what);
}

function encodePath(mount: string): string {
  return mount.split('/').filter(Boolean).map(encodeURIComponent).join('/');
}
