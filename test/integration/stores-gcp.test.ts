// The environment's GCP Secret Manager is the real gRPC emulator, reached by the official client over
// plaintext gRPC: secrets, numbered versions and the "latest" alias behave as the GCP provider will see them.
import { describe, expect, it } from 'vitest';
import {
  gcpClient,
  gcpSecretName,
  rotateGcpSecret,
  seedGcpSecret,
  stores,
  uniqueSecretName,
} from '../support/stores.ts';

const grpcNotFound = 5;

async function access(id: string, version = 'latest') {
  const [response] = await gcpClient().accessSecretVersion({
    name: `${gcpSecretName(id)}/versions/${version}`,
  });
  return { name: response.name!, data: Buffer.from(response.payload!.data as Uint8Array) };
}

describe('GCP Secret Manager (emulator)', () => {
  it('listens on loopback', () => {
    expect(stores().gcp.endpoint).toMatch(/^127\.0\.0\.1:\d+$/);
  });

  it('serves the newest version as latest, and an older version by its number', async () => {
    const id = uniqueSecretName('gcp-string');
    expect(await seedGcpSecret(id, 'first value')).toBe('1');
    expect(await rotateGcpSecret(id, 'second value')).toBe('2');

    const latest = await access(id);
    expect(latest.data.toString('utf8')).toBe('second value');
    expect(latest.name).toBe(`${gcpSecretName(id)}/versions/2`);
    expect((await access(id, '1')).data.toString('utf8')).toBe('first value');
  });

  it('returns a JSON value as the text it was given', async () => {
    const id = uniqueSecretName('gcp-json');
    const value = { host: 'warehouse.internal', credentials: { user: 'etl', token: 't0k3n' } };
    await seedGcpSecret(id, value);
    expect(JSON.parse((await access(id)).data.toString('utf8'))).toEqual(value);
  });

  it('returns a binary value byte for byte', async () => {
    const id = uniqueSecretName('gcp-binary');
    const bytes = new Uint8Array([0, 255, 1, 254, 0x80, 0x0d, 0x0a]);
    await seedGcpSecret(id, bytes);
    expect([...(await access(id)).data]).toEqual([...bytes]);
  });

  it('answers NOT_FOUND for a secret it does not hold, and for a version that does not exist', async () => {
    await expect(access(uniqueSecretName('gcp-missing'))).rejects.toMatchObject({ code: grpcNotFound });
    const id = uniqueSecretName('gcp-one-version');
    await seedGcpSecret(id, 'only');
    await expect(access(id, '7')).rejects.toMatchObject({ code: grpcNotFound });
  });
});
