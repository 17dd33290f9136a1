// Summarizes a V8 CPU profile (`node --cpu-prof`): self time by area (a source file of the project, a
// package, Node's internals, the garbage collector, idle) and by function, as markdown tables.
// Usage as a script: node bench/cpu-profile.ts <file.cpuprofile>
import { readFileSync } from 'node:fs';
import path from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export function summarizeProfile(text: string, root: string, top = 15): string {
  const profile = JSON.parse(text) as Profile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const self = new Map<number, number>();
  let total = 0;
  profile.samples.forEach((id, index) => {
    const delta = profile.timeDeltas[index] ?? 0;
    self.set(id, (self.get(id) ?? 0) + delta);
    total += delta;
  });
  const byArea = new Map<string, number>();
  const byFunction = new Map<string, number>();
  for (const [id, micros] of self) {
    const frame = byId.get(id)!.callFrame;
    const where = area(frame.url, frame.functionName, root);
    byArea.set(where, (byArea.get(where) ?? 0) + micros);
    const name = `${frame.functionName || '(anonymous)'} ${where}${frame.url ? `:${frame.lineNumber + 1}` : ''}`;
    byFunction.set(name, (byFunction.get(name) ?? 0) + micros);
  }
  const busy = total - (byArea.get('(idle)') ?? 0);
  const table = (title: string, entries: Map<string, number>) =>
    [
      `| ${title} | self time | of all samples | of busy time |`,
      '| --- | ---: | ---: | ---: |',
      ...[...entries]
        .sort((a, b) => b[1] - a[1])
        .slice(0, top)
        .map(
          ([name, micros]) =>
            `| ${name.replaceAll('|', '\\|')} | ${(micros / 1000).toFixed(0)} ms | ${((100 * micros) / total).toFixed(1)} % | ` +
            `${name === '(idle)' ? '' : `${((100 * micros) / busy).toFixed(1)} %`} |`,
        ),
    ].join('\n');
  return [
    `Profile of ${(total / 1e6).toFixed(1)} s, of which ${(busy / 1e6).toFixed(1)} s busy (not idle).`,
    '',
    table('area', byArea),
    '',
    table('function (area:line)', new Map([...byFunction].filter(([name]) => !name.startsWith('(idle)')))),
  ].join('\n');
}

function area(url: string, functionName: string, root: string): string {
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  if (url.startsWith('node:')) return 'node internals';
  const file = url.startsWith('file://') ? new URL(url).pathname : url;
  const modules = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(file);
  if (modules) return modules[1]!;
  return path.relative(root, file);
}

if (import.meta.main) {
  const file = process.argv[2];
  if (!file) throw new Error('usage: node bench/cpu-profile.ts <file.cpuprofile>');
  console.log(summarizeProfile(readFileSync(file, 'utf8'), path.resolve(import.meta.dirname, '..')));
}
