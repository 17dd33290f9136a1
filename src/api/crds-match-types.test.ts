// crds/ is what the API server enforces; types.ts is what the operator's code compiles against. This test reads
// both (types.ts through the TypeScript compiler's own API) and holds one against the other, so neither can
// drift alone and there is no third copy of the API to keep in step.
import { beforeAll, describe, expect, it } from 'vitest';
import { crdFor, readCrds, type SchemaNode, schemaAt } from '../../test/support/crd-files.ts';
import { type FieldShape, readDeclaredShapes, type ShapeData } from '../../test/support/declared-shapes.ts';
import { apiVersion, defaults, group, kinds, plurals, version } from './constants.ts';

/** The API machinery requires these at the root even though the CRD schema does not list them. */
const implicitlyRequired = new Set(['apiVersion', 'kind', 'metadata']);

const schemaTypes: Record<FieldShape['type'], string[]> = {
  string: ['string'],
  number: ['integer', 'number'],
  boolean: ['boolean'],
  object: ['object'],
};

interface Mismatch {
  path: string;
  problem: string;
}

function compare(node: SchemaNode, shape: ShapeData, path: string, root = false): Mismatch[] {
  const mismatches: Mismatch[] = [];
  const schemaFields = Object.keys(node.properties ?? {}).sort();
  const typeFields = Object.keys(shape.fields).sort();
  for (const field of schemaFields.filter((f) => !typeFields.includes(f))) {
    mismatches.push({ path: `${path}.${field}`, problem: 'in the CRD but not in types.ts' });
  }
  for (const field of typeFields.filter((f) => !schemaFields.includes(f))) {
    mismatches.push({ path: `${path}.${field}`, problem: 'in types.ts but not in the CRD' });
  }
  for (const field of schemaFields.filter((f) => typeFields.includes(f))) {
    const fieldPath = `${path}.${field}`;
    const declared = shape.fields[field]!;
    const child = node.properties![field]!;
    const schemaRequired = (node.required ?? []).includes(field) || (root && implicitlyRequired.has(field));
    if (schemaRequired !== (declared.presence === 'required')) {
      mismatches.push({
        path: fieldPath,
        problem: `${schemaRequired ? 'required' : 'optional'} in the CRD but ${declared.presence} in types.ts`,
      });
    }
    if ((child.type === 'array') !== declared.list) {
      mismatches.push({ path: fieldPath, problem: `${declared.list ? 'not ' : ''}a list in the CRD` });
      continue;
    }
    const item = (declared.list ? child.items : child) ?? {};
    if (!schemaTypes[declared.type].includes(item.type ?? '')) {
      mismatches.push({
        path: fieldPath,
        problem: `${item.type} in the CRD but ${declared.type} in types.ts`,
      });
      continue;
    }
    if (!(root && implicitlyRequired.has(field)))
      mismatches.push(...compareValues(item, declared, fieldPath));
    const hasFields = item.properties !== undefined;
    if (hasFields && declared.shape) mismatches.push(...compare(item, declared.shape, fieldPath));
    else if (hasFields !== (declared.shape !== undefined)) {
      mismatches.push({
        path: fieldPath,
        problem: hasFields
          ? 'an object in the CRD but a plain value in types.ts'
          : 'a plain value in the CRD',
      });
    }
  }
  return mismatches;
}

/** types.ts may accept any string where the CRD lists values; where it lists values itself, they must agree. */
function compareValues(node: SchemaNode, declared: FieldShape, path: string): Mismatch[] {
  if (!declared.values) return [];
  const inTypes = [...declared.values].sort();
  const inCrd = (node.enum ?? []).map((value) => value as string | number).sort();
  if (JSON.stringify(inTypes) === JSON.stringify(inCrd)) return [];
  const crdText = node.enum ? inCrd.join(', ') : 'any value';
  return [{ path, problem: `allows ${crdText} in the CRD but ${inTypes.join(', ')} in types.ts` }];
}

const kindsToCompare = ['SecretStore', 'ClusterSecretStore', 'SecretReference'] as const;
let declared: Record<string, ShapeData>;
beforeAll(() => {
  declared = readDeclaredShapes(kindsToCompare);
});

describe('types.ts and crds/', () => {
  it.each(kindsToCompare)(
    'declare the same fields for %s, with the same required ones, types and values',
    (kind) => {
      expect(compare(crdFor(kind).schema, declared[kind]!, kind, true)).toEqual([]);
    },
  );

  it('finds a field that only the CRD has', () => {
    const widened = structuredClone(crdFor('SecretReference').schema);
    schemaAt(widened, 'spec.storeRef').properties!.namespace = { type: 'string', description: 'x' };
    expect(compare(widened, declared.SecretReference!, 'SecretReference', true)).toEqual([
      { path: 'SecretReference.spec.storeRef.namespace', problem: 'in the CRD but not in types.ts' },
    ]);
  });

  it('finds a field whose optionality, type or allowed values differ', () => {
    const crd = structuredClone(crdFor('SecretReference').schema);
    schemaAt(crd, 'spec.data[]').required = ['key'];
    schemaAt(crd, 'spec.ttl').type = 'integer';
    schemaAt(crd, 'spec.storeRef.kind').enum = ['SecretStore'];
    expect(compare(crd, declared.SecretReference!, 'SecretReference', true)).toEqual([
      { path: 'SecretReference.spec.data.remote', problem: 'optional in the CRD but required in types.ts' },
      {
        path: 'SecretReference.spec.storeRef.kind',
        problem: 'allows SecretStore in the CRD but ClusterSecretStore, SecretStore in types.ts',
      },
      { path: 'SecretReference.spec.ttl', problem: 'integer in the CRD but string in types.ts' },
    ]);
  });
});

describe('constants.ts and crds/', () => {
  it('name the group, version, kinds and plurals the CRDs serve', () => {
    const served = readCrds().map((crd) => ({
      group: crd.document.spec.group,
      version: crd.document.spec.versions[0]!.name,
      kind: crd.kind,
      plural: crd.plural,
      name: crd.document.metadata.name,
    }));
    expect(apiVersion).toBe(`${group}/${version}`);
    expect(served).toEqual(
      expect.arrayContaining(
        (Object.keys(kinds) as (keyof typeof kinds)[]).map((key) => ({
          group,
          version,
          kind: kinds[key],
          plural: plurals[key],
          name: `${plurals[key]}.${group}`,
        })),
      ),
    );
    expect(served).toHaveLength(Object.keys(kinds).length);
  });

  it('give the same defaults as the CRDs', () => {
    const reference = crdFor('SecretReference').schema;
    const store = crdFor('SecretStore').schema;
    expect({
      ttl: schemaAt(reference, 'spec.ttl').default,
      refreshInterval: schemaAt(reference, 'spec.refreshInterval').default,
      storeKind: schemaAt(reference, 'spec.storeRef.kind').default,
      targetType: schemaAt(reference, 'spec.target.type').default,
      templateMergePolicy: schemaAt(reference, 'spec.target.template.mergePolicy').default,
      vaultKvMount: schemaAt(store, 'spec.provider.vault.kv.mount').default,
      vaultKvVersion: schemaAt(store, 'spec.provider.vault.kv.version').default,
      vaultKubernetesMountPath: schemaAt(store, 'spec.provider.vault.auth.kubernetes.mountPath').default,
      vaultAppRoleMountPath: schemaAt(store, 'spec.provider.vault.auth.appRole.mountPath').default,
    }).toEqual(defaults);
  });
});
