// The leader's trail: the signed file first, then every other sink, each record once.
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HashChainedFileSink } from './file-sink.ts';
import { AuditUnavailableError, LeaderAuditTrail } from './leader-trail.ts';
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

async function trail(now: () => number = Date.now) {
  const delivered: { id: string; position?: ChainPosition }[] = [];
  const chainErrors: unknown[] = [];
  const availability: boolean[] = [];
  const leader = new LeaderAuditTrail(
    { name: 'others', write: async (r, position) => void delivered.push({ id: r.id, position }) },
    {
      onChainError: (error) => void chainErrors.push(error),
      onAvailability: (error) => void availability.push(error === undefined),
    },
    now,
  );
  const chain = await HashChainedFileSink.open(path.join(dir, 'audit.jsonl'), {
    signingKey: keys.privateKey,
    chain: 'replica-0',
    anchors: { latest: async () => undefined, record: async () => undefined },
  });
  leader.attach(chain);
  return { leader, chain, delivered, chainErrors, availability };
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

  it('fails the write, sends it nowhere and refuses grants while the file cannot take records', async () => {
    const { leader, chain, delivered, chainErrors, availability } = await trail();
    const append = chain.append.bind(chain);
    chain.append = () => Promise.reject(new Error('no space left on device'));
    await expect(leader.write(record)).rejects.toThrow(AuditUnavailableError);
    expect(delivered).toEqual([]);
    expect(leader.available()).toBe(false);
    expect(availability).toEqual([false]);
    // Not broken: the process goes on (revoking), and nothing asks for a stop.
    expect(chainErrors).toEqual([]);

    chain.append = append;
    await leader.write(record);
    expect(leader.available()).toBe(true);
    expect(availability).toEqual([false, true]);
    expect(delivered.map((d) => d.id)).toEqual([record.id]);
    await leader.detach();
  });

  it('probes the volume at most once a second while unavailable, and grants again once it takes data', async () => {
    let clock = 1_000_000;
    const { leader, chain } = await trail(() => clock);
    chain.append = () => Promise.reject(new Error('read-only file system'));
    await expect(leader.write(record)).rejects.toThrow(AuditUnavailableError);
    let probes = 0;
    let room = false;
    chain.probe = async () => {
      probes++;
      return room;
    };
    expect(await leader.admitsGrants()).toBe(false);
    expect(await leader.admitsGrants()).toBe(false);
    expect(probes).toBe(1);
    room = true;
    expect(await leader.admitsGrants()).toBe(false);
    clock += 1_000;
    expect(await leader.admitsGrants()).toBe(true);
    expect(leader.available()).toBe(true);
    expect(probes).toBe(2);
    await leader.detach();
  });

  it('refuses a grant before any write when the volume is nearly full, and grants once it has room', async () => {
    let clock = 1_000_000;
    const { leader, chain, availability } = await trail(() => clock);
    let room = false;
    chain.hasRoom = async () => room;
    expect(await leader.admitsGrants()).toBe(false);
    expect(leader.available()).toBe(false);
    expect(availability).toEqual([false]);
    room = true;
    clock += 1_000;
    expect(await leader.admitsGrants()).toBe(true);
    expect(availability).toEqual([false, true]);
    await leader.detach();
  });

  it('grants only after a write reached the volume less than a second ago, and probes it otherwise', async () => {
    let clock = 1_000_000;
    const { leader, chain, availability } = await trail(() => clock);
    let probes = 0;
    let writable = true;
    chain.probe = async () => {
      probes++;
      return writable;
    };
    // Nothing written yet in this leadership: the first grant waits for a probe.
    expect(await leader.admitsGrants()).toBe(true);
    expect(probes).toBe(1);
    await leader.write(record);
    clock += 999;
    expect(await leader.admitsGrants()).toBe(true);
    expect(probes).toBe(1);

    // The volume turns read-only while it still has room: the next grant a second later finds out first.
    writable = false;
    clock += 1;
    expect(await leader.admitsGrants()).toBe(false);
    expect(probes).toBe(2);
    expect(leader.available()).toBe(false);
    expect(availability).toEqual([false]);
    await leader.detach();
  });

  it('shares one probe among the grants that ask while it runs', async () => {
    const { leader, chain } = await trail();
    let probes = 0;
    let finish: (writable: boolean) => void = () => undefined;
    chain.hasRoom = async () => true;
    chain.probe = () => {
      probes++;
      return new Promise<boolean>((resolve) => {
        finish = resolve;
      });
    };
    const asked = [leader.admitsGrants(), leader.admitsGrants(), leader.admitsGrants()];
    await new Promise((resolve) => setImmediate(resolve));
    finish(true);
    expect(await Promise.all(asked)).toEqual([true, true, true]);
    expect(probes).toBe(1);
    await leader.detach();
  });

  it('reports a file it cannot continue (a line it could not cut back) as a chain error', async () => {
    const { leader, chain, chainErrors } = await trail();
    chain.append = () => Promise.reject(new Error('input/output error'));
    chain.state = () => 'broken';
    await expect(leader.write(record)).rejects.toThrow(/input\/output/);
    expect(chainErrors).toHaveLength(1);
    expect(await leader.admitsGrants()).toBe(false);
  });
});
