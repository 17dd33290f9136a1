// The install objects of config/default as kustomize renders them: the one source the chart, the release
// manifest and their tests are made from.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { parseAllDocuments } from 'yaml';

const exec = promisify(execFile);

// biome-ignore lint/suspicious/noExplicitAny: manifests of many kinds, read field by field.
export type KubeObject = Record<string, any> & {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    [key: string]: unknown;
  };
};

/** `kubectl kustomize <dir>` with the given kubectl, run from the repository root. */
export async function kustomize(kubectl: string, repoRoot: string, dir = 'config/default'): Promise<string> {
  const { stdout } = await exec(kubectl, ['kustomize', dir], { cwd: repoRoot, maxBuffer: 32 * 1024 * 1024 });
  return stdout;
}

/** Every non-empty document of a multi-document YAML stream. */
export function parseObjects(yaml: string): KubeObject[] {
  return parseAllDocuments(yaml)
    .map((document) => document.toJS() as KubeObject | null)
    .filter((object): object is KubeObject => object !== null && typeof object === 'object');
}

/** kind/namespace/name, the identity two renderings are compared by. */
export function objectKey(object: KubeObject): string {
  return `${object.kind}/${object.metadata.namespace ?? ''}/${object.metadata.name}`;
}
