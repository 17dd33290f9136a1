import { describe, expect, it } from 'vitest';
import { crdFor, schemaAt } from '../../test/support/crd-files.ts';
import { InvalidDurationError, parseDuration } from './duration.ts';

describe('parseDuration', () => {
  it.each([
    ['90s', 90_000],
    ['5m', 300_000],
    ['1h', 3_600_000],
    ['1h30m', 5_400_000],
    ['2h45m30s', 9_930_000],
    ['1.5h', 5_400_000],
    ['.5s', 500],
    ['1.s', 1000],
    ['250ms', 250],
    ['1500us', 1.5],
    ['1500µs', 1.5],
    ['1500μs', 1.5],
    ['2000000ns', 2],
    ['0', 0],
    ['0s', 0],
    ['+10s', 10_000],
    ['-1m', -60_000],
    ['1m1m', 120_000],
  ])('reads %s as %d ms', (text, expected) => {
    expect(parseDuration(text)).toBeCloseTo(expected, 9);
  });

  it.each([
    '',
    '-',
    '1',
    '10',
    'h',
    '.h',
    '1.5',
    '1d',
    '1 h',
    ' 1h',
    '1h ',
    '1h-5m',
    '1..5s',
    '1.5.5s',
    '1hm',
    'one hour',
  ])('refuses %j with a message that shows how to write a duration', (text) => {
    expect(() => parseDuration(text)).toThrow(InvalidDurationError);
    expect(() => parseDuration(text)).toThrow(/e\.g\. 1h30m or 90s/);
  });

  it('parses every duration the CRD schema lets through', () => {
    const rule = schemaAt(crdFor('SecretReference').schema, 'spec.ttl')['x-kubernetes-validations']![0]!.rule;
    const pattern = new RegExp(/matches\("(.+?)"\)/.exec(rule)![1]!.replaceAll('\\\\', '\\'));
    const candidates = [
      '1m',
      '24h',
      '1h30m',
      '1.5h',
      '90s',
      '1439m59s',
      '36000ms',
      '5m0s',
      '1h0m0.5s',
      '10x',
      '1 h',
    ];
    const accepted = candidates.filter((text) => pattern.test(text));
    expect(accepted).toHaveLength(candidates.length - 2);
    for (const text of accepted) expect(parseDuration(text)).toBeGreaterThan(0);
  });
});
