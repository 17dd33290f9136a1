// The endpoint override of a GCP store: a gRPC host:port. A loopback host (an emulator, a local proxy) is
// reached in plaintext; anything else uses TLS as Google's own endpoint does.
import { isLoopbackHost } from '../validation.ts';

export interface GrpcEndpoint {
  host: string;
  port: number;
  plaintext: boolean;
}

export function parseEndpoint(endpoint: string): GrpcEndpoint | undefined {
  const match = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(endpoint);
  if (!match) return undefined;
  const port = Number(match[2]);
  if (port < 1 || port > 65535) return undefined;
  const host = match[1]!.replace(/^\[|\]$/g, '');
  return { host, port, plaintext: isLoopbackHost(host) };
}
