/**
 * Clinic flame's samples (0x's ticks.json: one stack per V8 `--prof` tick, root first) as a CPU profile call
 * tree, so bench/profile-top.ts can print their top frames.
 *
 *   node bench/flame-ticks.ts .clinic/1234.clinic-flame/1234.clinic-flame-samples [count]
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { topFrames, type CpuProfile } from './profile-top.ts';

/** One frame of a tick. JS names read "fn url:line:col" (fn empty for anonymous code). */
export interface TickFrame {
  name: string;
  type: 'JS' | 'CODE' | 'CPP' | 'SHARED_LIB' | string;
  kind?: string;
}

/**
 * V8's --prof asks for a tick every 1 ms (--prof-sampling-interval, 1000 µs) but gets fewer (about one per 1.4 ms
 * here), and the ticks carry no times: callers that know the process's wall time pass the measured interval.
 */
const NOMINAL_TICK_MS = 1;

type CallFrame = CpuProfile['nodes'][number]['callFrame'];

function callFrameOf(f: TickFrame): CallFrame {
  if (f.type === 'SHARED_LIB') return { functionName: `(native ${basename(f.name)})`, url: '', lineNumber: -1 };
  const m = f.type === 'JS' ? /^(.*?) ?(\S+):(\d+):\d+$/.exec(f.name) : null;
  if (!m) return { functionName: f.kind ? `${f.name} [${f.kind}]` : f.name, url: '', lineNumber: -1 };
  return { functionName: m[1]!, url: m[2]!, lineNumber: Number(m[3]) - 1 };
}

const keyOf = (c: CallFrame): string => `${c.functionName}\0${c.url}\0${c.lineNumber}`;

/** The call tree of the ticks; consecutive identical frames (native code calling itself) count once. */
export function ticksToProfile(ticks: TickFrame[][], msPerTick = NOMINAL_TICK_MS): CpuProfile {
  const root = { id: 1, callFrame: { functionName: '(root)', url: '', lineNumber: -1 }, hitCount: 0, children: [] as number[] };
  const nodes = [root];
  const childIndex = new Map<string, (typeof nodes)[number]>();
  const samples: number[] = [];
  for (const stack of ticks) {
    let node = root;
    let lastKey = '';
    for (const frame of stack) {
      const callFrame = callFrameOf(frame);
      const key = keyOf(callFrame);
      if (key === lastKey) continue;
      lastKey = key;
      const indexKey = `${node.id}\0${key}`;
      let child = childIndex.get(indexKey);
      if (!child) {
        child = { id: nodes.length + 1, callFrame, hitCount: 0, children: [] };
        nodes.push(child);
        node.children.push(child.id);
        childIndex.set(indexKey, child);
      }
      node = child;
    }
    node.hitCount++;
    samples.push(node.id);
  }
  return { nodes, startTime: 0, endTime: ticks.length * msPerTick * 1000, samples };
}

/** Reads a clinic flame samples file. */
export function readTicks(file: string): TickFrame[][] {
  return JSON.parse(readFileSync(file, 'utf8')) as TickFrame[][];
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [file, count] = process.argv.slice(2);
  if (file === undefined) {
    console.error('usage: node bench/flame-ticks.ts DIR/NAME.clinic-flame-samples [count]');
    process.exit(2);
  }
  console.log(topFrames(ticksToProfile(readTicks(file)), count === undefined ? 15 : Number(count)));
}
