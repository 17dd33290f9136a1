// A fault the test controls, between the operator and one real store: a loopback proxy that passes requests
// through, resets connections (the store is down), stops listening (connections refused), holds requests
// unanswered, delays them, or answers with the store's own throttling reply, and records every request it
// saw. It speaks HTTP/1.1 (moto, Vault); fault-proxy-grpc.ts does the same for the GCP emulator's gRPC.
// The stores themselves are never stopped: they keep their data in memory only.
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export type Fault =
  /** Every request reaches the store. */
  | { kind: 'pass' }
  /** Each connection is accepted and reset at once (a store that crashed behind its address); counted. */
  | { kind: 'down' }
  /** Nothing listens: connections are refused by the kernel, so the proxy sees (and counts) nothing. */
  | { kind: 'refuse' }
  /** Requests are held unanswered until the fault changes, then forwarded if their client still waits. */
  | { kind: 'hold' }
  /** Each request is forwarded after `ms`. */
  | { kind: 'delay'; ms: number }
  /** Each request gets the store's own throttling answer and never reaches the store. */
  | { kind: 'throttle' };

export interface SeenRequest {
  /** Date.now() when the request (or, while down, the connection) arrived. */
  at: number;
  /** What was asked: AWS's X-Amz-Target operation, or method and path. Never a body. */
  what: string;
  /** What the proxy did with it. */
  fault: Fault['kind'];
}

/** The store's own throttling reply, as its clients expect to parse it. */
export interface ThrottleReply {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** AWS JSON protocol: HTTP 400 with the error code in __type, as Secrets Manager answers a rate limit. */
export const awsThrottle: ThrottleReply = {
  status: 400,
  headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-errortype': 'ThrottlingException' },
  body: JSON.stringify({ __type: 'ThrottlingException', message: 'Rate exceeded' }),
};

/** Vault answers a rate limit quota with HTTP 429 and an errors list. */
export const vaultThrottle: ThrottleReply = {
  status: 429,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ errors: ['request path: rate limit quota exceeded'] }),
};

export interface FaultProxy {
  /** host:port the proxy listens on (127.0.0.1). */
  address: string;
  /** http://<address>, for an AWS endpoint or a Vault server. */
  url: string;
  /** Every request (or refused connection) seen since the proxy started, oldest first. */
  seen: SeenRequest[];
  /** What the requests held now, still unanswered, ask for (as in SeenRequest). */
  held(): string[];
  /** Applies from the next request on; leaving `hold` releases the held requests into the new fault. */
  set(fault: Fault): Promise<void>;
  close(): Promise<void>;
}

/** Starts a proxy in front of an HTTP/1.1 store at `upstream` (http://host:port). */
export async function startHttpFaultProxy(upstream: string, throttle: ThrottleReply): Promise<FaultProxy> {
  const target = new URL(upstream);
  const agent = new http.Agent({ keepAlive: true });
  const sockets = new Set<Socket>();
  const holding = new Map<() => void, string>();
  const seen: SeenRequest[] = [];
  let fault: Fault = { kind: 'pass' };

  const forward = (request: http.IncomingMessage, response: http.ServerResponse) => {
    const outgoing = http.request(
      {
        host: target.hostname,
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
    outgoing.on('error', () => response.destroy());
    response.on('close', () => outgoing.destroy());
    request.pipe(outgoing);
  };

  const handle = (request: http.IncomingMessage, response: http.ServerResponse) => {
    seen.push({ at: Date.now(), what: describe(request), fault: fault.kind });
    apply(request, response);
  };

  const apply = (request: http.IncomingMessage, response: http.ServerResponse) => {
    const current = fault;
    switch (current.kind) {
      case 'throttle':
        request.resume();
        response.writeHead(throttle.status, throttle.headers);
        response.end(throttle.body);
        return;
      case 'delay': {
        const timer = setTimeout(() => forward(request, response), current.ms);
        response.on('close', () => clearTimeout(timer));
        return;
      }
      case 'hold': {
        const release = () => {
          holding.delete(release);
          if (!response.destroyed) apply(request, response);
        };
        holding.set(release, describe(request));
        response.on('close', () => holding.delete(release));
        return;
      }
      case 'down':
      case 'refuse':
        response.socket?.resetAndDestroy();
        return;
      case 'pass':
        forward(request, response);
    }
  };

  const server = http.createServer({ keepAlive: true }, handle);
  server.on('connection', (socket: Socket) => {
    if (fault.kind === 'down') {
      seen.push({ at: Date.now(), what: 'connection', fault: 'down' });
      socket.resetAndDestroy();
      return;
    }
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await listen(server, 0);
  const { port } = server.address() as AddressInfo;

  const dropConnections = () => {
    for (const socket of sockets) socket.resetAndDestroy();
    sockets.clear();
    agent.destroy();
  };

  return {
    address: `127.0.0.1:${port}`,
    url: `http://127.0.0.1:${port}`,
    seen,
    held: () => [...holding.values()],
    async set(next) {
      const previous = fault;
      fault = next;
      // Kept-alive connections would otherwise carry requests past a new outage.
      if (next.kind === 'down' || next.kind === 'refuse') dropConnections();
      if (next.kind === 'refuse' && server.listening) await closeListener(server);
      if (next.kind !== 'refuse' && !server.listening) await listen(server, port);
      if (previous.kind === 'hold' && next.kind !== 'hold')
        for (const release of [...holding.keys()]) release();
    },
    async close() {
      fault = { kind: 'pass' };
      for (const release of [...holding.keys()]) release();
      dropConnections();
      if (server.listening) await closeListener(server);
    },
  };
}

function describe(request: http.IncomingMessage): string {
  const target = request.headers['x-amz-target'];
  if (typeof target === 'string') return target;
  return `${request.method} ${(request.url ?? '').split('?')[0]}`;
}

function listen(server: http.Server, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function closeListener(server: http.Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}
