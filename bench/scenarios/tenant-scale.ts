import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Preset } from '../presets.ts';
import type { Figure } from '../types.ts';

const CHILD = fileURLToPath(new URL('./tenant-scale-child.ts', import.meta.url));

/** Node flags for a child: a forceable GC for heap figures, and room for a million tenants. */
export const CHILD_FLAGS = ['--expose-gc', '--max-old-space-size=12288'];

/**
 * Compile time, heap per tenant and one-change recompile time at each tenant count, each count in a fresh
 * `node --expose-gc` process. Calls `onFigures` as each count finishes, so the table prints while running.
 */
export function tenantScaleScenario(preset: Preset, log: (line: string) => void, onFigures: (f: Figure[]) => void): Figure[] {
  const all: Figure[] = [];
  for (const n of preset.tenantCounts) {
    log(`tenant-scale: ${n} tenants (child process)`);
    const child = spawnSync(process.execPath, [...CHILD_FLAGS, CHILD, '--tenants', String(n), '--preset', preset.name], {
      stdio: ['ignore', 'pipe', 'inherit'],
      encoding: 'utf8',
      maxBuffer: 16 * 1024 * 1024,
    });
    if (child.status !== 0) throw new Error(`tenant-scale child for ${n} tenants failed (exit ${child.status ?? child.signal})`);
    const figures = JSON.parse(child.stdout.trim().split('\n').at(-1)!) as Figure[];
    onFigures(figures);
    all.push(...figures);
  }
  return all;
}
