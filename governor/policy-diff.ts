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
