// Turns a CRD's openAPIV3Schema into a standalone JSON Schema, so a manifest can be checked with no API server
// (kubeconform, editors). Objects refuse undeclared fields as `kubectl apply` does; CEL rules cannot be
// expressed in JSON Schema and are left to the API server.
import type { CrdFile, SchemaNode } from './crd-files.ts';

export type JsonSchema = Record<string, unknown>;

export function toJsonSchema(crd: CrdFile): JsonSchema {
  const { group, versions } = crd.document.spec;
  const root = convert(crd.schema);
  const properties = root.properties as Record<string, JsonSchema>;
  properties.apiVersion = { ...properties.apiVersion, enum: [`${group}/${versions[0]!.name}`] };
  properties.kind = { ...properties.kind, enum: [crd.kind] };
  properties.metadata = metadataSchema;
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    title: `${crd.kind} (${group}/${versions[0]!.name})`,
    ...root,
    required: ['apiVersion', 'kind', 'metadata', ...((root.required as string[] | undefined) ?? [])],
  };
}

function convert(node: SchemaNode): JsonSchema {
  const out: JsonSchema = {};
  for (const [keyword, value] of Object.entries(node)) {
    // Kubernetes extensions and formats that JSON Schema validators do not know are left out.
    if (keyword.startsWith('x-kubernetes-') || (keyword === 'format' && value !== 'date-time')) continue;
    if (keyword === 'properties') {
      out.properties = Object.fromEntries(
        Object.entries(value as Record<string, SchemaNode>).map(([name, child]) => [name, convert(child)]),
      );
    } else if (keyword === 'items' || (keyword === 'additionalProperties' && typeof value === 'object')) {
      out[keyword] = convert(value as SchemaNode);
    } else {
      out[keyword] = value;
    }
  }
  if (node.type === 'object' && node.properties && node.additionalProperties === undefined) {
    out.additionalProperties = false;
  }
  return out;
}

/** Custom resources get no metadata schema from their CRD; a name is what every sample must have. */
const metadataSchema: JsonSchema = {
  type: 'object',
  required: ['name'],
  properties: { name: { type: 'string', minLength: 1, maxLength: 253 } },
};
