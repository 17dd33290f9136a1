import { execFile } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Anchor } from './anchors.ts';
import { HashChainedFileSink } from './file-sink.ts';

const exec = promisify(execFile);
const cli = path.join(import.meta.dirname, 'verify-cli.ts');
const keys = generateKeyPairSync('ed25519');

let dir: string;
let file: string;
let publicKeyFile: string;
let anchors: Anchor[];

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'secretlink-verify-'));
  file = path.join(dir, 'audit.jsonl');
  publicKeyFile = path.join(dir, 'audit-public-key.pem');
  await writeFile(publicKeyFile, keys.publicKey.export({ type: 'spki', format: 'pem' }));
  anchors = [];
  const sink = await HashChainedFileSink.open(file, {
    signingKey: keys.privateKey,
    chain: 'secretlink-operator-0',
    anchors: { latest: async () => anchors.at(-1), record: async (anchor) => void anchors.push(anchor) },
  });
  for (const name of ['load-1', 'load-2', 'load-3']) {
    await sink.write({
      id: `revoked-${name}`,
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

const anchorFlag = (anchor: Anchor) => `--anchor=${anchor.seq}:${anchor.head}`;

describe('the verify command', () => {
  it('prints OK with the record count, the chain head and how the chain started, and exits 0', async () => {
    const { code, stdout } = await run(`--public-key=${publicKeyFile}`, anchorFlag(anchors.at(-1)!), file);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^OK .*: 4 records, chain head 4:[0-9a-f]{64}; chain started: new-file /);
    expect(stdout).toContain(`4:${anchors.at(-1)!.head}`);
  });

  it('names the first forged record and exits 1 when a record was edited', async () => {
    const text = await readFile(file, 'utf8');
    await writeFile(file, text.replace('Job load-2 no longer', 'Job load-9 no longer'));
    const { code, stdout } = await run(`--public-key=${publicKeyFile}`, file);
    expect(code).toBe(1);
    expect(stdout).toContain('at line 3 (seq 3): forged: the signature does not verify');
    expect(stdout).toContain('2 records before it intact');
  });

  it('reports a file cut short before the anchor it is given, and exits 1', async () => {
    const lines = (await readFile(file, 'utf8')).split('\n');
    await writeFile(file, `${lines.slice(0, 2).join('\n')}\n`);
    const { code, stdout } = await run(`--public-key=${publicKeyFile}`, anchorFlag(anchors.at(-1)!), file);
    expect(code).toBe(1);
    expect(stdout).toContain('truncated: the file ends at seq 2, but an anchor records seq 4');
  });

  it('exits 2 with a usage line without a public key or a file', async () => {
    for (const args of [[], [file], [`--public-key=${publicKeyFile}`]]) {
      const { code, stderr } = await run(...args);
      expect(code).toBe(2);
      expect(stderr).toContain('usage: node src/audit/verify-cli.ts --public-key=<pem file>');
    }
  });
});
