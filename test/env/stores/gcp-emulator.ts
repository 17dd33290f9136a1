// GCP Secret Manager for the tests: the gRPC emulator, built from Go modules, listening on loopback only.
import net from 'node:net';
import { freePort } from '../ports.ts';
import { type ProcessSupervisor, waitUntil } from '../processes.ts';

export async function startGcpEmulator(
  supervisor: ProcessSupervisor,
  binary: string,
): Promise<{ endpoint: string }> {
  const port = await freePort();
  const server = supervisor.start({
    name: 'gcp-secret-manager-emulator',
    command: binary,
    args: ['--host', '127.0.0.1', '--port', String(port)],
  });
  // The emulator starts serving right after it binds, so an accepted connection means it is ready.
  await waitUntil('the GCP Secret Manager emulator to accept connections', () => accepts(port), {
    timeoutMs: 30_000,
    server,
  });
  return { endpoint: `127.0.0.1:${port}` };
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', reject);
  });
}
