// Checks the CRDs as documents, without a server: every field explained and typed, no misspelt keyword
// (which the API server would drop or refuse), every rule with a message, and the two store kinds alike.
import { describe, expect, it } from 'vitest';
import { crdFor, readCrds, type SchemaNode } from '../../test/support/crd-files.ts';

const schemaKeywords = new Set([
  'type',
  'description',
  'properties',
  'additionalProperties',
  'items',
  'required',
  'default',
  'enum',
  'format',
  'minLength',
  'maxLength',
  'minItems',
  'maxItems',
  'minProperties',
  'maxProperties',
  'minimum',
  'maximum',
  'x-kubernetes-validations',
  'x-kubernetes-list-type',
  'x-kubernetes-list-map-keys',
]);
const ruleKeywords = new Set(['rule', 'message', 'fieldPath', 'reason']);

interface Visit {
  path: string;
  /** The name a person knows the field by: the property, or the list or map that holds the value. */
  name: string;
  node: SchemaNode;
}

function* walk(node: SchemaNode, path = '', name = ''): Generator<Visit> {
  yield { path: path || '(root)', name, node };
  for (const [field, child] of Object.entries(node.properties ?? {})) {
    yield* walk(child, path ? `${path}.${field}` : field, field);
  }
  if (node.items) yield* walk(node.items, `${path}[]`, name);
  if (typeof node.additionalProperties === 'object')
    yield* walk(node.additionalProperties, `${path}{}`, name);
}

describe.each(readCrds().map((crd) => [crd.kind, crd] as const))('the %s CRD', (_kind, crd) => {
  const visits = [...walk(crd.schema)];

  it('gives every field a type and a description, so kubectl explain documents it', () => {
    // metadata is the one exception: the API server refuses anything in it but its type.
    const undocumented = visits
      .filter(({ path }) => path !== 'metadata')
      .filter(({ node }) => !node.type || !node.description?.trim())
      .map(({ path }) => path);
    expect(undocumented).toEqual([]);
  });

  it('uses no schema keyword outside the set the CRDs are written with', () => {
    const unknown = visits.flatMap(({ path, node }) =>
      Object.keys(node)
        .filter((keyword) => !schemaKeywords.has(keyword))
        .map((keyword) => `${path}: ${keyword}`),
    );
    const unknownInRules = visits.flatMap(({ path, node }) =>
      (node['x-kubernetes-validations'] ?? []).flatMap((rule) =>
        Object.keys(rule)
          .filter((keyword) => !ruleKeywords.has(keyword))
          .map((keyword) => `${path}: ${keyword}`),
      ),
    );
    expect([...unknown, ...unknownInRules]).toEqual([]);
  });

  it('lists only declared fields as required', () => {
    const undeclared = visits.flatMap(({ path, node }) =>
      (node.required ?? []).filter((field) => !node.properties?.[field]).map((field) => `${path}.${field}`),
    );
    expect(undeclared).toEqual([]);
  });

  it('gives every validation rule a message that names the field it judges', () => {
    const unnamed = visits.flatMap(({ path, name, node }) =>
      (node['x-kubernetes-validations'] ?? [])
        .filter((rule) => {
          const field = rule.fieldPath ? rule.fieldPath.split('.').at(-1)! : name || 'spec';
          return !rule.message?.includes(field);
        })
        .map((rule) => `${path}: ${rule.message ?? '(no message)'}`),
    );
    expect(unnamed).toEqual([]);
  });

  it('bounds every string a rule reads, so the API server can estimate the rule cost', () => {
    const unbounded = visits
      .filter(({ node }) => node.type === 'string' && node['x-kubernetes-validations'] && !node.enum)
      .filter(({ node }) => typeof node.maxLength !== 'number')
      .map(({ path }) => path);
    expect(unbounded).toEqual([]);
  });

  it('has a status subresource, the secretlink category and a short name', () => {
    const { names, versions } = crd.document.spec;
    expect(versions[0]!.subresources).toEqual({ status: {} });
    expect(names.categories).toEqual(['secretlink']);
    expect(names.shortNames).toHaveLength(1);
  });
});

describe('SecretStore and ClusterSecretStore', () => {
  /** Turns the ClusterSecretStore's "namespace required" rules into the SecretStore's "forbidden" ones. */
  function asNamespaced(node: SchemaNode): SchemaNode {
    const text = JSON.stringify(node).replace(
      /\{"rule":"has\(self\.namespace\)","message":"[^"]*","fieldPath":"\.namespace","reason":"FieldValueRequired"\}/g,
      JSON.stringify({
        rule: '!has(self.namespace)',
        message:
          'a SecretStore reads credentials only from its own namespace: remove namespace, or use a ClusterSecretStore',
        fieldPath: '.namespace',
        reason: 'FieldValueForbidden',
      }),
    );
    return JSON.parse(text) as SchemaNode;
  }

  /** The namespaced provider schema without its refusal of the operator's own identity. */
  function withoutAmbientRefusal(node: SchemaNode, cluster: SchemaNode): SchemaNode {
    const copy = JSON.parse(JSON.stringify(node)) as SchemaNode;
    for (const [provider, method] of [
      ['aws', 'defaultChain'],
      ['gcp', 'applicationDefault'],
    ] as const) {
      const auth = copy.properties![provider]!.properties!.auth!;
      const rules = auth['x-kubernetes-validations']!;
      const refusal = rules.findIndex((rule) => rule.rule === `!has(self.${method})`);
      expect(refusal).toBeGreaterThanOrEqual(0);
      rules.splice(refusal, 1);
      auth.properties![method]!.description =
        cluster.properties![provider]!.properties!.auth!.properties![method]!.description;
    }
    return copy;
  }

  it('describe providers the same way, except where credentials may live and the operator’s own identity', () => {
    const namespaced = crdFor('SecretStore').schema.properties!.spec!.properties!.provider!;
    const cluster = crdFor('ClusterSecretStore').schema.properties!.spec!.properties!.provider!;
    expect(JSON.stringify(cluster)).toContain('FieldValueRequired');
    expect(asNamespaced(cluster)).toEqual(withoutAmbientRefusal(namespaced, cluster));
  });

  it('report the same status', () => {
    expect(crdFor('ClusterSecretStore').schema.properties!.status).toEqual(
      crdFor('SecretStore').schema.properties!.status,
    );
  });

  it('require or refuse a namespace on every credential reference', () => {
    const references = (kind: string, rule: string) =>
      [...walk(crdFor(kind).schema)]
        .filter(({ node }) => node.properties?.namespace && node.properties.name)
        .filter(({ path }) => path.startsWith('spec.provider'))
        .map(({ path, node }) => [path, node['x-kubernetes-validations']?.some((r) => r.rule === rule)]);
    const namespaced = references('SecretStore', '!has(self.namespace)');
    expect(namespaced).toHaveLength(9);
    expect(namespaced.every(([, refused]) => refused)).toBe(true);
    const cluster = references('ClusterSecretStore', 'has(self.namespace)');
    expect(cluster).toHaveLength(9);
    expect(cluster.every(([, required]) => required)).toBe(true);
  });
});
