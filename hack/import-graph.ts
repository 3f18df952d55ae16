// The import graph of the repository's own .ts files, and its cycles. `node hack/import-graph.ts` prints every
// cycle between files (exit 1 if there is one); test/import-cycles.test.ts runs the same check in the suite.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';

/** Folders that hold no source of ours (dependencies, build output, generated or measured data). */
const SKIP = new Set(['node_modules', 'dist', '.tai', '.git', 'results', 'config', 'testdata']);

/** File (relative to the root, `/`-separated) → the files of ours it imports, statically, by type or dynamically. */
export type ImportGraph = Map<string, string[]>;

/** Every .ts file under `root`, and the relative imports of each (resolved to files under `root`). */
export function importGraph(root: string): ImportGraph {
  const graph: ImportGraph = new Map();
  for (const file of tsFiles(root, root)) {
    const info = ts.preProcessFile(readFileSync(join(root, file), 'utf8'), true, true);
    const targets = info.importedFiles
      .map((f) => f.fileName)
      .filter((spec) => spec.startsWith('./') || spec.startsWith('../'))
      .map((spec) => relative(root, resolve(root, dirname(file), spec)).split('\\').join('/'));
    graph.set(file, [...new Set(targets)]);
  }
  return graph;
}

function tsFiles(root: string, dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (SKIP.has(entry.name)) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...tsFiles(root, path));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) out.push(relative(root, path).split('\\').join('/'));
  }
  return out.sort();
}

/**
 * The cycles of a graph: each strongly connected component of more than one file (or a file importing itself),
 * as one path through it that returns to its start, e.g. `['a.ts', 'b.ts', 'a.ts']`. Tarjan's algorithm.
 */
export function findCycles(graph: ImportGraph): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, index.size);
    low.set(v, index.get(v)!);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const component: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      component.push(w);
    } while (w !== v);
    if (component.length > 1 || (graph.get(v) ?? []).includes(v)) components.push(component);
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return components.map((c) => cycleThrough(graph, new Set(c)));
}

/** A shortest path from the component's first file (by name) back to itself, staying inside the component. */
function cycleThrough(graph: ImportGraph, component: Set<string>): string[] {
  const start = [...component].sort()[0]!;
  const previous = new Map<string, string>();
  const queue = [start];
  while (queue.length > 0) {
    const v = queue.shift()!;
    for (const w of graph.get(v) ?? []) {
      if (!component.has(w)) continue;
      if (w === start) return [...pathTo(previous, v, start), start];
      if (!previous.has(w)) {
        previous.set(w, v);
        queue.push(w);
      }
    }
  }
  return [start];
}

function pathTo(previous: Map<string, string>, end: string, start: string): string[] {
  const path = [end];
  while (path[0] !== start) path.unshift(previous.get(path[0]!)!);
  return path;
}

if (import.meta.main) {
  const cycles = findCycles(importGraph(resolve(import.meta.dirname, '..')));
  for (const c of cycles) console.log(`import cycle: ${c.join(' -> ')}`);
  process.exitCode = cycles.length > 0 ? 1 : 0;
}
