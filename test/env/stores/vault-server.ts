// Vault or OpenBao for the tests (same flags, same API): a dev-mode server (in memory, unsealed) on loopback, with its files in the run folder.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { freePort } from '../ports.ts';
import { type ProcessSupervisor, waitUntil } from '../processes.ts';

export async function startVault(
  supervisor: ProcessSupervisor,
  binary: string,
): Promise<{ address: string; rootToken: string }> {
  const dir = path.join(supervisor.runDir, 'vault');
  await fs.mkdir(dir, { recursive: true });
  const configFile = path.join(dir, 'config.hcl');
  await fs.writeFile(configFile, 'disable_mlock = true\n');
  const port = await freePortFollowedByFreePort();
  const address = `http://127.0.0.1:${port}`;
  // A fresh random root token per run: the server is in memory, on loopback, and gone at teardown.
  const rootToken = randomBytes(24).toString('hex');
  const server = supervisor.start({
    name: 'vault',
    command: binary,
    args: [
      'server',
      '-dev',
      `-dev-root-token-id=${rootToken}`,
      `-dev-listen-address=127.0.0.1:${port}`,
      '-dev-no-store-token',
      `-config=${configFile}`,
    ],
    cwd: dir,
    env: vaultServerEnvironment(dir),
  });
  await waitUntil(
    'Vault to report itself active and unsealed',
    async () => (await fetch(`${address}/v1/sys/health`)).ok,
    {
      timeoutMs: 30_000,
      server,
    },
  );

  return { address, rootToken };
}

/** The server's own settings only: VAULT_* and BAO_* variables meant for a user's CLI must not reach it. */
function vaultServerEnvironment(dir: string): NodeJS.ProcessEnv {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !name.startsWith('VAULT_') && !name.startsWith('BAO_')),
  );
  return { ...env, HOME: dir };
}

/** Dev mode puts its cluster listener on the API port + 1, so both must be free. */
async function freePortFollowedByFreePort(): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const port = await freePort();
    if (port < 65535 && (await canListen(port + 1))) return port;
  }
  throw new Error('found no two consecutive free ports on 127.0.0.1 for Vault');
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}
