import type { SourcedResource } from '../crds/index.ts';
import type { PolicyChange } from './policy-compiler.ts';

/** The change that turns `before` into `after` (both by `Kind/name`): only resources whose content differs. */
export function diffResources(
  before: ReadonlyMap<string, SourcedResource>,
  after: ReadonlyMap<string, SourcedResource>,
): Required<PolicyChange> {
  const upsert = [];
  for (const [key, r] of after) {
    const old = before.get(key);
    if (!old || JSON.stringify(old.resource) !== JSON.stringify(r.resource)) upsert.push(r.resource);
  }
  const remove = [...before.keys()].filter((key) => !after.has(key));
  return { upsert, remove };
}

/** Resources compared between two pauses of `diffResourcesInSlices`. */
const RESOURCES_PER_SLICE = 2000;

/** `diffResources` with `pause` (a turn of the event loop) after every RESOURCES_PER_SLICE resources compared. */
export async function diffResourcesInSlices(
  before: ReadonlyMap<string, SourcedResource>,
  after: ReadonlyMap<string, SourcedResource>,
  pause: () => Promise<void>,
): Promise<Required<PolicyChange>> {
  const upsert = [];
  let compared = 0;
  for (const [key, r] of after) {
    if (++compared % RESOURCES_PER_SLICE === 0) await pause();
    const old = before.get(key);
    if (!old || JSON.stringify(old.resource) !== JSON.stringify(r.resource)) upsert.push(r.resource);
  }
  const remove = [...before.keys()].filter((key) => !after.has(key));
  return { upsert, remove };
}
