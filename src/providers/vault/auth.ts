// Getting and keeping a Vault token. Kubernetes and AppRole log in; a token from a Secret is read and looked
// up. A token is renewed once two thirds of its lease have passed, and replaced by a fresh login (or a fresh
// read of the Secret) when it cannot be renewed, has expired, or Vault stops accepting it.
import { defaults } from '../../api/constants.ts';
import { type CredentialSource, mintToken, readCredential } from '../credentials.ts';
import { abortable, withDeadline } from '../deadline.ts';
import { AccessDenied, type ProviderError } from '../errors.ts';
import type { ProviderLogger } from '../logger.ts';
import { countedCall } from '../metrics.ts';
import type { VaultProviderSpec } from '../store-spec.ts';
import type { StoreScope } from '../types.ts';
import { mapVaultError, vaultStatusError } from './errors.ts';
import type { VaultTransport } from './http.ts';

const authPath = 'spec.provider.vault.auth';
/**
 * The audience of the ServiceAccount token sent to Vault unless the store names another; the Vault role's
 * `audience` must match it. Never empty: that would be a token the API server itself accepts.
 */
export const defaultVaultAudience = 'vault';

export interface VaultLease {
  token: string;
  renewable: boolean;
  /** Seconds; 0 means the token never expires. */
  leaseSeconds: number;
  obtainedAt: number;
}

/** One way of getting a token: a login, or a read of the token Secret. */
export type VaultLogin = (signal: AbortSignal) => Promise<VaultLease>;
/** Extends a token's lease (auth/token/renew-self). */
export type VaultRenewal = (lease: VaultLease, signal: AbortSignal) => Promise<VaultLease>;

export interface VaultTokenOptions {
  login: VaultLogin;
  renew: VaultRenewal;
  timeoutMs: number;
  now: () => number;
  logger: ProviderLogger;
}

export class VaultTokens {
  readonly #options: VaultTokenOptions;
  #lease?: VaultLease;
  #pending?: Promise<VaultLease>;

  constructor(options: VaultTokenOptions) {
    this.#options = options;
  }

  /** A token to use now: logs in on first use, renews or logs in again as the lease runs down. */
  async token(signal: AbortSignal): Promise<string> {
    const lease = this.#lease;
    if (!lease) return (await this.#refresh(signal, 'login')).token;
    const age = (this.#options.now() - lease.obtainedAt) / 1000;
    if (lease.leaseSeconds === 0 || age < (lease.leaseSeconds * 2) / 3) return lease.token;
    const expired = age >= lease.leaseSeconds;
    return (await this.#refresh(signal, lease.renewable && !expired ? 'renew' : 'login')).token;
  }

  /**
   * After Vault refused a token: gets a new one and says whether it differs (a revoked token is replaced by a
   * login; an unchanged token Secret gives the same token back, and retrying with it would be pointless).
   */
  async replace(rejected: string, signal: AbortSignal): Promise<boolean> {
    if (this.#lease?.token === rejected) this.#lease = undefined;
    const fresh = await this.#refresh(signal, 'login');
    return fresh.token !== rejected;
  }

  #refresh(signal: AbortSignal, how: 'login' | 'renew'): Promise<VaultLease> {
    // Concurrent callers share one login or renewal, which runs under its own deadline so that one caller
    // giving up does not fail the others.
    this.#pending ??= this.#obtain(how).finally(() => {
      this.#pending = undefined;
    });
    return abortable(this.#pending, signal);
  }

  async #obtain(how: 'login' | 'renew'): Promise<VaultLease> {
    if (how === 'renew' && this.#lease) {
      try {
        this.#lease = await this.#renew(this.#lease);
        return this.#lease;
      } catch (error) {
        this.#options.logger.info(
          { provider: 'vault', reason: (error as ProviderError).reason },
          'token renewal failed; logging in again',
        );
      }
    }
    this.#lease = await this.#call('login', (limit) => this.#options.login(limit));
    return this.#lease;
  }

  async #renew(lease: VaultLease): Promise<VaultLease> {
    const renewed = await this.#call('renew', (limit) => this.#options.renew(lease, limit));
    // A shorter lease than before means the token reached its max TTL: the next refresh logs in instead.
    return renewed.leaseSeconds < lease.leaseSeconds ? { ...renewed, renewable: false } : renewed;
  }

  #call<T>(operation: 'login' | 'renew', work: (signal: AbortSignal) => Promise<T>): Promise<T> {
    return countedCall('vault', operation, () =>
      withDeadline(this.#options.timeoutMs, undefined, `Vault ${operation}`, work, (error) =>
        mapVaultError(error),
      ),
    );
  }
}

/** The lease in a login or renewal answer (`auth`) or a token lookup answer (`data`). */
export function leaseFrom(body: unknown, now: number): VaultLease | undefined {
  const answer = body as {
    auth?: { client_token?: string; lease_duration?: number; renewable?: boolean };
    data?: { id?: string; ttl?: number; renewable?: boolean };
  };
  if (answer?.auth?.client_token) {
    return {
      token: answer.auth.client_token,
      leaseSeconds: answer.auth.lease_duration ?? 0,
      renewable: answer.auth.renewable ?? false,
      obtainedAt: now,
    };
  }
  if (answer?.data?.id) {
    return {
      token: answer.data.id,
      leaseSeconds: answer.data.ttl ?? 0,
      renewable: answer.data.renewable ?? false,
      obtainedAt: now,
    };
  }
  return undefined;
}

export function vaultRenewal(transport: VaultTransport, now: () => number): VaultRenewal {
  return async (lease, signal) => {
    const answer = await transport.request('POST', 'auth/token/renew-self', {
      token: lease.token,
      body: {},
      signal,
    });
    if (answer.status !== 200) throw vaultStatusError(answer.status, 'a token renewal');
    return leaseFrom(answer.body, now()) ?? lease;
  };
}

/** The login the store declares. Credentials are read at each login, so a rotated Secret is picked up. */
export function vaultLogin(
  spec: VaultProviderSpec,
  scope: StoreScope,
  source: CredentialSource,
  transport: VaultTransport,
  now: () => number,
): VaultLogin {
  const { kubernetes, appRole, tokenSecretRef } = spec.auth;
  if (kubernetes) {
    const account = kubernetes.serviceAccountRef;
    const mount = mountPath(kubernetes.mountPath ?? defaults.vaultKubernetesMountPath);
    return async (signal) => {
      // Minted at each login and used once, right away.
      const jwt = await mintToken(
        source,
        scope,
        account,
        account.audience ?? defaultVaultAudience,
        `${authPath}.kubernetes.serviceAccountRef`,
        signal,
      );
      return login(transport, `auth/${mount}/login`, { role: kubernetes.role, jwt }, signal, now);
    };
  }
  if (appRole) {
    const mount = mountPath(appRole.mountPath ?? defaults.vaultAppRoleMountPath);
    return async (signal) => {
      const secretId = await readCredential(
        source,
        scope,
        appRole.secretIdRef,
        `${authPath}.appRole.secretIdRef`,
        signal,
      );
      return login(
        transport,
        `auth/${mount}/login`,
        { role_id: appRole.roleId, secret_id: secretId },
        signal,
        now,
      );
    };
  }
  const ref = tokenSecretRef!;
  return async (signal) => {
    const token = await readCredential(source, scope, ref, `${authPath}.tokenSecretRef`, signal);
    // The lookup tells how long the token lives and whether it can be renewed.
    const answer = await transport.request('GET', 'auth/token/lookup-self', { token, signal });
    const unknownLease = { token, leaseSeconds: 0, renewable: false, obtainedAt: now() };
    if (answer.status === 200) return leaseFrom(answer.body, now()) ?? unknownLease;
    // A token without the default policy may not look itself up; it is used as it is, and a read that Vault
    // refuses says whether it is any good.
    if (answer.status === 403) return unknownLease;
    throw vaultStatusError(answer.status, 'a token lookup');
  };
}

async function login(
  transport: VaultTransport,
  path: string,
  body: Record<string, string>,
  signal: AbortSignal,
  now: () => number,
): Promise<VaultLease> {
  const answer = await transport.request('POST', path, { body, signal });
  if (answer.status !== 200) {
    if (answer.status === 400 || answer.status === 403) {
      throw new AccessDenied(`Vault refused the login at ${path} (HTTP ${answer.status})`, {
        provider: 'vault',
        httpStatus: answer.status,
      });
    }
    throw vaultStatusError(answer.status, `a login at ${path}`);
  }
  const lease = leaseFrom(answer.body, now());
  if (!lease)
    throw new AccessDenied(`Vault's answer to the login at ${path} held no token`, { provider: 'vault' });
  return lease;
}

/** A mount path as a URL path: each segment encoded, no leading or trailing slash. */
export function mountPath(path: string): string {
  return path
    .split('/')
    .filter((segment) => segment !== '')
    .map(encodeURIComponent)
    .join('/');
}
