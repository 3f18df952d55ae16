import { pathText, resourceKey, toSafeNumbers, validateResource, type PolicyError, type SourcedResource } from './manifests.ts';
import { isRecord } from './manifests.ts';

/**
 * Validates an object read from the Kubernetes API as a TAI resource, with the same schema as a YAML file.
 * Errors are placed at `Kind/name` in the cluster (there is no file), with the field path.
 */
export function parseApiObject(value: unknown): { resource: SourcedResource } | { errors: PolicyError[] } {
  const file = isRecord(value) && isRecord(value.metadata) ? `${textOf(value.kind)}/${textOf(value.metadata.name)}` : 'object';
  const problems: PolicyError[] = [];
  const safe = toSafeNumbers(withoutServerFields(value), [], (path, message) => problems.push({ file, path: pathText(path), message }));
  if (problems.length > 0) return { errors: problems };
  const parsed = validateResource(safe, { file });
  if ('errors' in parsed) return parsed;
  return { resource: { ...parsed.resource, source: { file: resourceKey(parsed.resource.resource) } } };
}

/** The object without `status`, `managedFields` and `resourceVersion`: a status write must not look like a policy change. */
function withoutServerFields(value: unknown): unknown {
  if (!isRecord(value) || !isRecord(value.metadata)) return value;
  const { status: _status, ...rest } = value;
  const { managedFields: _managed, resourceVersion: _version, ...metadata } = value.metadata;
  return { ...rest, metadata };
}

/**
 * A field that should be text, for a message; anything else (an object with a hostile toString) as its type,
 * and text with a lone surrogate by its JSON escape (messages are recorded in admission receipts).
 */
function textOf(value: unknown): string {
  if (typeof value !== 'string') return `(${typeof value})`;
  return value.isWellFormed() ? value : JSON.stringify(value).slice(1, -1);
}
