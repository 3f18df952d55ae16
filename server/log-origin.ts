// `{log}` in --origin: a log id made with the log folder. Cloud Run's disk is memory, so every instance starts a
// new log, and a new log must never reuse an anchored origin (`tai serve` refuses a bucket that anchors more of
// an origin than the local log holds: that would be a split view). The id is kept in LOG/log-id, so the origin
// stays fixed for the life of the folder wherever the folder does outlive the process.
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { UsageError } from './io.ts';

export const LOG_ID_TOKEN = '{log}';
export const LOG_ID = /^\d{8}T\d{6}Z-[0-9a-f]{8}$/;

/** The origin with `{log}` replaced by the log folder's id, made (UTC time and 32 random bits) on first use. */
export async function resolveOrigin(origin: string, logDir: string, now: () => number): Promise<string> {
  if (!origin.includes(LOG_ID_TOKEN)) return origin;
  const path = join(logDir, 'log-id');
  const id = (await readLogId(path)) ?? (await makeLogId(path, logDir, now()));
  return origin.replaceAll(LOG_ID_TOKEN, id);
}

async function readLogId(path: string): Promise<string | undefined> {
  const text = await readFile(path, 'utf8').catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return undefined;
    throw e;
  });
  if (text === undefined) return undefined;
  const id = text.trim();
  if (!LOG_ID.test(id)) throw new UsageError(`${path}: expected a log id such as 20261123T101500Z-3fa2b1c9, got ${JSON.stringify(id.slice(0, 40))}: restore the file or start a new --log folder`);
  return id;
}

async function makeLogId(path: string, logDir: string, nowMs: number): Promise<string> {
  const existing = await stat(join(logDir, 'entries')).catch(() => undefined);
  if (existing !== undefined) {
    throw new UsageError(`--origin ${LOG_ID_TOKEN}: ${logDir} already holds a log made under another origin (no ${path}); give that log its own --origin, or a new --log folder`);
  }
  const time = new Date(nowMs).toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  const id = `${time}-${randomBytes(4).toString('hex')}`;
  await mkdir(logDir, { recursive: true });
  await writeFile(path, `${id}\n`, { flag: 'wx' });
  return id;
}
