/**
 * Top frames of a V8 CPU profile (`node --cpu-prof` or bench/profile.ts), by self and by total time.
 *
 *   node bench/profile-top.ts /tmp/prof/CPU.*.cpuprofile [count]
 */
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

/** The fields of a .cpuprofile this tool reads. */
export interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
}

export interface FrameTime {
  frame: string;
  selfMs: number;
  totalMs: number;
}

const ROOT = fileURLToPath(new URL('..', import.meta.url));

function frameName(n: ProfileNode): string {
  const { functionName, url, lineNumber } = n.callFrame;
  const file = url.startsWith('file://') ? relative(ROOT, fileURLToPath(url)) : url;
  return `${functionName || '(anonymous)'}${file ? ` ${file}:${lineNumber + 1}` : ''}`;
}

/**
 * Self and total (inclusive) ms per frame. A sample counts once in a frame's total however often the frame is on
 * its stack, so recursive frames (module linking, a parser) stay within the profile's length.
 */
export function frameTimes(p: CpuProfile): FrameTime[] {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const samples = p.samples?.length ?? p.nodes.reduce((s, n) => s + (n.hitCount ?? 0), 0);
  const msPerHit = samples === 0 ? 0 : (p.endTime - p.startTime) / 1000 / samples;
  const frames = new Map<string, FrameTime>();
  const onStack = new Map<string, number>();
  const visit = (id: number): number => {
    const node = byId.get(id)!;
    const name = frameName(node);
    const f = frames.get(name) ?? { frame: name, selfMs: 0, totalMs: 0 };
    frames.set(name, f);
    f.selfMs += (node.hitCount ?? 0) * msPerHit;
    const depth = onStack.get(name) ?? 0;
    onStack.set(name, depth + 1);
    const hits = (node.hitCount ?? 0) + (node.children ?? []).reduce((s, c) => s + visit(c), 0);
    onStack.set(name, depth);
    if (depth === 0) f.totalMs += hits * msPerHit;
    return hits;
  };
  visit(p.nodes[0]!.id);
  return [...frames.values()];
}

/** A printable table of the `count` heaviest frames by self time, then by total time. */
export function topFrames(p: CpuProfile, count = 15): string {
  const frames = frameTimes(p);
  const wallMs = (p.endTime - p.startTime) / 1000;
  const row = (f: FrameTime): string => `${f.selfMs.toFixed(1).padStart(9)} ${f.totalMs.toFixed(1).padStart(9)}  ${f.frame}`;
  const head = `   self ms  total ms  frame   (profile ${wallMs.toFixed(0)} ms)`;
  const bySelf = [...frames].sort((a, b) => b.selfMs - a.selfMs).slice(0, count).map(row);
  const byTotal = [...frames].sort((a, b) => b.totalMs - a.totalMs).slice(0, count).map(row);
  return [`by self time\n${head}`, ...bySelf, `\nby total time\n${head}`, ...byTotal].join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [file, count] = process.argv.slice(2);
  if (file === undefined) {
    console.error('usage: node bench/profile-top.ts FILE.cpuprofile [count]');
    process.exit(2);
  }
  console.log(topFrames(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile, count === undefined ? 15 : Number(count)));
}
