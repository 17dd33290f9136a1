// AWS Secrets Manager for the tests: moto in server mode, installed with pip into a virtualenv in the build
// cache. The virtualenv is reused while its manifest matches the pinned requirements and moto still imports.
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { lastLines, runCommand as run } from '../command.ts';
import { componentsDir } from '../components.ts';
import { cacheRoot } from '../paths.ts';
import { freePort } from '../ports.ts';
import { type ProcessSupervisor, waitUntil } from '../processes.ts';
import { formatDuration, type Progress } from '../progress.ts';
import { externalStoreVariables } from './coordinates.ts';

export const motoVersion = '5.2.5';
const requirementsFile = path.join(componentsDir, 'moto', 'requirements.txt');

export class MotoUnavailableError extends Error {
  constructor(what: string) {
    super(
      `moto ${motoVersion} (AWS Secrets Manager): ${what}\n` +
        `To use a moto server you already run, set ${externalStoreVariables.awsEndpoint} to its URL ` +
        '(e.g. http://127.0.0.1:5000). Otherwise install python3 with its venv module, or fix access to PyPI.',
    );
    this.name = 'MotoUnavailableError';
  }
}

/** Returns the virtualenv's python, building the virtualenv when it is missing, stale or broken. */
export async function ensureMoto(progress: Progress): Promise<string> {
  const basePython = process.env.SECRETLINK_PYTHON ?? 'python3';
  const pythonVersion = await run(basePython, ['-c', 'import sys; print(sys.version)']);
  if (pythonVersion.code !== 0) {
    throw new MotoUnavailableError(`cannot run ${basePython} (${lastLine(pythonVersion.output)}).`);
  }
  const fingerprint = createHash('sha256')
    .update(readFileSync(requirementsFile))
    .update(pythonVersion.output)
    .digest('hex')
    .slice(0, 12);
  const venv = path.join(cacheRoot(), `moto-${motoVersion}`);
  if (await venvIsIntact(venv, fingerprint, progress)) return venvPython(venv);

  const staging = `${venv}.building-${randomBytes(4).toString('hex')}`;
  const started = Date.now();
  progress.step(`installing moto ${motoVersion} with pip into ${venv} (first run only)`);
  try {
    const create = await run(basePython, ['-m', 'venv', staging]);
    if (create.code !== 0) throw new MotoUnavailableError(`python3 -m venv failed:\n${create.output.trim()}`);
    const install = await run(venvPython(staging), [
      '-m',
      'pip',
      'install',
      '--no-input',
      '--disable-pip-version-check',
      '--no-deps',
      '--only-binary=:all:',
      '--require-hashes',
      '-r',
      requirementsFile,
    ]);
    if (install.code !== 0) {
      throw new MotoUnavailableError(
        `pip install -r ${requirementsFile} failed:\n${lastLines(install.output, 20)}`,
      );
    }
    await fs.writeFile(
      path.join(staging, 'secretlink-manifest.json'),
      JSON.stringify({ motoVersion, fingerprint }),
    );
    // The virtualenv is started as `<venv>/bin/python -m moto.server`, which still works after the rename
    // (only console-script shebangs hold the staging path).
    await fs.rm(venv, { recursive: true, force: true });
    await fs.rename(staging, venv).catch((error) => {
      if (!existsSync(path.join(venv, 'secretlink-manifest.json'))) throw error;
    });
    progress.step(`installed moto in ${formatDuration(Date.now() - started)}`);
    return venvPython(venv);
  } finally {
    await fs.rm(staging, { recursive: true, force: true });
  }
}

export async function startMoto(
  supervisor: ProcessSupervisor,
  python: string,
  host = '127.0.0.1',
): Promise<{ endpoint: string }> {
  const port = await freePort();
  const endpoint = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  const server = supervisor.start({
    name: 'moto',
    command: python,
    args: ['-m', 'moto.server', '-H', host, '-p', String(port)],
  });
  await waitUntil(
    'moto to answer',
    async () => {
      await resetMoto(endpoint);
      return true;
    },
    { timeoutMs: 30_000, server },
  );
  return { endpoint };
}

/** Forgets every secret moto holds (moto's own reset API). */
export async function resetMoto(endpoint: string): Promise<void> {
  const response = await fetch(`${endpoint}/moto-api/reset`, { method: 'POST' });
  if (!response.ok) throw new Error(`moto reset at ${endpoint} answered ${response.status}`);
}

async function venvIsIntact(venv: string, fingerprint: string, progress: Progress): Promise<boolean> {
  if (!existsSync(venv)) return false;
  try {
    const manifest = JSON.parse(await fs.readFile(path.join(venv, 'secretlink-manifest.json'), 'utf8'));
    if (manifest.fingerprint !== fingerprint) throw new Error('its requirements or python changed');
    const check = await run(venvPython(venv), ['-c', 'import moto.server']);
    if (check.code !== 0) throw new Error(`moto does not import: ${lastLine(check.output)}`);
    return true;
  } catch (error) {
    progress.note(`moto virtualenv ${venv} is stale or broken (${(error as Error).message}); reinstalling`);
    return false;
  }
}

function venvPython(venv: string): string {
  return path.join(venv, 'bin', 'python');
}

function lastLine(text: string): string {
  return lastLines(text, 1);
}
