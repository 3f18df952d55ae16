import type { PolicySource } from './governor.ts';
import type { PolicyCompiler } from './policy-compiler.ts';
import type { CompiledTenant } from './types.ts';

/**
 * The governor's view of a compiler: the current snapshot, refreshed when a time-boxed Quota starts or ends.
 * The refresh check is one comparison, so it sits on the decision path.
 */
export class CompiledPolicy implements PolicySource {
  readonly #compiler: PolicyCompiler;

  constructor(compiler: PolicyCompiler) {
    this.#compiler = compiler;
  }

  tenant(name: string, now: number): CompiledTenant | undefined {
    return this.#compiler.refresh(now).tenants.get(name);
  }
}
