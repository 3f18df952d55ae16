import { EXIT, parseCommandArgs, stringOption, UsageError, type Command } from './io.ts';
import { hostname } from 'node:os';
import type { Durability } from '../receipts/store/index.ts';
import { startEmbedded, type EmbeddedOptions } from './embedded-server.ts';
import { isLoopback, parseListen } from './listen.ts';

/** Flags of design §7 that later parts of TAI implement; refused with a clear message until then. */
const NOT_YET: Record<string, string> = {
  kubeconfig: 'cluster mode (the operator) is not in this build yet; use --from DIR',
  'tls-cert': 'TLS is not in this build yet',
  'tls-key': 'TLS is not in this build yet',
  gcs: 'GCS anchoring is not in this build yet',
  'gcs-endpoint': 'GCS anchoring is not in this build yet',
};

export const serveCommand: Command = {
  name: 'serve',
  summary: 'run the governor: decision API and health endpoints, every decision recorded',
  usage: `Usage: tai serve --from DIR [--listen HOST:PORT] [--log DIR] [--durability sync|async]

Embedded mode: loads SKU, Tenant and Quota YAML from DIR, watches it (a saved edit is enforced within a
second; a broken file is reported with file, line and field path while the last good state keeps serving)
and answers the decision API: POST /v1/check, /v1/consume, /v1/rate, /v1/batch,
GET /v1/tenants/NAME/entitlements[?explain=1], /healthz, /readyz.
Every decision and every change of a tenant's effective entitlements is a receipt in the log; answers carry
{index, leafHash}. Usage and idempotency keys are rebuilt from the log at start.
Options:
  --from DIR            folder of policy YAML (embedded mode)
  --listen HOST:PORT    where to listen (default 127.0.0.1:8080; embedded mode is loopback only)
  --log DIR             the receipt log (default ./.tai/log)
  --durability MODE     sync (default): answer after the receipt is on disk; async: answer at once,
                        written within 50 ms
  --key PATH            checkpoint signing key, a signed-note signer key (default ./.tai/signing.key,
                        made on first start; its verifier key is printed and written to PATH.pub)
  --origin NAME         the log's checkpoint origin (default tai.dev/embedded/HOSTNAME)
  --state-every N       entries between saves of LOG/state.json, which bounds replay at start (default 10000)
The log is published in the C2SP tlog-tiles layout in the --log folder and at GET /log/checkpoint, /log/tile/….
Planned, refused for now: --kubeconfig, --tls-cert, --tls-key, --gcs, --gcs-endpoint.`,
  async run(argv, io) {
    const planned = Object.fromEntries(Object.keys(NOT_YET).map((k) => [k, { type: 'string' as const }]));
    const { values, positionals } = parseCommandArgs(argv, {
      from: { type: 'string' },
      listen: { type: 'string' },
      log: { type: 'string' },
      durability: { type: 'string' },
      key: { type: 'string' },
      origin: { type: 'string' },
      'state-every': { type: 'string' },
      ...planned,
    });
    if (values.help) return (io.out(this.usage), EXIT.ok);
    const options = serveOptions(values, positionals);
    const stopped = waitForSignal(); // before listening, so a signal during start-up still stops cleanly
    const running = await startEmbedded({ ...options, clock: { now: () => Date.now() }, io });
    await stopped;
    await running.stop();
    return EXIT.ok;
  },
};

/** Checks the flags; every mistake is a UsageError naming the flag. */
function serveOptions(values: Record<string, unknown>, positionals: string[]): Omit<EmbeddedOptions, 'clock' | 'io'> {
  for (const [flag, why] of Object.entries(NOT_YET)) if (values[flag] !== undefined) throw new UsageError(`--${flag}: ${why}`);
  if (positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}`);
  const from = stringOption(values, 'from');
  if (!from) throw new UsageError('--from DIR is required (cluster mode is not in this build yet)');
  const listen = parseListen(stringOption(values, 'listen') ?? '127.0.0.1:8080');
  if (!isLoopback(listen.host)) throw new UsageError(`--listen: embedded mode serves loopback only (127.0.0.1, ::1), not ${listen.host}`);
  return { from, listen, durability: durabilityOf(values), ...logOptions(values) };
}

function logOptions(values: Record<string, unknown>): Pick<EmbeddedOptions, 'logDir' | 'keyPath' | 'origin' | 'stateEvery'> {
  return {
    logDir: stringOption(values, 'log') ?? '.tai/log',
    keyPath: stringOption(values, 'key') ?? '.tai/signing.key',
    origin: stringOption(values, 'origin') ?? `tai.dev/embedded/${hostname()}`,
    stateEvery: positiveInteger(values, 'state-every') ?? 10_000,
  };
}

function positiveInteger(values: Record<string, unknown>, flag: string): number | undefined {
  const text = stringOption(values, flag);
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 1) throw new UsageError(`--${flag}: expected a whole number ≥ 1, got ${JSON.stringify(text)}`);
  return n;
}

function durabilityOf(values: Record<string, unknown>): Durability {
  const durability = stringOption(values, 'durability') ?? 'sync';
  if (durability !== 'sync' && durability !== 'async') throw new UsageError(`--durability: expected sync or async, got ${JSON.stringify(durability)}`);
  return durability;
}

function waitForSignal(): Promise<void> {
  return new Promise((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
}
