import { parseManifests, resourceKey, type ParsedManifests, type PolicyError, type SourcedResource } from './manifests.ts';

/** One file's text, as read by the caller. */
export interface ManifestFile {
  file: string;
  text: string;
}

/** Resources by `Kind/name`, each from the file that last defined it well, per file. */
export type ManifestState = ReadonlyMap<string, ReadonlyMap<string, SourcedResource>>;

export interface ManifestLoad {
  state: ManifestState;
  /** Every resource of the set, by `Kind/name`. */
  resources: ReadonlyMap<string, SourcedResource>;
  errors: PolicyError[];
}

/** Files a folder may hold that are not TAI resources (kustomize, Argo CD). */
export function isManifestFile(name: string): boolean {
  return /\.(ya?ml|json)$/.test(name) && !/^(kustomization|kustomizeconfig)\.ya?ml$/.test(name.split('/').at(-1) ?? '');
}

/**
 * Loads a set of files over the previous state. A file with errors keeps the resources it last defined well
 * (overlaid by the documents that are valid now), so a bad save never takes policy away; a resource defined
 * in two files is an error on the second.
 */
export function loadManifestSet(files: readonly ManifestFile[], previous: ManifestState = new Map()): ManifestLoad {
  return assembleManifestSet(
    sortedFiles(files).map(({ file, text }) => ({ file, parsed: parseManifests(text, file) })),
    previous,
  );
}

/** The files in the order a set is loaded (by name). */
export function sortedFiles(files: readonly ManifestFile[]): ManifestFile[] {
  return [...files].sort((a, b) => a.file.localeCompare(b.file));
}

/** `loadManifestSet` from files parsed already (in `sortedFiles` order), e.g. in slices (manifest-slices.ts). */
export function assembleManifestSet(files: ReadonlyArray<{ file: string; parsed: ParsedManifests }>, previous: ManifestState = new Map()): ManifestLoad {
  const state = new Map<string, ReadonlyMap<string, SourcedResource>>();
  const errors: PolicyError[] = [];
  for (const { file, parsed } of files) {
    errors.push(...parsed.errors);
    const mine = new Map(parsed.errors.length > 0 ? (previous.get(file) ?? []) : []);
    for (const r of parsed.resources) mine.set(resourceKey(r.resource), r);
    state.set(file, mine);
  }
  const resources = new Map<string, SourcedResource>();
  for (const mine of state.values()) {
    for (const [key, r] of mine) {
      const first = resources.get(key);
      if (!first) resources.set(key, r);
      else errors.push({ ...r.source, path: 'metadata.name', resource: key, message: `${key} is already defined at ${first.source.file}:${first.source.line ?? 1}; rename one of them` });
    }
  }
  return { state, resources, errors };
}
