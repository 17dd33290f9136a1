// The leader's trail: the signed file first, then every other sink, each record once.
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HashChainedFileSink } from './file-sink.ts';
import { LeaderAuditTrail } from './leader-trail.ts';
import type { AuditRecord, ChainPosition } from './types.ts';

const keys = generateKeyPairSync('ed25519');
let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'secretlink-trail-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const record: AuditRecord = {
  id: 'a'.repeat(32),
  time: '2026-11-30T12:00:00.000Z',
  action: 'Materialized',
  reference: { namespace: 'etl', name: 'warehouse', uid: 'uid-warehouse' },
  remotes: [{ name: 'warehouse', version: 'v1' }],
  targetSecret: { namespace: 'etl', name: 'warehouse', uid: 'uid-secret' },
  job: { namespace: 'etl', name: 'dbt', uid: 'uid-dbt' },
  reason: 'SecretCreated',
  message: 'Secret warehouse made available to Job dbt.',
};

async function trail() {
  const delivered: { id: string; position?: ChainPosition }[] = [];
  const chainErrors: unknown[] = [];
  const leader = new LeaderAuditTrail(
    { name: 'others', write: async (r, position) => void delivered.push({ id: r.id, position }) },
    (error) => chainErrors.push(error),
  );
  const chain = await HashChainedFileSink.open(path.join(dir, 'audit.jsonl'), {
    signingKey: keys.privateKey,
    chain: 'replica-0',
    anchors: { latest: async () => undefined, record: async () => undefined },
  });
  leader.attach(chain);
  return { leader, chain, delivered, chainErrors };
}

describe('the leader audit trail', () => {
  it('sends a record to the other sinks with its place in the file, and a repeat of it nowhere', async () => {
    const { leader, delivered } = await trail();
    await leader.write(record);
    await leader.write(record);
    await leader.detach();
    expect(delivered).toEqual([
      { id: record.id, position: { chain: 'replica-0', seq: 2, head: expect.any(String) } },
    ]);
  });

  it('fails the write, and sends it nowhere, when the file cannot take the record', async () => {
    const { leader, chain, delivered, chainErrors } = await trail();
    chain.append = () => Promise.reject(new Error('no space left on device'));
    await expect(leader.write(record)).rejects.toThrow(/no space left/);
    expect(delivered).toEqual([]);
    expect(chainErrors).toHaveLength(1);
  });
});
