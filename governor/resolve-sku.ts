import type { Sku } from '../crds/index.ts';
import { applySkuLayer, emptyDraft, finalizeDraft, type Draft, type FinalEntitlements } from './draft.ts';
import type { CompileIssue } from './layers.ts';

export interface ResolvedSku {
  name: string;
  /** Root first, this SKU last. */
  chain: readonly string[];
  draft: Draft;
  /** Finalized once and shared by every tenant on this SKU without add-ons, overrides or grants. */
  final: FinalEntitlements;
}

export type SkuResolution = { ok: true; sku: ResolvedSku } | { ok: false; issue: CompileIssue; chain: readonly string[] };

/**
 * Resolves an SKU and its parents, root first, memoised in `memo` (one memo per policy generation;
 * the compiler drops entries whose chain changed). A missing parent or a cycle is an issue on `spec.extends`.
 */
export function resolveSku(name: string, skus: ReadonlyMap<string, Sku>, memo: Map<string, SkuResolution>): SkuResolution {
  return resolve(name, { skus, memo, stack: [] });
}

interface ResolveContext {
  skus: ReadonlyMap<string, Sku>;
  memo: Map<string, SkuResolution>;
  stack: string[];
}

function resolve(name: string, ctx: ResolveContext): SkuResolution {
  const cached = ctx.memo.get(name);
  if (cached) return cached;
  if (ctx.stack.includes(name)) {
    const cycle = [...ctx.stack.slice(ctx.stack.indexOf(name)), name];
    return { ok: false, chain: cycle, issue: { reason: 'InheritanceCycle', path: 'spec.extends', message: `SKU inheritance cycle: ${cycle.join(' → ')}; remove one extends` } };
  }
  const sku = ctx.skus.get(name);
  if (!sku) return { ok: false, chain: [name], issue: { reason: 'SKUNotFound', path: 'spec.extends', message: `SKU "${name}" not found` } };
  const result = resolveWithParent(sku, { ...ctx, stack: [...ctx.stack, name] });
  // Results computed inside a cycle depend on where it was entered: only memoise outside one.
  if (result.ok || result.issue.reason !== 'InheritanceCycle' || ctx.stack.length === 0) ctx.memo.set(name, result);
  return result;
}

function resolveWithParent(sku: Sku, ctx: ResolveContext): SkuResolution {
  const name = sku.metadata.name;
  let base: { chain: readonly string[]; draft: Draft } = { chain: [], draft: emptyDraft() };
  if (sku.spec.extends !== undefined) {
    const parent = resolve(sku.spec.extends, ctx);
    if (!parent.ok) {
      const issue = parent.issue.reason === 'SKUNotFound' && parent.chain.length === 1
        ? { ...parent.issue, message: `spec.extends names SKU "${sku.spec.extends}", which does not exist` }
        : { ...parent.issue, message: `parent SKU "${sku.spec.extends}" is not usable: ${parent.issue.message}` };
      return { ok: false, chain: [...parent.chain, name], issue };
    }
    base = parent.sku;
  }
  const draft = applySkuLayer(base.draft, sku.spec, `SKU/${name}`);
  return { ok: true, sku: { name, chain: [...base.chain, name], draft, final: finalizeDraft(draft) } };
}
