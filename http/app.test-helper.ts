import type { TaiResource } from '../crds/index.ts';
import { CompiledPolicy, Governor, PolicyCompiler, type CompiledTenant } from '../governor/index.ts';
import type { ReceiptLog } from '../receipts/store/index.ts';
import { createApp } from './app.ts';
import { RecordedGovernor, recordThreshold } from '../recording/recorded-governor.ts';

/**
 * The HTTP app over these resources at a fixed instant, with unexpected errors collected for assertions. With
 * `log`, decisions and threshold crossings are recorded in it as the server records them (so input a receipt
 * cannot hold shows up), and `state()` tells what a refused request must not change.
 */
export function appOver(resources: readonly TaiResource[], opts: { now: number; maxBodyBytes?: number; log?: ReceiptLog }) {
  const compiler = new PolicyCompiler();
  compiler.apply({ upsert: resources }, opts.now);
  const clock = { now: () => opts.now };
  const policy = new CompiledPolicy(compiler);
  const errors: unknown[] = [];
  const { log } = opts;
  const governor = new Governor({ policy, clock, ...(log ? { onThreshold: (e) => recordThreshold(log, e) } : {}) });
  const app = createApp({
    decisions: log ? new RecordedGovernor(governor, log) : governor,
    tenant: (n) => policy.tenant(n, clock.now()),
    readiness: () => ({ ready: true, generation: 1, tenants: compiler.snapshot.tenants.size, problems: 0, staleMs: 0, source: 'test' }),
    onError: (e) => errors.push(e),
    ...(opts.maxBodyBytes === undefined ? {} : { maxBodyBytes: opts.maxBodyBytes }),
  });
  /** Entries, usage cells and remembered keys, as one comparable text. */
  const state = (): string => JSON.stringify([log?.size, [...governor.usage.cells()], [...governor.idempotency.entries(opts.now)].map((e) => [e.tenant, e.key])]);
  return { app, errors, governor, state, tenant: (n: string): CompiledTenant | undefined => policy.tenant(n, opts.now) };
}
