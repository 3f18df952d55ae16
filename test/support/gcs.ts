import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Storage, type StorageOptions } from '@google-cloud/storage';

/** A GCS emulator (fake-gcs-server) started by hack/gcs-up.sh: where it listens, and a real client for it. */
export interface Gcs {
  dir: string;
  url: string;
  port: number;
  backend: GcsBackend;
  env: Record<string, string>;
  /** A real `@google-cloud/storage` client pointed at the emulator (no credentials); `options` override. */
  storage(options?: StorageOptions): Storage;
}

/** memory: objects live in the process and die with it; filesystem: they are kept in `<dir>/data` across restarts. */
export type GcsBackend = 'memory' | 'filesystem';

const ROOT = resolve(import.meta.dirname, '../..');

/**
 * Brings up (or reuses) the emulator whose state lives in `dir` (default: .tai/gcs). Idempotent: a running one is
 * reused; after `gcsStop` it starts again on the same port. Without `backend`, a restart keeps the one it had
 * (memory the first time); a developer's TAI_GCS_BACKEND does not leak in.
 */
export async function gcsUp(dir = join(ROOT, '.tai/gcs'), opts: { backend?: GcsBackend } = {}): Promise<Gcs> {
  const env: Record<string, string | undefined> = { TAI_GCS_DIR: dir, TAI_GCS_BACKEND: opts.backend };
  await run('bash', [join(ROOT, 'hack/gcs-up.sh')], env);
  const saved = await readEnv(dir);
  const url = saved.TAI_GCS_URL!;
  return {
    dir,
    url,
    port: Number(saved.TAI_GCS_PORT),
    backend: saved.TAI_GCS_BACKEND as GcsBackend,
    env: saved,
    storage: (options = {}) => emulatorClient(url, options),
  };
}

/**
 * The client configuration for the emulator: a custom `apiEndpoint` with `useAuthWithCustomEndpoint: false` (the
 * default, spelled out) sends no Authorization header and never looks for Application Default Credentials, for
 * JSON API calls and for resumable uploads alike. STORAGE_EMULATOR_HOST would override the JSON API's base URL
 * behind `apiEndpoint`'s back (design §9: not used), so a stray one is refused rather than silently followed.
 */
export function emulatorClient(url: string, options: StorageOptions = {}): Storage {
  if (process.env.STORAGE_EMULATOR_HOST !== undefined) {
    throw new Error(`STORAGE_EMULATOR_HOST=${process.env.STORAGE_EMULATOR_HOST} is set: it would redirect the client away from ${url}; unset it`);
  }
  return new Storage({ apiEndpoint: url, projectId: 'test', useAuthWithCustomEndpoint: false, ...options });
}

/** Kills the emulator (SIGKILL, as a crash would) and waits until it is gone; its state folder and port are kept. */
export async function gcsStop(gcs: Gcs): Promise<void> {
  const pid = await gcsPid(gcs);
  if (pid === undefined) return;
  process.kill(pid, 'SIGKILL');
  for (let i = 0; i < 200 && (await isEmulator(pid)); i++) await new Promise((r) => setTimeout(r, 50));
  if (await isEmulator(pid)) throw new Error(`fake-gcs-server (pid ${pid}) still running 10s after SIGKILL`);
}

/** Stops the emulator in `gcs.dir` (and deletes its state, stored objects included, with `purge`). */
export async function gcsDown(gcs: Gcs | string, purge = false): Promise<void> {
  const dir = typeof gcs === 'string' ? gcs : gcs.dir;
  await run('bash', [join(ROOT, 'hack/gcs-down.sh'), ...(purge ? ['--purge'] : [])], { TAI_GCS_DIR: dir });
}

/** The emulator's PID, when the pid file names a live fake-gcs-server. */
export async function gcsPid(gcs: Gcs): Promise<number | undefined> {
  const text = await readFile(join(gcs.dir, 'fake-gcs-server.pid'), 'utf8').catch(() => '');
  const pid = Number(text.trim());
  return pid > 0 && (await isEmulator(pid)) ? pid : undefined;
}

// Alive and really fake-gcs-server: a killed process nobody reaped (a zombie) has an empty cmdline.
async function isEmulator(pid: number): Promise<boolean> {
  const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
  return (cmdline.split('\0')[0] ?? '').endsWith('/fake-gcs-server');
}

async function readEnv(dir: string): Promise<Record<string, string>> {
  return Object.fromEntries(
    (await readFile(join(dir, 'env'), 'utf8'))
      .split('\n')
      .filter((l) => l.includes('='))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
}

function run(cmd: string, args: readonly string[], env: Record<string, string | undefined>): Promise<string> {
  const merged: NodeJS.ProcessEnv = { ...process.env };
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined) delete merged[k];
    else merged[k] = v;
  }
  return new Promise((done, fail) => {
    execFile(cmd, args, { env: merged, maxBuffer: 16 << 20 }, (error, stdout, stderr) => {
      if (error) fail(new Error(`${cmd} ${args.join(' ')} failed: ${error.message}\n${stderr}`));
      else done(stdout);
    });
  });
}
