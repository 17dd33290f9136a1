// The one place the operator reaches into a private module of @kubernetes/client-node. The package decodes
// what its typed clients return with ObjectSerializer (dates as Date, camelCase fields) but does not export
// it (2.x exports only loadYaml, which would parse every watch event as YAML). Watch events and list pages
// arrive here as plain JSON, so the informers decode them with the same serializer to give every cached object
// the shape the typed clients give. If an upgrade moves or exports it, only this file changes.
import { ObjectSerializer } from '@kubernetes/client-node/dist/serializer.js';

/** Decodes plain JSON as the client-node model `model` ("V1Job", "V1ObjectMeta"), as a typed client would. */
export function decodeAsModel(json: unknown, model: string): unknown {
  return ObjectSerializer.deserialize(json, model);
}
