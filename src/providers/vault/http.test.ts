// The Vault transport against a hostile server on loopback: an answer past the limit is refused before it is
// buffered whole or parsed, whether the server announces its size or streams without end.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { LimitExceeded } from '../errors.ts';
import { VaultTransport } from './http.ts';

const limit = 64 * 1024;
let server: http.Server | undefined;
let transport: VaultTransport | undefined;

afterEach(async () => {
  transport?.close();
  await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined));
  server = undefined;
});

async function serve(handler: http.RequestListener): Promise<VaultTransport> {
  server = http.createServer(handler);
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  transport = new VaultTransport({ server: `http://127.0.0.1:${port}`, maxResponseBytes: limit });
  return transport;
}

const get = (vault: VaultTransport) =>
  vault.request('GET', 'secret/data/large', { token: 't', signal: AbortSignal.timeout(10_000) });

describe('VaultTransport response limit', () => {
  it('refuses an answer that announces more than the limit', async () => {
    const vault = await serve((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json', 'content-length': String(limit * 100) });
      response.write('{"data":{"data":{"blob":"');
    });
    const answer = get(vault);
    await expect(answer).rejects.toThrow(LimitExceeded);
    await expect(answer).rejects.toThrow(
      'the vault store answered with more than 65536 bytes, the limit for one answer (--max-response-bytes)',
    );
  });

  it('stops reading a body that streams past the limit without announcing its size', async () => {
    let sent = 0;
    const vault = await serve((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      const chunk = Buffer.alloc(16 * 1024, 'x');
      // Would send 64 MiB if the client kept reading.
      const pump = () => {
        while (sent < 64 * 1024 * 1024 && !response.destroyed) {
          sent += chunk.length;
          if (!response.write(chunk)) return void response.once('drain', pump);
        }
        response.end();
      };
      pump();
    });
    await expect(get(vault)).rejects.toThrow(LimitExceeded);
    expect(sent).toBeLessThan(8 * 1024 * 1024);
  });

  it('reads an answer within the limit', async () => {
    const vault = await serve((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ data: { data: { user: 'etl' } } }));
    });
    expect(await get(vault)).toEqual({ status: 200, body: { data: { data: { user: 'etl' } } } });
  });
});
