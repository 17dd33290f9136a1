import { describe, expect, it } from 'vitest';
import { crdFor, schemaAt } from '../../test/support/crd-files.ts';
import { seeded } from '../../test/support/seeded.ts';
import { decodeValue, decodings } from './decoding.ts';
import { InvalidReference } from './errors.ts';

const where = { key: 'ssh-key', remote: 'elt/deploy' };
const decode = (text: string, decoding: (typeof decodings)[number] | undefined) =>
  decodeValue(Buffer.from(text, 'latin1'), decoding, where);
const bytes = Buffer.from([0xfb, 0xff, 0x00, 0x3e, 0x3f]);

describe('decodeValue', () => {
  it.each([
    ['none', '+/8APj8=', '+/8APj8='],
    [undefined, '+/8APj8=', '+/8APj8='],
    ['base64', '+/8APj8=', bytes],
    ['base64', '+/8APj8', bytes],
    ['base64', '+/8A\nPj8=\n', bytes],
    ['base64url', '-_8APj8', bytes],
    ['base64url', '-_8APj8=', bytes],
    ['auto', '+/8APj8=', bytes],
    ['auto', '-_8APj8', bytes],
    ['auto', 'correct horse', 'correct horse'],
    ['auto', '+/8A\nPj8=', '+/8A\nPj8='],
    ['auto', 'QR', 'QR'],
    ['auto', '', ''],
    ['base64', '', ''],
  ] as const)('%s decodes %j', (decoding, text, expected) => {
    const decoded = decode(text, decoding);
    expect(decoded.equals(typeof expected === 'string' ? Buffer.from(expected, 'latin1') : expected)).toBe(
      true,
    );
  });

  it.each([
    ['base64', '-_8APj8'],
    ['base64', '+/8APj8=='],
    ['base64', '+/8APj8=x'],
    ['base64', 'QR=='],
    ['base64', 'A'],
    ['base64', 'hunter2!'],
    ['base64url', '+/8APj8='],
    ['base64', 'QQ='],
    ['base64', 'é'],
  ] as const)('%s refuses %j with an error naming the key, never the value', (decoding, text) => {
    let thrown: unknown;
    try {
      decode(text, decoding);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(InvalidReference);
    expect((thrown as Error).message).toBe(
      `the value for key "ssh-key" from "elt/deploy" is not valid ${decoding} (decoding: ${decoding})`,
    );
  });

  it('round-trips random bytes through each encoding, and never throws for auto', () => {
    const random = seeded(7);
    for (let round = 0; round < 5_000; round += 1) {
      const data = Buffer.from(
        Array.from({ length: Math.floor(random() * 40) }, () => Math.floor(random() * 256)),
      );
      expect(decode(data.toString('base64'), 'base64').equals(data)).toBe(true);
      expect(decode(data.toString('base64url'), 'base64url').equals(data)).toBe(true);
      expect(decode(data.toString('base64'), 'auto').equals(data)).toBe(true);
      expect(() => decodeValue(data, 'auto', where)).not.toThrow();
    }
  });

  it('offers the strategies the CRD accepts', () => {
    const schema = crdFor('SecretReference').schema;
    expect(schemaAt(schema, 'spec.data[].decoding').enum).toEqual([...decodings]);
    expect(schemaAt(schema, 'spec.dataFrom[].decoding').enum).toEqual([...decodings]);
  });
});
