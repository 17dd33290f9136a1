// Vault's HTTP API over node:http(s), with no client library in between: every request carries the caller's
// AbortSignal, the store's CA bundle and namespace, and nothing Vault sends back is echoed into an error.
import http from 'node:http';
import https from 'node:https';
import { responseTooLarge } from '../limits.ts';

export interface VaultResponse {
  status: number;
  /** Parsed JSON body; undefined when there was none or it was not JSON. */
  body: unknown;
}

export interface VaultRequest {
  token?: string;
  body?: unknown;
  signal: AbortSignal;
}

export interface VaultTransportOptions {
  server: string;
  namespace?: string;
  /** PEM bundle to trust instead of the system roots. */
  ca?: string;
  /** Answers larger than this are refused before they are parsed. */
  maxResponseBytes: number;
}

export class VaultTransport {
  readonly #base: URL;
  readonly #namespace?: string;
  readonly #agent: http.Agent;
  readonly #maxResponseBytes: number;

  constructor(options: VaultTransportOptions) {
    this.#base = new URL(options.server.endsWith('/') ? options.server : `${options.server}/`);
    this.#namespace = options.namespace;
    this.#maxResponseBytes = options.maxResponseBytes;
    this.#agent =
      this.#base.protocol === 'https:'
        ? new https.Agent({ keepAlive: true, ...(options.ca ? { ca: options.ca } : {}) })
        : new http.Agent({ keepAlive: true });
  }

  /** `path` is relative to /v1/ and already URL-encoded. */
  request(method: string, path: string, request: VaultRequest): Promise<VaultResponse> {
    const url = new URL(`v1/${path}`, this.#base);
    const headers: Record<string, string> = { accept: 'application/json' };
    if (request.token) headers['x-vault-token'] = request.token;
    if (this.#namespace) headers['x-vault-namespace'] = this.#namespace;
    const payload = request.body === undefined ? undefined : Buffer.from(JSON.stringify(request.body));
    if (payload) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = String(payload.length);
    }
    const send = url.protocol === 'https:' ? https.request : http.request;
    return new Promise<VaultResponse>((resolve, reject) => {
      const outgoing = send(
        url,
        { method, headers, agent: this.#agent, signal: request.signal },
        (incoming) => {
          const chunks: Buffer[] = [];
          let size = 0;
          // Refused as soon as the body passes the limit (or announces that it will), before it is buffered
          // further or parsed: a store the tenant runs chooses how much it sends.
          const refuse = () => {
            chunks.length = 0;
            incoming.destroy();
            reject(responseTooLarge('vault', this.#maxResponseBytes));
          };
          if (Number(incoming.headers['content-length'] ?? 0) > this.#maxResponseBytes) {
            refuse();
            return;
          }
          incoming.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size > this.#maxResponseBytes) {
              refuse();
              return;
            }
            chunks.push(chunk);
          });
          incoming.on('error', reject);
          incoming.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            chunks.length = 0;
            resolve({ status: incoming.statusCode ?? 0, body: parseBody(text) });
          });
        },
      );
      outgoing.on('error', reject);
      outgoing.end(payload);
    });
  }

  close(): void {
    this.#agent.destroy();
  }
}

function parseBody(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
