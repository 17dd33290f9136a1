// The AWS answer limit against a hostile endpoint on loopback, through the real SDK client: the SDK would
// otherwise collect any body whole before parsing it.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  BatchGetSecretValueCommand,
  GetSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { afterEach, describe, expect, it } from 'vitest';
import { LimitExceeded } from '../errors.ts';
import { limitResponseSize } from './response-limit.ts';

const limit = 64 * 1024;
let server: http.Server | undefined;
let client: SecretsManagerClient | undefined;

afterEach(async () => {
  client?.destroy();
  await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined));
  server = undefined;
});

/** An endpoint that answers every call with `body` (streamed, with no content-length when `chunked`). */
async function endpoint(body: (target: string) => string, chunked = false): Promise<SecretsManagerClient> {
  server = http.createServer((request, response) => {
    const target = String(request.headers['x-amz-target'] ?? '');
    const text = body(target);
    response.writeHead(200, {
      'content-type': 'application/x-amz-json-1.1',
      ...(chunked ? {} : { 'content-length': String(Buffer.byteLength(text)) }),
    });
    if (!chunked) return void response.end(text);
    // Stream in pieces so the size is known only by reading.
    let offset = 0;
    const pump = () => {
      while (offset < text.length && !response.destroyed) {
        const piece = text.slice(offset, offset + 16 * 1024);
        offset += piece.length;
        if (!response.write(piece)) return void response.once('drain', pump);
      }
      response.end();
    };
    pump();
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  client = new SecretsManagerClient({
    region: 'us-east-1',
    endpoint: `http://127.0.0.1:${port}`,
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
    maxAttempts: 1,
  });
  limitResponseSize(client, limit);
  return client;
}

const secret = (name: string, size: number) => ({
  Name: name,
  ARN: `arn:aws:secretsmanager:us-east-1:123456789012:secret:${name}`,
  VersionId: '11111111-1111-1111-1111-111111111111',
  SecretString: 'x'.repeat(size),
});

describe('AWS response size limit', () => {
  it('refuses an answer larger than the limit before the SDK parses it, naming the flag', async () => {
    const aws = await endpoint(() => JSON.stringify(secret('large', 4 * 1024 * 1024)));
    const answer = aws.send(new GetSecretValueCommand({ SecretId: 'large' }));
    await expect(answer).rejects.toThrow(LimitExceeded);
    await expect(answer).rejects.toThrow(
      'the aws store answered with more than 65536 bytes, the limit for one answer (--max-response-bytes)',
    );
  });

  it('refuses a streamed answer that passes the limit without announcing its size', async () => {
    const aws = await endpoint(() => JSON.stringify(secret('large', 4 * 1024 * 1024)), true);
    await expect(aws.send(new GetSecretValueCommand({ SecretId: 'large' }))).rejects.toThrow(LimitExceeded);
  });

  it('reads an answer within the limit, and allows a batch answer one limit per secret asked for', async () => {
    const names = ['a', 'b', 'c'];
    const aws = await endpoint((target) =>
      JSON.stringify(
        target.endsWith('BatchGetSecretValue')
          ? { SecretValues: names.map((name) => secret(name, 60 * 1024)), Errors: [] }
          : secret('small', 60 * 1024),
      ),
    );
    const one = await aws.send(new GetSecretValueCommand({ SecretId: 'small' }));
    expect(one.SecretString).toHaveLength(60 * 1024);
    const batch = await aws.send(new BatchGetSecretValueCommand({ SecretIdList: names }));
    expect(batch.SecretValues?.map((value) => value.Name)).toEqual(names);
  });
});
