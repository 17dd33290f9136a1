// A loopback HTTP proxy in front of moto that counts the AWS calls passing through it, by operation (the
// `X-Amz-Target` header, e.g. `secretsmanager.GetSecretValue`), so each operator's store calls are counted on
// the store's side of its connection, whatever the operator's own metrics say. Bodies pass through untouched
// and are never read.
import http from 'node:http';

export interface StoreCallCounter {
  url: string;
  /** Calls seen so far, by operation. */
  counts(): Map<string, number>;
  close(): Promise<void>;
}

export async function startStoreCallCounter(upstream: string): Promise<StoreCallCounter> {
  const target = new URL(upstream);
  const agent = new http.Agent({ keepAlive: true });
  const counts = new Map<string, number>();
  const server = http.createServer((request, response) => {
    const amzTarget = request.headers['x-amz-target'];
    const operation =
      (Array.isArray(amzTarget) ? amzTarget[0] : amzTarget) ?? `${request.method} ${request.url}`;
    counts.set(operation, (counts.get(operation) ?? 0) + 1);
    const forwarded = http.request(
      {
        hostname: target.hostname,
        port: target.port,
        method: request.method,
        path: request.url,
        headers: request.headers,
        agent,
      },
      (answer) => {
        response.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(response);
      },
    );
    forwarded.on('error', () => response.destroy());
    request.pipe(forwarded);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    counts: () => new Map(counts),
    close: async () => {
      server.closeAllConnections();
      agent.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
