import test from 'ava';
import { resolve } from 'node:path';
import { findCycles, importGraph, type ImportGraph } from '../hack/import-graph.ts';

const ROOT = resolve(import.meta.dirname, '..');

test('no two files of the repository import each other, directly or through others', (t) => {
  const graph = importGraph(ROOT);
  t.true(graph.size > 300, `the graph should hold the whole repository, got ${graph.size} files`);
  t.true((graph.get('operator/operator.ts') ?? []).includes('operator/informer.ts'), 'imports are resolved to files');
  const cycles = findCycles(graph);
  t.deepEqual(cycles.map((c) => c.join(' -> ')), [], 'import cycles');
});

test('the check names a cycle through several files, type imports included, and a file importing itself', (t) => {
  const graph: ImportGraph = new Map([
    ['cli/audit/audit-fold.ts', ['cli/audit/audit-model.ts', 'cli/audit/outcome-tally.ts']],
    ['cli/audit/audit-model.ts', ['cli/audit/audit-fold.ts']],
    ['cli/audit/outcome-tally.ts', ['cli/audit/audit-model.ts']],
    ['a.ts', ['a.ts', 'b.ts']],
    ['b.ts', []],
  ]);
  t.deepEqual(findCycles(graph), [
    ['cli/audit/audit-fold.ts', 'cli/audit/audit-model.ts', 'cli/audit/audit-fold.ts'],
    ['a.ts', 'a.ts'],
  ]);
});

test('type-only and re-export lines count as imports', (t) => {
  const graph = importGraph(ROOT);
  // `import type { Readiness } from '../readiness/index.ts'` and `export * from './readiness.ts'`.
  t.true((graph.get('operator/operator.ts') ?? []).includes('readiness/index.ts'));
  t.true((graph.get('readiness/index.ts') ?? []).includes('readiness/readiness.ts'));
});
