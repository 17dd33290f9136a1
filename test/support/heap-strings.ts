// The strings of this process's heap, from a V8 heap snapshot, as whole texts: a snapshot names a plain
// string by its text (cut at --heap-snapshot-string-limit, which this lifts), but a concatenated string
// only as "(concatenated string)" with edges to its two halves, so a value split across halves (a body read
// in chunks) would be missed by a search of the file; these are joined back here. A sliced string's text is
// in its parent. Buffer and typed-array contents are not in a snapshot at all.
import { readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setFlagsFromString, writeHeapSnapshot } from 'node:v8';

interface Snapshot {
  snapshot: {
    meta: {
      node_fields: string[];
      node_types: [string[], ...unknown[]];
      edge_fields: string[];
    };
  };
  nodes: number[];
  edges: number[];
  strings: string[];
}

/** Takes a snapshot (after the collection it runs) and returns every string it holds, whole. */
export function heapStrings(): string[] {
  setFlagsFromString('--heap-snapshot-string-limit=1000000000');
  const file = writeHeapSnapshot(
    path.join(os.tmpdir(), `secretlink-${process.pid}-${Date.now()}.heapsnapshot`),
  );
  let snapshot: Snapshot;
  try {
    snapshot = JSON.parse(readFileSync(file, 'utf8')) as Snapshot;
  } finally {
    rmSync(file, { force: true });
  }
  const { meta } = snapshot.snapshot;
  const nodeWidth = meta.node_fields.length;
  const edgeWidth = meta.edge_fields.length;
  const typeAt = meta.node_fields.indexOf('type');
  const nameAt = meta.node_fields.indexOf('name');
  const edgeCountAt = meta.node_fields.indexOf('edge_count');
  const edgeNameAt = meta.edge_fields.indexOf('name_or_index');
  const edgeToAt = meta.edge_fields.indexOf('to_node');
  const types = meta.node_types[0];
  const plain = types.indexOf('string');
  const concatenated = types.indexOf('concatenated string');
  const { nodes, edges, strings } = snapshot;

  // Where each node's edges start.
  const firstEdge = new Map<number, number>();
  for (let node = 0, edge = 0; node < nodes.length; node += nodeWidth) {
    firstEdge.set(node, edge);
    edge += nodes[node + edgeCountAt]! * edgeWidth;
  }
  const joined = new Map<number, string>();
  const textOf = (start: number): string => {
    // Iterative, since a chain of concatenations can be deeper than the call stack.
    const stack: number[] = [start];
    while (stack.length > 0) {
      const node = stack[stack.length - 1]!;
      if (nodes[node + typeAt] !== concatenated || joined.has(node)) {
        stack.pop();
        continue;
      }
      const halves: number[] = [];
      const from = firstEdge.get(node)!;
      for (let edge = from; edge < from + nodes[node + edgeCountAt]! * edgeWidth; edge += edgeWidth) {
        const name = strings[edges[edge + edgeNameAt]!];
        if (name === 'first' || name === 'second') halves[name === 'first' ? 0 : 1] = edges[edge + edgeToAt]!;
      }
      const pending = halves.filter((half) => nodes[half + typeAt] === concatenated && !joined.has(half));
      if (pending.length > 0) {
        stack.push(...pending);
        continue;
      }
      const part = (half: number | undefined) =>
        half === undefined
          ? ''
          : nodes[half + typeAt] === concatenated
            ? joined.get(half)!
            : strings[nodes[half + nameAt]!]!;
      joined.set(node, part(halves[0]) + part(halves[1]));
      stack.pop();
    }
    return joined.get(start) ?? strings[nodes[start + nameAt]!]!;
  };

  const found: string[] = [];
  for (let node = 0; node < nodes.length; node += nodeWidth) {
    const type = nodes[node + typeAt];
    if (type === plain) found.push(strings[nodes[node + nameAt]!]!);
    else if (type === concatenated) found.push(textOf(node));
  }
  return found;
}
