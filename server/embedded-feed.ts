import { EmbeddedPolicy, type LoadReport } from './embedded-policy.ts';
import type { CommandIO } from './io.ts';
import type { FeedFactory } from './policy-feed.ts';

/**
 * Embedded mode's feed: the folder, loaded at start and reloaded on every save — and, with `pollMs`, re-read
 * that often for mounts whose changes raise no events (Cloud Storage FUSE, NFS).
 */
export function folderFeed(dir: string, opts: { pollMs?: number } = {}): FeedFactory {
  return ({ compiler, clock, io }) => {
    const policy = new EmbeddedPolicy({ dir, compiler, clock });
    let unwatch = (): void => undefined;
    return {
      description: `embedded, policy from ${dir}, watching for changes${opts.pollMs ? ` and re-reading every ${opts.pollMs / 1000} s` : ''}`,
      async start() {
        printReport(await policy.load(), io);
        unwatch = policy.watch(
          (report) => printReport(report, io),
          (error) => io.err(`tai: reload failed, the last good state keeps serving: ${(error as Error).stack ?? String(error)}`),
          { pollMs: opts.pollMs, onUnwatchable: (message) => io.err(`tai: ${message}`) },
        );
      },
      async stop() {
        unwatch();
      },
      readiness: () => policy.readiness(),
      problems: () => policy.problems,
      tenantResource: (name) => policy.tenantResource(name),
    };
  };
}

function printReport(r: LoadReport, io: CommandIO): void {
  io.out(`tai: policy generation ${r.snapshot.generation}: ${r.counts.SKU} SKUs, ${r.counts.Tenant} tenants, ${r.counts.Quota} quotas (${r.changed} changed)`);
  for (const p of r.problems) io.err(`tai: ${p}`);
  if (r.problems.length > 0) io.err(`tai: ${r.problems.length} problem(s): the last good state of the affected resources keeps serving`);
}
