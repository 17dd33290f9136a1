// The fault proxy of fault-proxy.ts for a gRPC store (the GCP Secret Manager emulator, plaintext HTTP/2):
// each call is one HTTP/2 stream, forwarded over one upstream session, held, delayed, or answered with gRPC's
// own throttling status, RESOURCE_EXHAUSTED, as a trailers-only response (the form a gRPC server uses for an
// error before any message). Connections are reset while down and refused while nothing listens.
import http2 from 'node:http2';
import type { AddressInfo, Socket } from 'node:net';
import type { Fault, FaultProxy, SeenRequest } from './fault-proxy.ts';

const resourceExhausted = '8';

/** Starts a proxy in front of the gRPC server at `upstream` (host:port). */
export async function startGrpcFaultProxy(upstream: string): Promise<FaultProxy> {
  const sessions = new Set<http2.Http2Session>();
  const holding = new Map<() => void, string>();
  const seen: SeenRequest[] = [];
  let fault: Fault = { kind: 'pass' };
  let upstreamSession: http2.ClientHttp2Session | undefined;

  const connectUpstream = () => {
    if (upstreamSession && !upstreamSession.closed && !upstreamSession.destroyed) return upstreamSession;
    const session = http2.connect(`http://${upstream}`);
    session.on('error', () => undefined);
    session.on('close', () => {
      if (upstreamSession === session) upstreamSession = undefined;
    });
    upstreamSession = session;
    return session;
  };

  const forward = (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) => {
    const { ':scheme': _scheme, ':authority': _authority, ...request } = headers;
    const outgoing = connectUpstream().request(request);
    let trailers: http2.IncomingHttpHeaders | undefined;
    outgoing.on('response', (answer, flags) => {
      if (stream.destroyed) return;
      const endStream = (flags & http2.constants.NGHTTP2_FLAG_END_STREAM) !== 0;
      stream.respond(
        answer as http2.OutgoingHttpHeaders,
        endStream ? { endStream } : { waitForTrailers: true },
      );
      if (!endStream) outgoing.pipe(stream);
    });
    outgoing.on('trailers', (received) => {
      trailers = received;
    });
    stream.on('wantTrailers', () => stream.sendTrailers((trailers ?? {}) as http2.OutgoingHttpHeaders));
    outgoing.on('error', () => stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR));
    stream.on('close', () => {
      if (!outgoing.closed) outgoing.close(http2.constants.NGHTTP2_CANCEL);
    });
    stream.pipe(outgoing);
  };

  const apply = (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) => {
    const current = fault;
    switch (current.kind) {
      case 'throttle':
        stream.resume();
        stream.respond(
          {
            ':status': 200,
            'content-type': 'application/grpc',
            'grpc-status': resourceExhausted,
            'grpc-message': 'Quota exceeded for quota metric Access requests',
          },
          { endStream: true },
        );
        return;
      case 'delay': {
        const timer = setTimeout(() => forward(stream, headers), current.ms);
        stream.on('close', () => clearTimeout(timer));
        return;
      }
      case 'hold': {
        const release = () => {
          holding.delete(release);
          if (!stream.destroyed) apply(stream, headers);
        };
        holding.set(release, String(headers[':path'] ?? ''));
        stream.on('close', () => holding.delete(release));
        return;
      }
      case 'down':
      case 'refuse':
        stream.session?.destroy();
        return;
      case 'pass':
        forward(stream, headers);
    }
  };

  const server = http2.createServer();
  server.on('session', (session) => {
    sessions.add(session);
    session.on('close', () => sessions.delete(session));
    session.on('error', () => undefined);
  });
  server.on('sessionError', () => undefined);
  server.on('stream', (stream, headers) => {
    stream.on('error', () => undefined);
    seen.push({ at: Date.now(), what: String(headers[':path'] ?? ''), fault: fault.kind });
    apply(stream, headers);
  });
  server.on('connection', (socket: Socket) => {
    if (fault.kind !== 'down') return;
    seen.push({ at: Date.now(), what: 'connection', fault: 'down' });
    socket.resetAndDestroy();
  });
  await listen(server, 0);
  const { port } = server.address() as AddressInfo;

  const dropConnections = () => {
    for (const session of sessions) session.destroy();
    sessions.clear();
  };

  return {
    address: `127.0.0.1:${port}`,
    url: `http://127.0.0.1:${port}`,
    seen,
    held: () => [...holding.values()],
    async set(next) {
      const previous = fault;
      fault = next;
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
      upstreamSession?.destroy();
      if (server.listening) await closeListener(server);
    },
  };
}

function listen(server: http2.Http2Server, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function closeListener(server: http2.Http2Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}
