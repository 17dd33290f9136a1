// What the operator asks Vault when it issues a credential held in increments, and what a renewal answer means:
// the lease renewed at issue to the increment (not the bound), renewable up to the bound; a renewal Vault
// answers 400 for is a lapsed lease (NotFound), anything else an error to retry.
import { describe, expect, it } from 'vitest';
import { NotFound, Unavailable } from '../errors.ts';
import type { VaultTokens } from './auth.ts';
import type { VaultResponse, VaultTransport } from './http.ts';
import { VaultLeases } from './leases.ts';

const now = Date.parse('2026-12-01T12:00:00Z');

/** A Vault stand-in: the role's lease lasts 20 s; a renewal grants what is asked, or answers `renewal`. */
function vault(renewal?: VaultResponse) {
  const calls: { path: string; body: unknown }[] = [];
  const transport = {
    request: async (_method: string, path: string, options: { body?: unknown }) => {
      calls.push({ path, body: options.body });
      if (path === 'auth/token/create-orphan') {
        return { status: 200, body: { auth: { client_token: 'child-token', accessor: 'accessor-1' } } };
      }
      if (path === 'database/creds/elt-reader') {
        return {
          status: 200,
          body: {
            lease_id: 'database/creds/elt-reader/lease-1',
            lease_duration: 20,
            renewable: true,
            data: { username: 'v-user', password: 'pw' },
          },
        };
      }
      if (path === 'sys/leases/renew') {
        const increment = (options.body as { increment: number }).increment;
        return renewal ?? { status: 200, body: { lease_duration: increment } };
      }
      return { status: 204, body: undefined };
    },
  } as unknown as VaultTransport;
  const tokens = {
    token: async () => 'operator-token',
    replace: async () => false,
  } as unknown as VaultTokens;
  return { leases: new VaultLeases(transport, tokens, () => now), calls };
}

const request = {
  source: { kind: 'database' as const, mount: 'database', role: 'elt-reader' },
  maxSeconds: 600,
  holder: { namespace: 'etl', reference: 'warehouse' },
};

describe('Vault leases held in increments', () => {
  it('renews at issue to the increment, and is renewable up to the bound its token caps', async () => {
    const { leases, calls } = vault();
    const issued = await leases.issue({ ...request, incrementSeconds: 15 });
    expect(calls.find((c) => c.path === 'sys/leases/renew')?.body).toMatchObject({ increment: 15 });
    expect(calls.find((c) => c.path === 'auth/token/create-orphan')?.body).toMatchObject({
      explicit_max_ttl: '600s',
    });
    expect(issued).toMatchObject({ heldUntil: now + 15_000, expiresAt: now + 600_000, renewed: true });
  });

  it('renews to the bound at issue without an increment, as before', async () => {
    const { leases, calls } = vault();
    const issued = await leases.issue(request);
    expect(calls.find((c) => c.path === 'sys/leases/renew')?.body).toMatchObject({ increment: 600 });
    expect(issued.heldUntil).toBeUndefined();
    expect(issued.expiresAt).toBe(now + 600_000);
  });

  it('returns the seconds Vault granted for a renewal', async () => {
    const { leases } = vault({ status: 200, body: { lease_duration: 9 } });
    await expect(leases.renew({ leaseId: 'l', tokenAccessor: 'a' }, 15)).resolves.toBe(9);
  });

  it('takes a 400 as a lease Vault no longer holds, and other failures as errors to retry', async () => {
    const lapsed = vault({ status: 400, body: { errors: ['lease not found'] } });
    await expect(lapsed.leases.renew({ leaseId: 'l', tokenAccessor: 'a' }, 15)).rejects.toBeInstanceOf(
      NotFound,
    );
    const down = vault({ status: 503, body: undefined });
    await expect(down.leases.renew({ leaseId: 'l', tokenAccessor: 'a' }, 15)).rejects.toBeInstanceOf(
      Unavailable,
    );
  });
});
