import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HashChainedFileSink } from './file-sink.ts';
import type { AuditRecord } from './types.ts';
import { verifyAuditFile } from './verify.ts';

function record(n: number): AuditRecord {
  return {
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
  const sink = await HashChainedFileSink.open(file);
  for (let n = from; n < from + count; n++) await sink.write(record(n));
  await sink.close();
}

async function fileLines(): Promise<string[]> {
  return (await readFile(file, 'utf8')).split('\n').slice(0, -1);
}

async function rewrite(lines: string[]): Promise<void> {
  await writeFile(file, `${lines.join('\n')}\n`);
}

describe('the hash-chained audit file', () => {
  it('writes one JSON line per record with seq, prev and hash, readable by the owner only', async () => {
    await writeRecords(3);
    const lines = (await fileLines()).map((line) => JSON.parse(line));
    expect(lines.map((line) => line.seq)).toEqual([1, 2, 3]);
    expect(lines[1]).toMatchObject({
      action: 'Materialized',
      job: { name: 'load-2' },
      remotes: [{ version: 'v2' }],
    });
    for (const line of lines) {
      expect(line.prev).toMatch(/^[0-9a-f]{64}$/);
      expect(line.hash).toMatch(/^[0-9a-f]{64}$/);
    }
    expect((await stat(file)).mode & 0o777).toBe(0o600);
  });

  it('verifies an untouched file and reports its record count', async () => {
    await writeRecords(5);
    expect(await verifyAuditFile(file)).toMatchObject({ ok: true, records: 5, head: { seq: 5 } });
  });

  it('verifies an empty file as zero records', async () => {
    await (await HashChainedFileSink.open(file)).close();
    expect(await verifyAuditFile(file)).toEqual({ ok: true, records: 0 });
  });

  it('detects an edited record at its own line', async () => {
    await writeRecords(5);
    const lines = await fileLines();
    lines[2] = lines[2]!.replace('"load-3"', '"load-X"');
    await rewrite(lines);
    expect(await verifyAuditFile(file)).toMatchObject({
      ok: false,
      records: 2,
      problem: { line: 3, seq: 3, kind: 'edited' },
    });
  });

  it('detects an edited record whose hash was recomputed, at the record after it', async () => {
    await writeRecords(5);
    const lines = await fileLines();
    // Rebuild line 3 with different content and a correct hash of its own.
    const { createHash } = await import('node:crypto');
    const body = lines[2]!.replace('"load-3"', '"load-X"').replace(/,"hash":"[0-9a-f]{64}"\}$/, '}');
    lines[2] = `${body.slice(0, -1)},"hash":"${createHash('sha256').update(body).digest('hex')}"}`;
    await rewrite(lines);
    expect(await verifyAuditFile(file)).toMatchObject({
      ok: false,
      records: 3,
      problem: { line: 4, seq: 4, kind: 'chain-broken' },
    });
  });

  it('detects a removed record at the line where it is missing', async () => {
    await writeRecords(5);
    const lines = await fileLines();
    lines.splice(1, 1);
    await rewrite(lines);
    const result = await verifyAuditFile(file);
    expect(result).toMatchObject({ ok: false, records: 1, problem: { line: 2, seq: 3, kind: 'removed' } });
    expect(result.ok === false && result.problem.detail).toContain('seq 2 was removed');
  });

  it('detects two reordered records at the first of them', async () => {
    await writeRecords(5);
    const lines = await fileLines();
    [lines[2], lines[3]] = [lines[3]!, lines[2]!];
    await rewrite(lines);
    expect(await verifyAuditFile(file)).toMatchObject({
      ok: false,
      records: 2,
      problem: { line: 3, seq: 4, kind: 'reordered' },
    });
  });

  it('continues the chain across a restart of the sink', async () => {
    await writeRecords(3);
    await writeRecords(2, 4);
    const lines = (await fileLines()).map((line) => JSON.parse(line));
    expect(lines.map((line) => line.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(await verifyAuditFile(file)).toMatchObject({ ok: true, records: 5 });
  });

  it('keeps the chain intact under concurrent writes', async () => {
    const sink = await HashChainedFileSink.open(file);
    await Promise.all(Array.from({ length: 40 }, (_, n) => sink.write(record(n + 1))));
    expect(sink.chainHead().seq).toBe(40);
    await sink.close();
    expect(await verifyAuditFile(file)).toMatchObject({ ok: true, records: 40 });
  });

  it('refuses to continue a file that ends with an interrupted write, and verify reports it', async () => {
    await writeRecords(2);
    const text = await readFile(file, 'utf8');
    await writeFile(file, `${text}{"seq":3,"prev":"ab`);
    await expect(HashChainedFileSink.open(file)).rejects.toThrow(/ends with an incomplete record/);
    expect(await verifyAuditFile(file)).toMatchObject({
      ok: false,
      records: 2,
      problem: { line: 3, kind: 'incomplete' },
    });
  });

  it('reports a line that is not an audit record as malformed', async () => {
    await writeRecords(3);
    const lines = await fileLines();
    lines.splice(1, 0, 'not json');
    await rewrite(lines);
    expect(await verifyAuditFile(file)).toMatchObject({
      ok: false,
      records: 1,
      problem: { line: 2, kind: 'malformed' },
    });
  });
});
