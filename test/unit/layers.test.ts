// The shape of the shipped source, checked on every test run: the generic runtime stays apart from the
// domain, shipped code never imports tests, and no two files import each other, directly or round a loop.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  type ImportGraph,
  importCycles,
  importsOf,
  layerViolations,
  readImportGraph,
} from '../support/import-graph.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const graph = readImportGraph(root);

describe('the layers of src', () => {
  it('has a runtime that imports nothing of the domain, and shipped code that imports no test code', () => {
    expect(graph.size).toBeGreaterThan(50);
    expect([...graph.keys()].some((file) => file.startsWith('src/runtime/'))).toBe(true);
    expect(layerViolations(graph)).toEqual([]);
  });

  it('has no import cycle, type-only imports included', () => {
    expect(importCycles(graph)).toEqual([]);
  });

  it('catches a runtime file that imports the controller, and shipped code that imports a test helper', () => {
    const broken: ImportGraph = new Map([
      ['src/runtime/workqueue.ts', ['src/controller/plan.ts']],
      ['src/controller/plan.ts', ['src/runtime/clock.ts']],
      ['src/runtime/clock.ts', []],
      ['src/operator.ts', ['test/support/cluster.ts']],
    ]);
    expect(layerViolations(broken)).toEqual([
      'src/runtime/workqueue.ts -> src/controller/plan.ts: the runtime imports the domain',
      'src/operator.ts -> test/support/cluster.ts: shipped code imports test code',
    ]);
  });

  it('catches a cycle of two files, a longer loop and a file that imports itself', () => {
    const broken: ImportGraph = new Map([
      ['src/a.ts', ['src/b.ts']],
      ['src/b.ts', ['src/a.ts', 'src/c.ts']],
      ['src/c.ts', []],
      ['src/d.ts', ['src/e.ts']],
      ['src/e.ts', ['src/f.ts']],
      ['src/f.ts', ['src/d.ts']],
      ['src/g.ts', ['src/g.ts']],
    ]);
    expect(importCycles(broken)).toEqual([
      ['src/a.ts', 'src/b.ts'],
      ['src/d.ts', 'src/e.ts', 'src/f.ts'],
      ['src/g.ts'],
    ]);
  });

  it('reads type-only, re-exported, multi-line and dynamic imports, relative to the importing file', () => {
    const text = [
      "import type { Clock } from './clock.ts';",
      "export type { ResourceKind } from '../runtime/resource-list.ts';",
      'import {\n  a,\n  b,\n} from "./plan.ts";',
      "const lazy = await import('../api/types.ts');",
      "import pino from 'pino';",
    ].join('\n');
    expect(importsOf('src/controller/x.ts', text).sort()).toEqual([
      'src/api/types.ts',
      'src/controller/clock.ts',
      'src/controller/plan.ts',
      'src/runtime/resource-list.ts',
    ]);
  });
});
