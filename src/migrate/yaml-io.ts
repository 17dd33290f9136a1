// Multi-document YAML in and out, with the YAML support @kubernetes/client-node already ships (js-yaml):
// a runtime dependency, so the command needs nothing the image lacks. Its loadAllYaml fails on empty
// documents (a trailing `---`, a comment-only document), so documents are split here first.
import { dumpYaml, loadAllYaml } from '@kubernetes/client-node';

/** A line that starts a new document: `---` at column 0, optionally followed by content or a comment. */
const documentStart = /^---(?=\s|$)/;

export function parseDocuments(source: string): unknown[] {
  const chunks: string[][] = [[]];
  for (const line of source.split(/\r?\n/)) {
    if (documentStart.test(line)) chunks.push([line.slice(3)]);
    else chunks.at(-1)!.push(line);
  }
  return chunks
    .map((lines) => lines.join('\n'))
    .filter((chunk) =>
      chunk
        .split('\n')
        .some((line) => line.trim() !== '' && !line.trim().startsWith('#') && line.trim() !== '...'),
    )
    .flatMap((chunk) => loadAllYaml(chunk));
}

const consumersPlaceholder = /^(\s*)consumers: \{\}$/m;

/** Renders the manifests as one multi-document YAML stream, marking each consumers placeholder. */
export function renderDocuments(manifests: readonly object[]): string {
  return manifests
    .map((manifest) =>
      dumpYaml(manifest, { lineWidth: -1, noRefs: true }).replace(
        consumersPlaceholder,
        (line, indent: string) =>
          `${indent}# FILL IN: which Jobs may use this Secret (matchLabels/matchExpressions over the Job's pod labels,\n` +
          `${indent}# optionally serviceAccountNames). The API server refuses this object until it selects by a label.\n${line}`,
      ),
    )
    .map((text) => `---\n${text}`)
    .join('');
}
