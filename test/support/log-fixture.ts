// Test support for the `tai log` tests: a receipt log published to a temporary folder in the same layout
// `tai serve` writes (DIR/log/{checkpoint,tile/…}, DIR/signing.key, DIR/signing.key.pub), built in memory with
// the production chain, tile builder and checkpoint signer, so tests can grow it and keep old checkpoints.
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import {
  ReceiptChain,
  TileBuilder,
  admissionBody,
  decisionBody,
  generateNoteKey,
  lifecycleBody,
  reconcileBody,
  signCheckpoint,
  thresholdBody,
  type ChainedEntry,
  type ReceiptBody,
  type ReceiptKind,
} from '../../receipts/index.ts';

/** 2027-01-15T08:00:00Z in microseconds: entry i is written at FIXTURE_T0 + i seconds. */
export const FIXTURE_T0 = 1_800_000_000_000_000;
export const FIXTURE_ORIGIN = 'test.tai.dev/log';
/** A tenant name CSV must quote: a comma and a double quote. */
export const AWKWARD_TENANT = 'Acme, "Intl" Ltd';

const TENANTS = ['acme', 'globex', AWKWARD_TENANT, 'initech'];

/** Entry i of the fixture: mostly decisions, every 50th a threshold, entry 0 a lifecycle start. */
export function fixtureEntry(i: number): { kind: ReceiptKind; body: ReceiptBody } {
  if (i === 0) return { kind: 'lifecycle', body: lifecycleBody({ event: 'start', version: '0.1.0' }) };
  const tenant = TENANTS[i % TENANTS.length]!;
  if (i % 50 === 0) return { kind: 'threshold', body: thresholdBody({ tenant, metric: 'api-calls', threshold: 80, percent: 81, used: 81, limit: 100, windowStart: null }) };
  const allowed = i % 3 !== 0;
  const body = decisionBody({ tenant, op: 'consume', subject: 'api-calls', amount: 1, allowed, reason: allowed ? 'Allowed' : 'QuotaExceeded', used: i, limit: 1000 });
  return { kind: 'decision', body };
}

/**
 * Entry i of a log with every kind of receipt (the audit report's fixture): as {@link fixtureEntry}, but every
 * 97th entry from 5 is a policy change (reconcile) of a tenant, every 7th from 4 an admission review (every
 * third of them of an object outside any tenant, every fifth denied), and every 1000th from 999 a governor stop
 * followed by a start.
 */
export function mixedFixtureEntry(i: number): { kind: ReceiptKind; body: ReceiptBody } {
  const tenant = TENANTS[i % TENANTS.length]!;
  if (i % 1000 === 999) return { kind: 'lifecycle', body: lifecycleBody({ event: 'stop', version: '0.1.0' }) };
  if (i % 1000 === 0 && i > 0) return { kind: 'lifecycle', body: lifecycleBody({ event: 'start', version: '0.1.0' }) };
  if (i % 97 === 5) {
    const specDigest = createHash('sha256').update(`spec ${i}`).digest('hex');
    const patch = { features: { sso: i % 2 === 0, 'max-projects': i, ratio: 0.5 }, quotas: i % 3 === 0 ? null : { 'api-calls': { limit: 1000 + i } } };
    return { kind: 'reconcile', body: reconcileBody({ resource: `Tenant/${tenant}`, generation: 1 + Math.floor(i / 97), specDigest, patch }) };
  }
  if (i % 7 === 4) {
    const allowed = i % 5 !== 0;
    const body = admissionBody({
      uid: `uid-${i}`,
      operation: 'CREATE',
      resource: '/v1/pods',
      namespace: `ns-${i % 3}`,
      name: `pod-${i}`,
      tenant: i % 3 === 0 ? undefined : tenant,
      allowed,
      reason: allowed ? 'Allowed' : 'ResourceCapExceeded',
      dryRun: false,
      reserved: allowed,
    });
    return { kind: 'admission', body };
  }
  return fixtureEntry(i);
}

/** A log under construction and its folder; `publish()` writes what changed and a signed checkpoint. */
export class FixtureLog {
  readonly dir: string;
  readonly logDir: string;
  readonly signerKey: string;
  readonly verifierKey: string;
  readonly origin: string;
  readonly entries: ChainedEntry[] = [];
  readonly #chain = new ReceiptChain();
  readonly #tiles = new TileBuilder();

  constructor(opts: { dir: string; seed: number; origin: string }) {
    this.dir = opts.dir;
    this.logDir = join(opts.dir, 'log');
    this.origin = opts.origin;
    const key = generateNoteKey(opts.origin, new Uint8Array(32).fill(opts.seed));
    this.signerKey = key.signerKey;
    this.verifierKey = key.verifierKey;
  }

  get keyPath(): string {
    return join(this.dir, 'signing.key');
  }

  /** Appends entries `fixtureEntry(size)` … until the log has `size` entries (or `make(i)` ones). */
  grow(size: number, make: (i: number) => { kind: ReceiptKind; body: ReceiptBody } = fixtureEntry): this {
    for (let i = this.entries.length; i < size; i++) {
      const { kind, body } = make(i);
      const e = this.#chain.append(kind, body, FIXTURE_T0 + i * 1_000_000);
      this.#tiles.add(e);
      this.entries.push(e);
    }
    return this;
  }

  /** Writes new tiles and bundles, then the checkpoint; returns the checkpoint note. */
  async publish(): Promise<string> {
    for (const f of this.#tiles.drain()) await put(join(this.logDir, f.path), f.bytes);
    const note = signCheckpoint({ origin: this.origin, size: this.entries.length, root: this.#chain.root() }, this.signerKey);
    await put(join(this.logDir, 'checkpoint'), note);
    return note;
  }
}

async function put(path: string, data: Uint8Array | string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, data);
}

/** A new fixture log in a fresh temporary folder, its signer key at DIR/signing.key and DIR/signing.key.pub. */
export async function fixtureLog(opts: { seed?: number; origin?: string } = {}): Promise<FixtureLog> {
  const dir = await mkdtemp(join(tmpdir(), 'tai-log-'));
  const log = new FixtureLog({ dir, seed: opts.seed ?? 7, origin: opts.origin ?? FIXTURE_ORIGIN });
  await put(log.keyPath, `${log.signerKey}\n`);
  await put(`${log.keyPath}.pub`, `${log.verifierKey}\n`);
  return log;
}

/** Runs `tai` in process, as cli.test.ts does. */
export async function runTai(argv: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const { main } = await import('../../cli/tai.ts');
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out, err };
}
