// A size limit on every AWS answer, applied before the SDK reads it. The SDK collects a whole response body
// into memory before parsing it, however large, and an `endpoint` override lets a tenant choose the server;
// so the body is read here, innermost in the middleware stack, and refused as soon as it passes the limit.
// What reaches the SDK's parser is then a bounded buffer.

import type { Readable } from 'node:stream';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { responseTooLarge } from '../limits.ts';

type Middleware = Parameters<SecretsManagerClient['middlewareStack']['add']>[0];

/**
 * `perSecretBytes` is the limit for one secret; a batch read may carry one secret per id it asked for, so its
 * limit is that many times larger.
 */
export function limitResponseSize(client: SecretsManagerClient, perSecretBytes: number): void {
  const middleware: Middleware = (next) => async (args) => {
    const result = await next(args);
    const response = result.response as { headers?: Record<string, string>; body?: unknown };
    const ids = (args.input as { SecretIdList?: unknown[] }).SecretIdList?.length ?? 1;
    const limit = perSecretBytes * Math.max(1, ids);
    response.body = await readLimited(
      response.body,
      Number(response.headers?.['content-length'] ?? 0),
      limit,
    );
    return result;
  };
  client.middlewareStack.add(middleware, {
    step: 'deserialize',
    priority: 'low',
    name: 'secretlinkResponseSizeLimit',
  });
}

async function readLimited(body: unknown, announced: number, limit: number): Promise<Uint8Array> {
  if (body === undefined || body === null) return new Uint8Array();
  if (body instanceof Uint8Array) {
    if (body.byteLength > limit) throw responseTooLarge('aws', limit);
    return body;
  }
  const stream = body as Readable;
  if (announced > limit) {
    stream.destroy();
    throw responseTooLarge('aws', limit);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    size += bytes.length;
    if (size > limit) {
      chunks.length = 0;
      stream.destroy();
      throw responseTooLarge('aws', limit);
    }
    chunks.push(bytes);
  }
  return Buffer.concat(chunks);
}
