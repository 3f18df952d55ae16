import { TENANT_LABEL } from '../../governor/index.ts';
import { objectUsage, record, type CountedResource } from './object-usage.ts';
import { addInto, type ResourceVector } from './resource-vector.ts';

/** The identity and content of a Kubernetes object as the ledger reads it. */
export interface LedgerObject {
  metadata: { name: string; namespace?: string | undefined; labels?: Record<string, string> | undefined; deletionTimestamp?: string | undefined; resourceVersion?: string | undefined };
  [field: string]: unknown;
}

interface Entry {
  namespace: string;
  usage: ResourceVector;
  resourceVersion: string | undefined;
}

/**
 * What the cluster holds of everything a cap counts, per namespace, fed by the informers' changes. Pure
 * bookkeeping: totals are kept incrementally, so a tenant's usage is a sum over its namespaces, not over its
 * objects. Namespace labels are kept too, with an index by the `tai.dev/tenant` label.
 */
export class ResourceLedger {
  readonly #objects = new Map<string, Entry>();
  readonly #totals = new Map<string, ResourceVector>();
  readonly #labels = new Map<string, Readonly<Record<string, string>>>();
  readonly #byTenantLabel = new Map<string, Set<string>>();

  /** An object added or changed. A terminating namespace no longer counts (its objects do until they are gone). */
  upsert(resource: CountedResource, object: LedgerObject): void {
    this.remove(resource, object);
    const { metadata } = object;
    if (resource === 'namespaces') {
      if (metadata.deletionTimestamp) return;
      this.#setLabels(metadata.name, metadata.labels ?? {});
    }
    const namespace = resource === 'namespaces' ? metadata.name : (metadata.namespace ?? '');
    const usage = objectUsage(resource, object as Record<string, unknown>);
    this.#objects.set(objectKey(resource, namespace, metadata.name), { namespace, usage, resourceVersion: metadata.resourceVersion });
    addInto(this.#totalsOf(namespace), usage);
  }

  remove(resource: CountedResource, object: LedgerObject): void {
    const { metadata } = object;
    const namespace = resource === 'namespaces' ? metadata.name : (metadata.namespace ?? '');
    const key = objectKey(resource, namespace, metadata.name);
    const entry = this.#objects.get(key);
    if (resource === 'namespaces') this.#setLabels(metadata.name, undefined);
    if (!entry) return;
    this.#objects.delete(key);
    addInto(this.#totalsOf(entry.namespace), entry.usage, -1);
  }

  /** The resourceVersion the ledger holds for an object, or undefined when it holds none. */
  versionOf(key: string): string | undefined {
    return this.#objects.get(key)?.resourceVersion;
  }

  has(key: string): boolean {
    return this.#objects.has(key);
  }

  /** What a namespace's objects use now. */
  totals(namespace: string): ReadonlyMap<string, number> {
    return this.#totals.get(namespace) ?? new Map();
  }

  /** Labels of a live namespace, or undefined when there is none by that name. */
  labels(namespace: string): Readonly<Record<string, string>> | undefined {
    return this.#labels.get(namespace);
  }

  /** Live namespaces with their labels. */
  namespaces(): IterableIterator<[string, Readonly<Record<string, string>>]> {
    return this.#labels.entries();
  }

  /** Live namespaces labelled `tai.dev/tenant: <tenant>`. */
  labelledFor(tenant: string): ReadonlySet<string> {
    return this.#byTenantLabel.get(tenant) ?? new Set();
  }

  #totalsOf(namespace: string): ResourceVector {
    let t = this.#totals.get(namespace);
    if (!t) this.#totals.set(namespace, (t = new Map()));
    return t;
  }

  #setLabels(namespace: string, labels: Record<string, string> | undefined): void {
    const before = this.#labels.get(namespace)?.[TENANT_LABEL];
    if (before !== undefined) this.#byTenantLabel.get(before)?.delete(namespace);
    if (labels === undefined) {
      this.#labels.delete(namespace);
      return;
    }
    const text = Object.fromEntries(Object.entries(record(labels)).filter(([, v]) => typeof v === 'string')) as Record<string, string>;
    this.#labels.set(namespace, text);
    const after = text[TENANT_LABEL];
    if (after === undefined) return;
    let set = this.#byTenantLabel.get(after);
    if (!set) this.#byTenantLabel.set(after, (set = new Set()));
    set.add(namespace);
  }
}

/** `pods/team-a/web-1`; namespaces as `namespaces/<name>/<name>`. */
export function objectKey(resource: string, namespace: string, name: string): string {
  return `${resource}/${namespace}/${name}`;
}
