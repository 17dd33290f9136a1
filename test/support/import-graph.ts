// The import graph of the operator's shipped source, read from its import statements, and the two rules it
// must keep: layers (the generic runtime knows nothing of the domain; shipped code never reaches into tests)
// and no import cycle. Type-only imports count: a cycle of types is still two files that cannot be read apart.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

/** File (relative to the repository, with forward slashes) -> files it imports from the repository. */
export type ImportGraph = Map<string, string[]>;

const specifierPattern = /\bfrom\s+['"](\.{1,2}\/[^'"]+)['"]|\bimport\s*\(?\s*['"](\.{1,2}\/[^'"]+)['"]/g;

/** Relative imports of one file, resolved to repository paths. */
export function importsOf(file: string, text: string): string[] {
  const found = new Set<string>();
  for (const match of text.matchAll(specifierPattern)) {
    const specifier = match[1] ?? match[2];
    if (specifier) found.add(path.posix.normalize(path.posix.join(path.posix.dirname(file), specifier)));
  }
  return [...found];
}

/** The graph of every shipped (non-test) TypeScript file under `dir` of the repository at `root`. */
export function readImportGraph(root: string, dir = 'src'): ImportGraph {
  const graph: ImportGraph = new Map();
  const visit = (relative: string) => {
    for (const entry of readdirSync(path.join(root, relative), { withFileTypes: true })) {
      const child = path.posix.join(relative, entry.name);
      if (entry.isDirectory()) visit(child);
      else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts'))
        graph.set(child, importsOf(child, readFileSync(path.join(root, child), 'utf8')));
    }
  };
  visit(dir);
  return graph;
}

/** Folders of src that the generic runtime must not import: it serves them, never the other way round. */
const aboveRuntime = ['src/controller/', 'src/providers/', 'src/audit/', 'src/api/', 'src/migrate/'];

/** Imports that break a layer rule, one line each: `from -> to: why`. */
export function layerViolations(graph: ImportGraph): string[] {
  const violations: string[] = [];
  for (const [from, imports] of graph) {
    for (const to of imports) {
      if (from.startsWith('src/runtime/') && aboveRuntime.some((folder) => to.startsWith(folder)))
        violations.push(`${from} -> ${to}: the runtime imports the domain`);
      if (from.startsWith('src/') && to.startsWith('test/'))
        violations.push(`${from} -> ${to}: shipped code imports test code`);
    }
  }
  return violations;
}

/** Every import cycle, as the files in it (strongly connected components of more than one file, or a self-import). */
export function importCycles(graph: ImportGraph): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  let next = 0;
  const connect = (file: string) => {
    index.set(file, next);
    low.set(file, next);
    next += 1;
    stack.push(file);
    onStack.add(file);
    for (const to of graph.get(file) ?? []) {
      if (!graph.has(to)) continue;
      if (!index.has(to)) {
        connect(to);
        low.set(file, Math.min(low.get(file)!, low.get(to)!));
      } else if (onStack.has(to)) low.set(file, Math.min(low.get(file)!, index.get(to)!));
    }
    if (low.get(file) !== index.get(file)) return;
    const component: string[] = [];
    let member: string;
    do {
      member = stack.pop()!;
      onStack.delete(member);
      component.push(member);
    } while (member !== file);
    if (component.length > 1 || graph.get(file)?.includes(file)) cycles.push(component.sort());
  };
  for (const file of graph.keys()) if (!index.has(file)) connect(file);
  return cycles;
}
