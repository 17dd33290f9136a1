// Attacks on the audit file by someone who can write the audit volume but does not hold the signing key.
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Anchor, AnchorStore } from './anchors.ts';
import { HashChainedFileSink } from './file-sink.ts';
import type { AuditRecord } from './types.ts';
import { verifyAuditFile } from './verify.ts';

function record(n: number): AuditRecord {
  return {
    id: `record-${n}`,
    time: new Date(Date.UTC(2025, 0, 1, 0, 0, n)).toISOString(),
    action: 'Materialized',
    reference: { namespace: 'etl', name: 'warehouse', uid: 'ref-uid' },
    remotes: [{ name: 'warehouse/loader', version: `v${n}` }],
    targetSecret: { namespace: 'etl', name: 'warehouse-credentials' },
    job: { namespace: 'etl', name: `load-${n}`, uid: `job-${n}` },
    reason: 'JobJoined',
    message: `Secret warehouse-credentials made available to Job load-${n}.`,
  };
}

/** Anchors kept in memory, as the Lease and Events keep them in a cluster. */
class MemoryAnchors implements AnchorStore {
  anchors: Anchor[] = [];
  async latest(): Promise<Anchor | undefined> {
    return this.anchors.at(-1);
  }
  async record(anchor: Anchor): Promise<void> {
    this.anchors.push(anchor);
  }
}

const operatorKey = generateKeyPairSync('ed25519');
const attackerKey = generateKeyPairSync('ed25519');

let dir: string;
let file: string;
let anchors: MemoryAnchors;

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'secretlink-signed-'));
  file = path.join(dir, 'audit.jsonl');
  anchors = new MemoryAnchors();
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function open(signingKey: KeyObject = operatorKey.privateKey, store: AnchorStore = anchors) {
  return HashChainedFileSink.open(file, { signingKey, chain: 'secretlink-operator-0', anchors: store });
}

async function writeRecords(count: number, from = 1, signingKey?: KeyObject): Promise<void> {
  const sink = await open(signingKey);
  for (let n = from; n < from + count; n++) await sink.write(record(n));
  await sink.close();
}

async function fileLines(): Promise<string[]> {
  return (await readFile(file, 'utf8')).split('\n').slice(0, -1);
}

const withOperatorKey = () => ({ publicKey: operatorKey.publicKey, anchors: anchors.anchors });

describe('attacks on the signed audit chain', () => {
  it('a cut tail is reported as truncated against the last anchor', async () => {
    await writeRecords(5);
    const lines = await fileLines();
    await writeFile(file, `${lines.slice(0, -2).join('\n')}\n`);
    const result = await verifyAuditFile(file, withOperatorKey());
    expect(result).toMatchObject({ ok: false, problem: { kind: 'truncated' } });
  });

  it('a wholly forged file, chained and signed with another key, fails the signature check', async () => {
    await writeRecords(3);
    const real = await fileLines();
    await unlink(file);
    await writeRecords(3, 1, attackerKey.privateKey);
    const forged = await fileLines();
    expect(forged).not.toEqual(real);
    const result = await verifyAuditFile(file, { publicKey: operatorKey.publicKey, anchors: [] });
    expect(result).toMatchObject({ ok: false, problem: { line: 1, kind: 'forged' } });
  });

  it('a record edited by someone without the key fails its signature', async () => {
    await writeRecords(4);
    const lines = await fileLines();
    lines[2] = lines[2]!.replace('"load-2"', '"load-X"');
    await writeFile(file, `${lines.join('\n')}\n`);
    const result = await verifyAuditFile(file, withOperatorKey());
    expect(result).toMatchObject({ ok: false, problem: { line: 3, kind: 'forged' } });
  });

  it('a restart after a cut tail does not continue the chain: the file is kept aside and a genesis record says why', async () => {
    await writeRecords(5);
    const lines = await fileLines();
    await writeFile(file, `${lines.slice(0, -2).join('\n')}\n`);
    await writeRecords(1, 6);
    const restarted = (await fileLines()).map((line) => JSON.parse(line));
    expect(restarted[0]).toMatchObject({
      seq: 1,
      genesis: { reason: 'previous-broken', previous: { seq: 6 } },
    });
    expect(restarted[0].genesis.detail).toContain('truncated');
    const aside = (await readdir(dir)).find((name) => name.startsWith('audit.jsonl.broken-'));
    expect(aside).toBeDefined();
    // The new file verifies against the anchor taken after it started; the old one is kept for a person.
    const latest = anchors.anchors.at(-1)!;
    expect(
      await verifyAuditFile(file, { publicKey: operatorKey.publicKey, anchors: [latest] }),
    ).toMatchObject({ ok: true, records: 2 });
  });

  it('a deleted file restarts with a genesis record that names the last anchored head', async () => {
    await writeRecords(3);
    const last = anchors.anchors.at(-1)!;
    await unlink(file);
    await writeRecords(1, 4);
    const [genesis, next] = (await fileLines()).map((line) => JSON.parse(line));
    expect(genesis).toMatchObject({
      seq: 1,
      genesis: { reason: 'previous-missing', previous: { seq: last.seq, head: last.head } },
    });
    expect(next).toMatchObject({ seq: 2, job: { name: 'load-4' } });
  });

  it('a deleted file is reported by verify against the anchor of the old file', async () => {
    await writeRecords(3);
    const old = anchors.anchors.at(-1)!;
    await unlink(file);
    await writeRecords(5, 4);
    const result = await verifyAuditFile(file, { publicKey: operatorKey.publicKey, anchors: [old] });
    expect(result).toMatchObject({ ok: false, problem: { kind: 'anchor-mismatch' } });
  });

  it('a restart continues the chain with signatures, without a second genesis record', async () => {
    await writeRecords(2);
    await writeRecords(2, 3);
    const lines = (await fileLines()).map((line) => JSON.parse(line));
    expect(lines.map((line) => line.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(lines.filter((line) => line.genesis)).toHaveLength(1);
    expect(lines[0].genesis).toMatchObject({ reason: 'new-file' });
    for (const line of lines) expect(line.sig).toMatch(/^[A-Za-z0-9+/]+=*$/);
    const last = anchors.anchors.at(-1)!;
    expect(last).toMatchObject({ chain: 'secretlink-operator-0', seq: 5 });
    expect(await verifyAuditFile(file, withOperatorKey())).toMatchObject({
      ok: true,
      records: 5,
      head: { seq: 5, lineHash: last.head },
    });
  });
});
