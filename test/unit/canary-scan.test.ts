import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { canaryForms, canaryFormsIn, scanForCanary } from '../env/evidence/scan.ts';

const canary = 'canary-3f9c1d2e7a6b5c4d3e2f1a0b9c8d7e6f';
const found = (content: string) => canaryFormsIn(content, canaryForms(canary));

describe('the canary scan', () => {
  it('finds the canary written plainly, inside JSON and escaped in a log line', () => {
    expect(found(`{"msg":"read","value":"${canary}"}`)).toContain('plain');
    expect(found(JSON.stringify({ err: `bad property in ${canary}` }))).toContain('plain');
  });

  it('finds the canary base64-encoded at any byte offset inside a longer value, as in Secret data', () => {
    for (const prefix of ['', 'a', 'ab', 'abc', '{"password":"']) {
      const encoded = Buffer.from(`${prefix}${canary}","more":1}`).toString('base64');
      expect(
        found(`data: ${encoded}`).some((form) => form.startsWith('base64')),
        prefix,
      ).toBe(true);
    }
  });

  it('finds the canary in base64url and hex', () => {
    const url = Buffer.from(`xy${canary}?`).toString('base64url');
    expect(found(url).length).toBeGreaterThan(0);
    expect(found(Buffer.from(canary).toString('hex'))).toContain('hex');
  });

  it('does not flag text without the canary, nor its name or a prefix of it', () => {
    expect(found('secretlink-canary Materialized hmac-sha256:0123abcd')).toEqual([]);
    expect(found(canary.slice(0, -1))).toEqual([]);
  });

  describe('over files', () => {
    let dir: string | undefined;
    afterEach(async () => {
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    it('reports which file holds which form, and how much it read', async () => {
      dir = await mkdtemp(path.join(os.tmpdir(), 'canary-scan-'));
      await writeFile(path.join(dir, 'clean.log'), 'nothing here\n');
      await writeFile(
        path.join(dir, 'leaky.jsonl'),
        `{"note":"${Buffer.from(canary).toString('base64')}"}\n`,
      );
      const report = await scanForCanary([dir, path.join(dir, 'missing')], canary);
      expect(report.files).toBe(2);
      expect(report.bytes).toBeGreaterThan(20);
      expect(report.hits).toEqual([{ file: path.join(dir, 'leaky.jsonl'), form: 'base64 at offset 0' }]);
    });
  });
});
