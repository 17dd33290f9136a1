import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HashChainedFileSink } from './file-sink.ts';
import type { AuditRecord } from './types.ts';
import { verifyAuditFile } from './verify.ts';

const keys = generateKeyPairSync('ed25519');
const noAnchors = { latest: async () => undefined, record: async () => undefined };
const openSink = () =>
  HashChainedFileSink.open(file, { signingKey: keys.privateKey, chain: 'replica-0', anchors: noAnchors });
const verify = () => verifyAuditFile(file, { publicKey: keys.publicKey });

function record(n: number): AuditRecord {
  return {
    id: `record-${n}`,
    time: new Date(Date.UTC(2025, 0, 1, 0, 0, n)).toISOString(),
    action: 'Materialized',
    reference: { namespace: 'etl', name: 'warehouse', uid: 'ref-uid' },
    store: { kind: 'SecretStore', name: 'aws', provider: 'aws' },
    remotes: [{ name: 'warehouse/loader', version: `v${n}` }],
    targetSecret: { namespace: 'etl', name: 'warehouse-credentials' },
    job: { namespace: 'etl', name: `load-${n}`, uid: `job-${n}` },
    reason: 'JobJoined',
    message: `Secret warehouse-credentials made available to Job load-${n}.`,
    fingerprint: `hmac-sha256:${'0'.repeat(63)}${n % 10}`,
  };
}

let dir: string;
let file: string;

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'secretlink-audit-'));
  file = path.join(dir, 'audit.jsonl');
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function writeRecords(count: number, from = 1): Promise<void> {
  const sink = await openSink();
  for (let n = from; n < from + count; n++) await sink.write(record(n));
  await sink.close();
}

async function fileLines(): Promise<string[]> {
  return (await readFile(file, 'utf8')).split('\n').slice(0, -1);
}

async function rewrite(lines: string[]): Promise<void> {
  await writeFile(file, `${lines.join('\n')}\n`);
}

describe('the signed, hash-chained audit file', () => {
  it('starts with a genesis record, then one JSON line per record with seq, prev and sig, readable by the owner only', async () => {
    await writeRecords(3);
    const lines = (await fileLines()).map((line) => JSON.parse(line));
    expect(lines.map((line) => line.seq)).toEqual([1, 2, 3, 4]);
    expect(lines[0]).toMatchObject({ genesis: { reason: 'new-file', chain: 'replica-0' } });
    expect(lines[2]).toMatchObject({
      action: 'Materialized',
      job: { name: 'load-2' },
      remotes: [{ version: 'v2' }],
    });
    for (const line of lines) {
      expect(line.prev).toMatch(/^[0-9a-f]{64}$/);
      expect(line.sig).toMatch(/^[A-Za-z0-9+/]{86}==$/);
    }
    expect((await stat(file)).mode & 0o777).toBe(0o600);
  });

  it('verifies an untouched file and reports its record count and genesis', async () => {
    await writeRecords(5);
    expect(await verify()).toMatchObject({
      ok: true,
      records: 6,
      head: { seq: 6 },
      genesis: { reason: 'new-file' },
    });
  });

  it('verifies a file with only its genesis record', async () => {
    await (await openSink()).close();
    expect(await verify()).toMatchObject({ ok: true, records: 1 });
  });

  it('reports a file that does not start with a genesis record', async () => {
    await writeRecords(3);
    await rewrite((await fileLines()).slice(1));
    expect(await verify()).toMatchObject({ ok: false, records: 0, problem: { line: 1, kind: 'no-genesis' } });
  });

  it('detects a removed record at the line where it is missing', async () => {
    await writeRecords(5);
    const lines = await fileLines();
    lines.splice(2, 1);
    await rewrite(lines);
    const result = await verify();
    expect(result).toMatchObject({ ok: false, records: 2, problem: { line: 3, seq: 4, kind: 'removed' } });
    expect(result.ok === false && result.problem.detail).toContain('seq 3 was removed');
  });

  it('detects two reordered records at the first of them', async () => {
    await writeRecords(5);
    const lines = await fileLines();
    [lines[3], lines[4]] = [lines[4]!, lines[3]!];
    await rewrite(lines);
    expect(await verify()).toMatchObject({
      ok: false,
      records: 3,
      problem: { line: 4, seq: 5, kind: 'reordered' },
    });
  });

  it('keeps the chain intact under concurrent writes', async () => {
    const sink = await openSink();
    await Promise.all(Array.from({ length: 40 }, (_, n) => sink.write(record(n + 1))));
    expect(sink.chainHead().seq).toBe(41);
    await sink.close();
    expect(await verify()).toMatchObject({ ok: true, records: 41 });
  });

  it('commits records that arrive together with one fsync, in the order they arrived, each on disk when it resolves', async () => {
    const sink = await openSink();
    const handle = (sink as unknown as { file: { sync(): Promise<void> } }).file;
    const sync = handle.sync.bind(handle);
    let syncs = 0;
    handle.sync = async () => {
      syncs++;
      await sync();
    };
    const seqs = await Promise.all(
      Array.from({ length: 30 }, async (_, n) => {
        const appended = await sink.append(record(n + 1));
        // Resolved only once on disk: the line is in the file already.
        expect(await readFile(file, 'utf8')).toContain(`"record-${n + 1}"`);
        return appended.seq;
      }),
    );
    expect(seqs).toEqual(Array.from({ length: 30 }, (_, n) => n + 2));
    // Appended while no commit was under way yet, all 30 share one write and one fsync.
    expect(syncs).toBe(1);
    await sink.close();
    const lines = (await fileLines()).map((line) => JSON.parse(line));
    expect(lines.slice(1).map((line) => line.id)).toEqual(seqs.map((_, n) => `record-${n + 1}`));
    expect(await verify()).toMatchObject({ ok: true, records: 31 });
  });

  it('fails every record of a commit whose write failed, and writes none of them again', async () => {
    const sink = await openSink();
    await sink.write(record(1));
    await (sink as unknown as { file: { close(): Promise<void> } }).file.close();
    const results = await Promise.allSettled([sink.write(record(2)), sink.write(record(3))]);
    expect(results.map((result) => result.status)).toEqual(['rejected', 'rejected']);
    await expect(sink.write(record(4))).rejects.toThrow(/not written to after an earlier failed write/);
    expect((await fileLines()).map((line) => JSON.parse(line).seq)).toEqual([1, 2]);
  });

  it('writes every record queued before close, and refuses records after it', async () => {
    const sink = await openSink();
    const queued = Array.from({ length: 5 }, (_, n) => sink.write(record(n + 1)));
    await sink.close();
    await Promise.all(queued);
    await expect(sink.write(record(6))).rejects.toThrow(/is closed/);
    expect(await verify()).toMatchObject({ ok: true, records: 6 });
  });

  it('moves a file that ends with an interrupted write aside and starts a new chain that says so', async () => {
    await writeRecords(2);
    const text = await readFile(file, 'utf8');
    await writeFile(file, `${text}{"seq":4,"prev":"ab`);
    expect(await verify()).toMatchObject({ ok: false, records: 3, problem: { line: 4, kind: 'incomplete' } });
    const sink = await openSink();
    await sink.close();
    expect(sink.started).toMatchObject({ reason: 'previous-broken' });
    expect(sink.started!.detail).toContain('incomplete');
    const aside = (await readdir(dir)).filter((name) => name.startsWith('audit.jsonl.broken-'));
    expect(aside).toHaveLength(1);
    expect(await readFile(path.join(dir, aside[0]!), 'utf8')).toBe(`${text}{"seq":4,"prev":"ab`);
    expect(await verify()).toMatchObject({ ok: true, records: 1, genesis: { reason: 'previous-broken' } });
  });

  it('reports a line that is not an audit record as malformed', async () => {
    await writeRecords(3);
    const lines = await fileLines();
    lines.splice(2, 0, 'not json');
    await rewrite(lines);
    expect(await verify()).toMatchObject({
      ok: false,
      records: 2,
      problem: { line: 3, kind: 'malformed' },
    });
  });

  it('appends each record once and stops after a failed write instead of retrying it', async () => {
    const sink = await openSink();
    await sink.write(record(1));
    // Closing the descriptor underneath makes the next write fail with an unknown outcome.
    await (sink as unknown as { file: { close(): Promise<void> } }).file.close();
    await expect(sink.write(record(2))).rejects.toThrow(/could not append audit record 3/);
    await expect(sink.write(record(3))).rejects.toThrow(/not written to after an earlier failed write/);
    const lines = (await fileLines()).map((line) => JSON.parse(line));
    expect(lines.map((line) => line.seq)).toEqual([1, 2]);
  });
});

describe('a record emitted again', () => {
  it('is appended once: a repeat of its id resolves with its earlier place and writes nothing', async () => {
    const sink = await openSink();
    const first = await sink.append(record(1));
    const repeat = await sink.append({ ...record(1), time: new Date(0).toISOString() });
    await sink.write(record(2));
    await sink.close();
    expect(first.repeated).toBeUndefined();
    expect(repeat).toEqual({ repeated: true, seq: first.seq });
    const lines = (await fileLines()).map((line) => JSON.parse(line));
    expect(lines.map((line) => line.id ?? 'genesis')).toEqual(['genesis', 'record-1', 'record-2']);
  });

  it('is appended once when both copies arrive in the same commit', async () => {
    const sink = await openSink();
    const [first, repeat] = await Promise.all([sink.append(record(1)), sink.append(record(1))]);
    await sink.close();
    expect(first).toMatchObject({ seq: 2 });
    expect(repeat).toEqual({ repeated: true, seq: 2 });
    expect(await verify()).toMatchObject({ ok: true, records: 2 });
  });

  it('is appended once across a restart: the ids already in the file are read when it is opened', async () => {
    await writeRecords(3);
    const sink = await openSink();
    expect(await sink.append(record(2))).toMatchObject({ repeated: true, seq: 3 });
    expect(await sink.append(record(4))).toMatchObject({ seq: 5 });
    await sink.close();
    expect(await verify()).toMatchObject({ ok: true, records: 5 });
  });

  it('is appended again once it is older than the ids the sink remembers', async () => {
    const sink = await HashChainedFileSink.open(file, {
      signingKey: keys.privateKey,
      chain: 'replica-0',
      anchors: noAnchors,
      recentIds: 2,
    });
    for (const n of [1, 2, 3]) await sink.write(record(n));
    expect(await sink.append(record(3))).toMatchObject({ repeated: true });
    expect((await sink.append(record(1))).repeated).toBeUndefined();
    await sink.close();
  });
});
