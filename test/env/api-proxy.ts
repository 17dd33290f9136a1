// A loopback HTTP proxy between one operator and the API server, that the test controls: it sees every request
// (method and path, never a body), can hold the next request that matches before it reaches the API server or
// after the API server answered it (so the test can kill the operator at that exact step), and can cut every
// connection and refuse new ones until restored. The operator reaches it over plain HTTP with a bearer token
// (loopback only); the proxy reaches the API server over TLS, trusting the environment's CA.
import http from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';

export interface SeenRequest {
  method: string;
  path: string;
  /** The API server's status code, once it answered (absent for a request held or cut before). */
  status?: number;
}

export type Stage = 'request' | 'response';

export interface HeldRequest extends SeenRequest {
  stage: Stage;
}

export interface ApiProxy {
  url: string;
  /** Every request in arrival order. */
  seen: SeenRequest[];
  /**
   * Holds the next request that `matches`: at `request` it never reaches the API server; at `response` the API
   * server carries it out and the answer never reaches the operator. Resolves when it is held. A held request
   * stays held until its connection closes (the operator is killed) or the proxy is closed.
   */
  hold(matches: (method: string, path: string) => boolean, stage: Stage): Promise<HeldRequest>;
  /** Drops every open connection (watches included) and refuses new ones, until `restore`. */
  cut(): void;
  restore(): void;
  close(): Promise<void>;
}

interface Trap {
  matches: (method: string, path: string) => boolean;
  stage: Stage;
  resolve: (held: HeldRequest) => void;
}

export async function startApiProxy(upstream: {
  server: string;
  ca: string | Buffer;
  /**
   * A bearer token the proxy sends for every request, in place of what the client sent: for Go clients, which
   * sent no token to a plain http:// server when tried (bench/eso.ts, counting an operator's requests).
   */
  token?: string;
}): Promise<ApiProxy> {
  const target = new URL(upstream.server);
  const agent = new https.Agent({ ca: upstream.ca, keepAlive: true });
  const seen: SeenRequest[] = [];
  const traps: Trap[] = [];
  const sockets = new Set<Socket>();
  const upstreamRequests = new Set<http.ClientRequest>();
  let refusing = false;

  const takeTrap = (method: string, path: string, stage: Stage): Trap | undefined => {
    const index = traps.findIndex((trap) => trap.stage === stage && trap.matches(method, path));
    return index < 0 ? undefined : traps.splice(index, 1)[0];
  };

  const server = http.createServer((request, response) => {
    const method = request.method ?? 'GET';
    const path = request.url ?? '/';
    const entry: SeenRequest = { method, path };
    seen.push(entry);
    const early = takeTrap(method, path, 'request');
    if (early) {
      // Neither forwarded nor answered: the operator waits on it until it dies.
      request.resume();
      early.resolve({ ...entry, stage: 'request' });
      return;
    }
    const headers = {
      ...request.headers,
      host: target.host,
      ...(upstream.token ? { authorization: `Bearer ${upstream.token}` } : {}),
    };
    const forwarded = https.request(
      { protocol: 'https:', hostname: target.hostname, port: target.port, method, path, headers, agent },
      (answer) => {
        entry.status = answer.statusCode;
        const late = takeTrap(method, path, 'response');
        if (late) {
          answer.resume();
          late.resolve({ ...entry, stage: 'response' });
          return;
        }
        response.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(response);
        // An answer the API server broke off (a watch open when it stops) breaks off the operator's too, as
        // it would without the proxy; pipe alone would leave that connection open and silent.
        answer.on('close', () => {
          if (!answer.complete) response.destroy();
        });
      },
    );
    upstreamRequests.add(forwarded);
    forwarded.on('close', () => upstreamRequests.delete(forwarded));
    forwarded.on('error', () => response.destroy());
    response.on('close', () => forwarded.destroy());
    request.pipe(forwarded);
  });
  server.on('connection', (socket) => {
    if (refusing) {
      socket.destroy();
      return;
    }
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };

  const dropAll = () => {
    for (const socket of sockets) socket.destroy();
    for (const forwarded of upstreamRequests) forwarded.destroy();
  };
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    hold: (matches, stage) => new Promise((resolve) => traps.push({ matches, stage, resolve })),
    cut: () => {
      refusing = true;
      dropAll();
    },
    restore: () => {
      refusing = false;
    },
    close: async () => {
      dropAll();
      agent.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
