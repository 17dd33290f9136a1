// crds/ is what the API server enforces; types.ts is what the operator's code compiles against. The compiler
// holds type-shapes.ts to types.ts; this test holds type-shapes.ts to crds/, so neither can drift alone.
import { describe, expect, it } from 'vitest';
import { crdFor, readCrds, type SchemaNode, schemaAt } from '../../test/support/crd-files.ts';
import { type FieldShape, resourceShapes, type ShapeData } from '../../test/support/type-shapes.ts';
import { apiVersion, defaults, group, kinds, plurals, version } from './constants.ts';

/** The API machinery requires these at the root even though the CRD schema does not list them. */
const implicitlyRequired = new Set(['apiVersion', 'kind', 'metadata']);

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
    const child = node.properties![field]!;
    const fieldShape = shape.fields[field] as FieldShape;
    const [presence, nested] = typeof fieldShape === 'string' ? [fieldShape, undefined] : fieldShape;
    const schemaRequired = (node.required ?? []).includes(field) || (root && implicitlyRequired.has(field));
    if (schemaRequired !== (presence === 'required')) {
      mismatches.push({
        path: `${path}.${field}`,
        problem: `${schemaRequired ? 'required' : 'optional'} in the CRD but ${presence} in types.ts`,
      });
    }
    const objectNode = child.type === 'array' ? child.items : child;
    const hasFields = objectNode?.properties !== undefined;
    if (hasFields && nested) mismatches.push(...compare(objectNode!, nested, `${path}.${field}`));
    else if (hasFields !== (nested !== undefined)) {
      mismatches.push({
        path: `${path}.${field}`,
        problem: hasFields
          ? 'an object in the CRD but a plain value in types.ts'
          : 'a plain value in the CRD',
      });
    }
  }
  return mismatches;
}

describe('types.ts and crds/', () => {
  it.each(Object.keys(resourceShapes))(
    'declare the same fields for %s, with the same required ones',
    (kind) => {
      expect(compare(crdFor(kind).schema, resourceShapes[kind]!, kind, true)).toEqual([]);
    },
  );

  it('finds a field that only the CRD has', () => {
    const crd = crdFor('SecretReference').schema;
    const widened = structuredClone(crd);
    schemaAt(widened, 'spec.storeRef').properties!.namespace = { type: 'string', description: 'x' };
    expect(compare(widened, resourceShapes.SecretReference!, 'SecretReference', true)).toEqual([
      { path: 'SecretReference.spec.storeRef.namespace', problem: 'in the CRD but not in types.ts' },
    ]);
  });

  it('finds a field whose optionality differs', () => {
    const crd = structuredClone(crdFor('SecretReference').schema);
    schemaAt(crd, 'spec.data[]').required = ['key'];
    expect(compare(crd, resourceShapes.SecretReference!, 'SecretReference', true)).toEqual([
      { path: 'SecretReference.spec.data.remote', problem: 'optional in the CRD but required in types.ts' },
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
