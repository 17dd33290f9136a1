import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HashChainedFileSink } from './file-sink.ts';

const exec = promisify(execFile);
const cli = path.join(import.meta.dirname, 'verify-cli.ts');

let dir: string;
let file: string;

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'secretlink-verify-'));
  file = path.join(dir, 'audit.jsonl');
  const sink = await HashChainedFileSink.open(file);
  for (const name of ['load-1', 'load-2', 'load-3']) {
    await sink.write({
      time: '2025-01-01T00:00:00.000Z',
      action: 'Revoked',
      reference: { namespace: 'etl', name: 'warehouse' },
      remotes: [],
      targetSecret: { namespace: 'etl', name: 'warehouse-credentials' },
      job: { namespace: 'etl', name, uid: name },
      reason: 'JobEnded',
      message: `Job ${name} no longer has access to Secret warehouse-credentials (JobEnded).`,
    });
  }
  await sink.close();
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function run(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return exec(process.execPath, [cli, ...args]).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (error: { code: number; stdout: string; stderr: string }) => error,
  );
}

describe('the verify command', () => {
  it('prints OK with the record count and exits 0 for an intact file', async () => {
    const { code, stdout } = await run(file);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^OK .*: 3 records, chain head seq 3 [0-9a-f]{64}\n$/);
  });

  it('names the first broken record and exits 1 when a record was edited', async () => {
    const text = await readFile(file, 'utf8');
    await writeFile(file, text.replace('Job load-2 no longer', 'Job load-9 no longer'));
    const { code, stdout } = await run(file);
    expect(code).toBe(1);
    expect(stdout).toContain('at line 2 (seq 2): edited: hash mismatch');
    expect(stdout).toContain('1 record before it intact');
  });

  it('exits 2 with a usage line when no file is given', async () => {
    const { code, stderr } = await run();
    expect(code).toBe(2);
    expect(stderr).toContain('usage: node src/audit/verify-cli.ts <audit file>');
  });
});
