/**
 * One tenant count of the tenant-scale scenario, in its own process so the heap holds nothing else and a
 * full GC can be forced (run with --expose-gc). Prints the figures as JSON on stdout; progress on stderr.
 *
 *   node --expose-gc bench/scenarios/tenant-scale-child.ts --tenants 100000 --preset quick
 */
import { parseArgs } from 'node:util';
import { PRESETS, type Preset } from '../presets.ts';
import { canCollect } from '../measure.ts';
import { tenantScaleFigures } from './tenant-scale-measure.ts';

const { values } = parseArgs({ options: { tenants: { type: 'string' }, preset: { type: 'string', default: 'quick' } } });
const tenants = Number(values.tenants);
const preset: Preset | undefined = PRESETS[values.preset as Preset['name']];
if (!Number.isSafeInteger(tenants) || tenants < 1 || preset === undefined) {
  process.stderr.write('usage: node --expose-gc bench/scenarios/tenant-scale-child.ts --tenants N [--preset quick|full]\n');
  process.exit(2);
}
if (!canCollect) process.stderr.write('tenant-scale: warning: no --expose-gc, heap figures include garbage\n');
const figures = tenantScaleFigures(tenants, preset, (line) => process.stderr.write(`tenant-scale ${tenants}: ${line}\n`));
process.stdout.write(`${JSON.stringify(figures)}\n`);
