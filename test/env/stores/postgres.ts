// PostgreSQL for the tests: Debian's server binaries, a cluster made by initdb in the run folder, listening on
// 127.0.0.1 only (its unix socket in the run folder too), so Vault's database engine has a real database to
// create and drop login roles in. initdb and postgres refuse to run as root; when the run is root (CI), both
// run as `nobody`, which owns the data folder and nothing else.
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { runCommand } from '../command.ts';
import { freePort } from '../ports.ts';
import { type ProcessSupervisor, waitUntil } from '../processes.ts';
import type { Progress } from '../progress.ts';
import type { PostgresServer } from './coordinates.ts';

/** A folder holding initdb and postgres, instead of looking in /usr/lib/postgresql. */
export const postgresBinDirVariable = 'SECRETLINK_POSTGRES_BIN_DIR';
const debianRoot = '/usr/lib/postgresql';
/** The unprivileged account the servers run as when the run is root; Debian and Ubuntu both have it. */
const unprivileged = { user: 'nobody', group: 'nogroup', uid: 65534, gid: 65534 } as const;

export class PostgresUnavailableError extends Error {
  constructor(what: string) {
    super(
      `PostgreSQL (Vault's database engine backend): ${what}\n` +
        `Install Debian's server package (apt-get install -y postgresql), or set ${postgresBinDirVariable} ` +
        'to a folder holding initdb and postgres.',
    );
    this.name = 'PostgresUnavailableError';
  }
}

/**
 * The folder with initdb and postgres. When none is found and the run is root with apt-get at hand (CI),
 * Debian's package is installed; otherwise the error says how to get one.
 */
export async function ensurePostgres(progress: Progress): Promise<string> {
  const found = findBinDir();
  if (found) return found;
  if (process.getuid?.() !== 0 || !existsSync('/usr/bin/apt-get')) {
    throw new PostgresUnavailableError('no initdb and postgres were found.');
  }
  progress.step('PostgreSQL is not installed: installing Debian package postgresql with apt-get');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  for (const args of [['update'], ['install', '-y', '--no-install-recommends', 'postgresql']]) {
    const result = await runCommand('apt-get', args, { env });
    if (result.code !== 0) {
      throw new PostgresUnavailableError(`apt-get ${args.join(' ')} failed:\n${result.output.trim()}`);
    }
  }
  const installed = findBinDir();
  if (!installed) throw new PostgresUnavailableError('the installed package holds no initdb and postgres.');
  return installed;
}

function findBinDir(): string | undefined {
  const supplied = process.env[postgresBinDirVariable];
  if (supplied) return hasServer(supplied) ? supplied : undefined;
  if (!existsSync(debianRoot)) return undefined;
  const versions = readdirSync(debianRoot)
    .filter((name) => /^\d+$/.test(name))
    .sort((a, b) => Number(b) - Number(a));
  return versions.map((version) => path.join(debianRoot, version, 'bin')).find(hasServer);
}

function hasServer(dir: string): boolean {
  return existsSync(path.join(dir, 'initdb')) && existsSync(path.join(dir, 'postgres'));
}

export async function startPostgres(supervisor: ProcessSupervisor, binDir: string): Promise<PostgresServer> {
  const dir = path.join(supervisor.runDir, 'postgres');
  const dataDir = path.join(dir, 'data');
  await fs.mkdir(dataDir, { recursive: true, mode: 0o700 });
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    // The run folder is root's and private; nobody may pass through it (not list it) to reach its own folder.
    await fs.chmod(supervisor.runDir, 0o711);
    await fs.chown(dir, unprivileged.uid, unprivileged.gid);
    await fs.chown(dataDir, unprivileged.uid, unprivileged.gid);
  }
  const asServer = (command: string, args: string[]) =>
    asRoot
      ? {
          command: 'setpriv',
          args: [
            `--reuid=${unprivileged.user}`,
            `--regid=${unprivileged.group}`,
            '--clear-groups',
            '--',
            command,
            ...args,
          ],
        }
      : { command, args };

  // The superuser authenticates with a password over TCP; nothing is trusted, not even the socket.
  const user = 'postgres';
  const password = `pg-${randomBytes(18).toString('hex')}`;
  const passwordFile = path.join(dir, 'superuser-password');
  await fs.writeFile(passwordFile, password, { mode: 0o600 });
  if (asRoot) await fs.chown(passwordFile, unprivileged.uid, unprivileged.gid);
  const init = asServer(path.join(binDir, 'initdb'), [
    `--pgdata=${dataDir}`,
    `--username=${user}`,
    `--pwfile=${passwordFile}`,
    '--auth=scram-sha-256',
    '--encoding=UTF8',
    '--locale=C',
    '--no-sync',
  ]);
  const initialized = await runCommand(init.command, init.args, {
    env: { ...process.env, LC_ALL: 'C' },
    cwd: dir,
  });
  await fs.rm(passwordFile, { force: true });
  if (initialized.code !== 0) throw new PostgresUnavailableError(`initdb failed:\n${initialized.output}`);

  const port = await freePort();
  const server = asServer(path.join(binDir, 'postgres'), [
    '-D',
    dataDir,
    '-c',
    'listen_addresses=127.0.0.1',
    '-c',
    `port=${port}`,
    '-c',
    `unix_socket_directories=${dir}`,
    '-c',
    'fsync=off',
    '-c',
    'logging_collector=off',
  ]);
  const process_ = supervisor.start({
    name: 'postgres',
    ...server,
    cwd: dir,
    // Fast shutdown: SIGTERM would wait for Vault's pooled connections to close first.
    stopSignal: 'SIGINT',
  });
  const pgIsReady = path.join(binDir, 'pg_isready');
  await waitUntil(
    'PostgreSQL to accept connections',
    async () => (await runCommand(pgIsReady, ['-h', '127.0.0.1', '-p', String(port), '-q'])).code === 0,
    { timeoutMs: 30_000, server: process_ },
  );
  return { host: '127.0.0.1', port, user, password, database: 'postgres', psql: path.join(binDir, 'psql') };
}
