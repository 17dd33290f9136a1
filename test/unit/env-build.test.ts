// The environment's binary cache: supplied binaries win, a damaged cache entry is detected, and a missing
// Go toolchain fails with a message that says what to do.
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ComponentUnavailableError, cacheEntryIsIntact, ensureComponent } from '../env/build.ts';
import { etcd, kwok } from '../env/components.ts';
import type { Progress } from '../env/progress.ts';

const notes: string[] = [];
const progress: Progress = { step: (m) => notes.push(m), note: (m) => notes.push(m) };
let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'secretlink-build-test-'));
  notes.length = 0;
});
afterEach(async () => {
  vi.unstubAllEnvs();
  await rm(dir, { recursive: true, force: true });
});

async function cacheEntry(content: string, recordedSha256: string) {
  const entry = path.join(dir, 'kwok-entry');
  await mkdir(entry);
  await writeFile(path.join(entry, 'kwok'), content);
  await writeFile(path.join(entry, 'manifest.json'), JSON.stringify({ sha256: { kwok: recordedSha256 } }));
  return entry;
}

// sha256 of the text "binary"
const sha256OfBinary = '9a3a45d01531a20e89ac6ae10b0b0beb0492acd7216a368aa062d1a5fecaf9cd';

describe('component cache', () => {
  it('accepts an entry whose binaries match their manifest', async () => {
    const entry = await cacheEntry('binary', sha256OfBinary);
    expect(await cacheEntryIsIntact(entry, kwok, progress)).toBe(true);
  });

  it('detects a binary changed since it was built, and removes the entry so it is rebuilt', async () => {
    const entry = await cacheEntry('truncated', sha256OfBinary);
    expect(await cacheEntryIsIntact(entry, kwok, progress)).toBe(false);
    expect(await readdir(dir)).not.toContain('kwok-entry');
    expect(notes.join('\n')).toMatch(/stale or broken/);
  });

  it('treats an entry without a manifest (an interrupted build) as broken', async () => {
    const entry = path.join(dir, 'half-built');
    await mkdir(entry);
    await writeFile(path.join(entry, 'kwok'), 'binary');
    expect(await cacheEntryIsIntact(entry, kwok, progress)).toBe(false);
  });

  it('uses binaries from KUBEBUILDER_ASSETS without building anything', async () => {
    await writeFile(path.join(dir, 'etcd'), 'supplied');
    vi.stubEnv('KUBEBUILDER_ASSETS', dir);
    expect(await ensureComponent(etcd, progress)).toEqual({ etcd: path.join(dir, 'etcd') });
    expect(notes).toEqual([]);
  });

  it('names the component, and how to supply binaries, when Go is missing', async () => {
    vi.stubEnv('SECRETLINK_CACHE_DIR', dir);
    vi.stubEnv('PATH', dir);
    const failure = ensureComponent(kwok, progress);
    await expect(failure).rejects.toBeInstanceOf(ComponentUnavailableError);
    await expect(failure).rejects.toThrow(/kwok v0\.8\.0: Go is not installed[\s\S]*set SECRETLINK_KWOK_DIR/);
  });
});
