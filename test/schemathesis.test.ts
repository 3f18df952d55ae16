// Hostile but schema-aware input: Schemathesis (PyPI, installed by hack/schemathesis.sh) generates requests from
// the server's own /openapi.json — valid ones, invalid ones, unknown methods — against a real `tai serve
// --from config/samples` on a temporary log, and checks every answer against the document: no 5xx, status codes,
// content types, headers and bodies as documented, invalid data refused, 405 with Allow for other methods.
// Bounded: a fixed number of examples per operation (TAI_SCHEMATHESIS_EXAMPLES, default 30) and a fixed seed
// (TAI_SCHEMATHESIS_SEED, default 1) so a failure reproduces; every run prints how many cases it ran.
import test, { type ExecutionContext } from 'ava';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { startServe, stopServe } from './support/served.ts';

const ROOT = resolve(import.meta.dirname, '..');
const SAMPLES = join(ROOT, 'config/samples');
const EXAMPLES = Number(process.env.TAI_SCHEMATHESIS_EXAMPLES ?? 30);
const SEED = Number(process.env.TAI_SCHEMATHESIS_SEED ?? 1);
const run = promisify(execFile);

let st: string;
test.before(async (t) => {
  t.timeout(600_000, 'first run: pip installs schemathesis');
  st = (await run('bash', [join(ROOT, 'hack/schemathesis.sh')])).stdout.trim();
});

interface Outcome {
  code: number;
  output: string;
  /** Requests sent, from the HAR report. */
  requests: number;
  statuses: Map<number, number>;
  /** "Test cases: N generated" in the summary. */
  cases: number;
}

/** `st run` against the served document; exit code, its report and what the HAR file recorded. */
async function schemathesis(url: string, dir: string, extra: readonly string[] = []): Promise<Outcome> {
  const har = join(dir, 'schemathesis.har');
  const args = ['run', `${url}/openapi.json`, '--checks', 'all', '--max-examples', String(EXAMPLES), '--seed', String(SEED), '--workers', '2', '--generation-database', 'none', '--no-color', '--report', 'har', '--report-har-path', har, ...extra];
  const r = await run(st, args, { cwd: dir, maxBuffer: 64 * 1024 * 1024 }).then(
    (ok) => ({ code: 0, output: ok.stdout + ok.stderr }),
    (e: { code?: number; stdout?: string; stderr?: string }) => ({ code: e.code ?? -1, output: `${e.stdout ?? ''}${e.stderr ?? ''}` }),
  );
  const entries = (JSON.parse(await readFile(har, 'utf8')) as { log: { entries: { response: { status: number } }[] } }).log.entries;
  const statuses = new Map<number, number>();
  for (const e of entries) statuses.set(e.response.status, (statuses.get(e.response.status) ?? 0) + 1);
  const cases = Number(/Test cases:\s*\n\s*(\d+) generated/.exec(r.output)?.[1] ?? NaN);
  return { ...r, requests: entries.length, statuses, cases };
}

function judge(t: ExecutionContext, what: string, o: Outcome): void {
  const byStatus = [...o.statuses].sort(([a], [b]) => a - b).map(([s, n]) => `${s}×${n}`).join(' ');
  t.log(`${what}: schemathesis ran ${o.cases} cases (${o.requests} requests: ${byStatus}), seed ${SEED}, ${EXAMPLES} examples per operation`);
  t.true(o.cases > 100, `a run of some size: ${o.cases} cases`);
  t.deepEqual([...o.statuses.keys()].filter((s) => s >= 500), [], 'no 5xx');
  t.is(o.code, 0, o.output.split('\n').slice(-150).join('\n'));
  t.regex(o.output, new RegExp(`${o.cases} generated, ${o.cases} passed`));
}

test('without authentication (embedded, loopback): every answer is as the document says', async (t) => {
  t.timeout(180_000);
  const dir = await mkdtemp(join(tmpdir(), 'tai-schemathesis-'));
  const s = await startServe(['--from', SAMPLES, '--listen', '127.0.0.1:0', '--log', join(dir, 'log')]);
  try {
    judge(t, 'no auth', await schemathesis(s.url, dir));
  } finally {
    await stopServe(s);
  }
});

test('with bearer tokens (--token-file): the same, and /v1 without a token is 401', async (t) => {
  t.timeout(180_000);
  const dir = await mkdtemp(join(tmpdir(), 'tai-schemathesis-'));
  await writeFile(join(dir, 'tokens'), 'schemathesis-token,schemathesis,uid-1,"tai:callers"\n');
  const s = await startServe(['--from', SAMPLES, '--listen', '127.0.0.1:0', '--log', join(dir, 'log'), '--token-file', join(dir, 'tokens')]);
  try {
    judge(t, 'bearer tokens', await schemathesis(s.url, dir, ['--header', 'Authorization: Bearer schemathesis-token']));
  } finally {
    await stopServe(s);
  }
});
