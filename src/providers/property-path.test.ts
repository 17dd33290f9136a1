import { describe, expect, it } from 'vitest';
import { crdFor, schemaAt } from '../../test/support/crd-files.ts';
import { seeded } from '../../test/support/seeded.ts';
import { parsePropertyPath } from './property-path.ts';

/** The CRD's CEL rule for remote.property as a JavaScript RegExp (RE2's `\s` is these five characters). */
function crdPropertyPattern(): RegExp {
  const schema = schemaAt(crdFor('SecretReference').schema, 'spec.data[].remote.property');
  const rule = schema['x-kubernetes-validations']![0]!.rule;
  const literal = /^self\.matches\("(.*)"\)$/.exec(rule)![1]!;
  const source = literal.replace(/\\\\/g, '\\');
  return new RegExp(source.replaceAll('\\s', '\\t\\n\\f\\r '));
}

describe('parsePropertyPath', () => {
  it('accepts exactly the paths the CRD accepts at apply time', () => {
    const pattern = crdPropertyPattern();
    const random = seeded(11);
    const pieces = ['a', 'b1', '.', '\\', ' ', '\t', '\v', 'é', '😀', '-', '_'];
    for (let round = 0; round < 20_000; round += 1) {
      const path = Array.from(
        { length: Math.floor(random() * 8) },
        () => pieces[Math.floor(random() * pieces.length)],
      ).join('');
      expect(parsePropertyPath(path) !== undefined, JSON.stringify(path)).toBe(pattern.test(path));
    }
  });
});
