import type { TaiResource } from '../crds/index.ts';
import { CompiledPolicy, Governor, PolicyCompiler, type CompiledTenant } from '../governor/index.ts';
import { createApp } from './app.ts';

/** The HTTP app over these resources at a fixed instant, with unexpected errors collected for assertions. */
export function appOver(resources: readonly TaiResource[], opts: { now: number; maxBodyBytes?: number }) {
  const compiler = new PolicyCompiler();
  compiler.apply({ upsert: resources }, opts.now);
  const clock = { now: () => opts.now };
  const policy = new CompiledPolicy(compiler);
  const errors: unknown[] = [];
  const app = createApp({
    decisions: new Governor({ policy, clock }),
    tenant: (n) => policy.tenant(n, clock.now()),
    readiness: () => ({ ready: true, generation: 1, tenants: compiler.snapshot.tenants.size, problems: 0, staleMs: 0, source: 'test' }),
    onError: (e) => errors.push(e),
    ...(opts.maxBodyBytes === undefined ? {} : { maxBodyBytes: opts.maxBodyBytes }),
  });
  return { app, errors, tenant: (n: string): CompiledTenant | undefined => policy.tenant(n, opts.now) };
}
