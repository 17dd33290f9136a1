// When a Vault token is renewed, when a fresh login replaces it, and that concurrent callers share one login.
import { describe, expect, it } from 'vitest';
import { AccessDenied } from '../errors.ts';
import { silentLogger } from '../logger.ts';
import { leaseFrom, type VaultLease, VaultTokens } from './auth.ts';

function harness({ leaseSeconds = 60, renewable = true, renewFails = false, renewCap = Infinity } = {}) {
  let now = 0;
  const calls: string[] = [];
  let issued = 0;
  const tokens = new VaultTokens({
    timeoutMs: 1_000,
    now: () => now,
    logger: silentLogger,
    login: async () => {
      calls.push('login');
      issued += 1;
      return { token: `token-${issued}`, leaseSeconds, renewable, obtainedAt: now };
    },
    renew: async (lease: VaultLease) => {
      calls.push('renew');
      if (renewFails) throw new AccessDenied('renewal refused');
      return { ...lease, leaseSeconds: Math.min(leaseSeconds, renewCap), obtainedAt: now };
    },
  });
  const signal = new AbortController().signal;
  return { tokens, calls, signal, advance: (seconds: number) => (now += seconds * 1000) };
}

describe('VaultTokens', () => {
  it('logs in once and reuses the token while most of its lease remains', async () => {
    const { tokens, calls, signal, advance } = harness();
    expect(await tokens.token(signal)).toBe('token-1');
    advance(39);
    expect(await tokens.token(signal)).toBe('token-1');
    expect(calls).toEqual(['login']);
  });

  it('renews a renewable token after two thirds of its lease', async () => {
    const { tokens, calls, signal, advance } = harness();
    await tokens.token(signal);
    advance(41);
    expect(await tokens.token(signal)).toBe('token-1');
    expect(calls).toEqual(['login', 'renew']);
  });

  it('logs in again when renewal fails', async () => {
    const { tokens, calls, signal, advance } = harness({ renewFails: true });
    await tokens.token(signal);
    advance(41);
    expect(await tokens.token(signal)).toBe('token-2');
    expect(calls).toEqual(['login', 'renew', 'login']);
  });

  it('logs in again when the token cannot be renewed or has expired', async () => {
    const fixed = harness({ renewable: false });
    await fixed.tokens.token(fixed.signal);
    fixed.advance(41);
    expect(await fixed.tokens.token(fixed.signal)).toBe('token-2');

    const expired = harness();
    await expired.tokens.token(expired.signal);
    expired.advance(61);
    expect(await expired.tokens.token(expired.signal)).toBe('token-2');
    expect(expired.calls).toEqual(['login', 'login']);
  });

  it('stops renewing once the lease shrinks at its max TTL, and logs in instead', async () => {
    const { tokens, calls, signal, advance } = harness({ renewCap: 30 });
    await tokens.token(signal);
    advance(41);
    await tokens.token(signal);
    advance(21);
    expect(await tokens.token(signal)).toBe('token-2');
    expect(calls).toEqual(['login', 'renew', 'login']);
  });

  it('replaces a token Vault refused and says whether the new one differs', async () => {
    const { tokens, calls, signal } = harness();
    await tokens.token(signal);
    expect(await tokens.replace('token-1', signal)).toBe(true);
    expect(await tokens.token(signal)).toBe('token-2');
    expect(calls).toEqual(['login', 'login']);
  });

  it('shares one login among concurrent callers', async () => {
    const { tokens, calls, signal } = harness();
    const all = await Promise.all(Array.from({ length: 20 }, () => tokens.token(signal)));
    expect(new Set(all)).toEqual(new Set(['token-1']));
    expect(calls).toEqual(['login']);
  });

  it('keeps a token that never expires without renewing it', async () => {
    const { tokens, calls, signal, advance } = harness({ leaseSeconds: 0 });
    await tokens.token(signal);
    advance(1_000_000);
    await tokens.token(signal);
    expect(calls).toEqual(['login']);
  });
});

describe('leaseFrom', () => {
  it('reads a login answer and a token lookup answer', () => {
    expect(leaseFrom({ auth: { client_token: 't', lease_duration: 30, renewable: true } }, 5)).toEqual({
      token: 't',
      leaseSeconds: 30,
      renewable: true,
      obtainedAt: 5,
    });
    expect(leaseFrom({ data: { id: 't', ttl: 0, renewable: false } }, 5)).toMatchObject({
      token: 't',
      leaseSeconds: 0,
    });
    expect(leaseFrom({ errors: ['permission denied'] }, 5)).toBeUndefined();
  });
});
