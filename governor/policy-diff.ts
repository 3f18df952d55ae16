import type { SourcedResource } from '../crds/index.ts';
import type { PolicyChange } from './policy-compiler.ts';
import { runSteps, type Steps } from './steps.ts';

/** The change that turns `before` into `after` (both by `Kind/name`): only resources whose content differs. */
export function diffResources(
  before: ReadonlyMap<string, SourcedResource>,
  after: ReadonlyMap<string, SourcedResource>,
): Required<PolicyChange> {
  return runSteps(diffingResources(before, after));
}

/** `diffResources` as steps (see steps.ts), a yield after every resource compared, for `runInSlices`. */
export function* diffingResources(before: ReadonlyMap<string, SourcedResource>, after: ReadonlyMap<string, SourcedResource>): Steps<Required<PolicyChange>> {
  const upsert = [];
  for (const [key, r] of after) {
    const old = before.get(key);
    if (!old || JSON.stringify(old.resource) !== JSON.stringify(r.resource)) upsert.push(r.resource);
    yield;
  }
  const remove = [];
  for (const key of before.keys()) {
    if (!after.has(key)) remove.push(key);
    yield;
  }
  return { upsert, remove };
}
