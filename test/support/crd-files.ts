// Reads the CustomResourceDefinitions in crds/, so tests can compare them with the TypeScript types, convert
// them for offline validation and walk their schemas.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';

export const crdsDir = path.resolve(import.meta.dirname, '..', '..', 'crds');

/** The parts of an OpenAPI v3 schema node (apiextensions JSONSchemaProps) that the CRDs use. */
export interface SchemaNode {
  type?: string;
  description?: string;
  properties?: Record<string, SchemaNode>;
  additionalProperties?: SchemaNode | boolean;
  items?: SchemaNode;
  required?: string[];
  default?: unknown;
  enum?: unknown[];
  'x-kubernetes-validations'?: { rule: string; message?: string; fieldPath?: string; reason?: string }[];
  [keyword: string]: unknown;
}

export interface CrdFile {
  file: string;
  kind: string;
  plural: string;
  scope: 'Namespaced' | 'Cluster';
  schema: SchemaNode;
  document: CrdDocument;
}

interface CrdDocument {
  metadata: { name: string };
  spec: {
    group: string;
    scope: 'Namespaced' | 'Cluster';
    names: { kind: string; plural: string; singular: string; shortNames?: string[]; categories?: string[] };
    versions: {
      name: string;
      served: boolean;
      storage: boolean;
      schema: { openAPIV3Schema: SchemaNode };
      subresources?: { status?: object };
      additionalPrinterColumns?: { name: string; type: string; jsonPath: string; priority?: number }[];
    }[];
  };
}

export function readCrds(): CrdFile[] {
  return readdirSync(crdsDir)
    .filter((file) => file.endsWith('.yaml'))
    .sort()
    .map((file) => {
      const document = parse(readFileSync(path.join(crdsDir, file), 'utf8')) as CrdDocument;
      const version = document.spec.versions[0]!;
      return {
        file,
        kind: document.spec.names.kind,
        plural: document.spec.names.plural,
        scope: document.spec.scope,
        schema: version.schema.openAPIV3Schema,
        document,
      };
    });
}

export function crdFor(kind: string): CrdFile {
  const crd = readCrds().find((candidate) => candidate.kind === kind);
  if (!crd) throw new Error(`no CRD for ${kind} in ${crdsDir}`);
  return crd;
}

/** The schema node at a dotted path below `schema`; `[]` steps into array items, e.g. `spec.data[].key`. */
export function schemaAt(schema: SchemaNode, fieldPath: string): SchemaNode {
  let node = schema;
  for (const step of fieldPath.split('.')) {
    const name = step.endsWith('[]') ? step.slice(0, -2) : step;
    const child = node.properties?.[name];
    if (!child) throw new Error(`the schema has no field ${fieldPath} (stopped at ${step})`);
    node = step.endsWith('[]') ? child.items! : child;
  }
  return node;
}
