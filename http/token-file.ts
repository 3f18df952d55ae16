import { createHash, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { Principal, TokenVerifier } from './auth.ts';
import { watchFiles } from './file-watch.ts';

/** One line of a token file: the token is kept only as its SHA-256 digest. */
export interface TokenEntry {
  digest: Buffer;
  principal: Principal;
}

/** A token file that cannot be used, with every bad line (1-based). The token text is never quoted. */
export class TokenFileError extends Error {
  readonly file: string;
  readonly problems: readonly { line: number; message: string }[];

  constructor(file: string, problems: { line: number; message: string }[]) {
    super(problems.map((p) => `${file}:${p.line}: ${p.message}`).join('\n'));
    this.name = 'TokenFileError';
    this.file = file;
    this.problems = problems;
  }
}

const FORMAT = 'expected token,user,uid[,"group1,group2"]';

/**
 * Parses the Kubernetes static token file format (`--token-auth-file`): CSV lines `token,user,uid` with an
 * optional fourth column of comma-separated groups, quoted when it lists several. Blank lines and lines
 * starting with `#` are skipped. Throws a {@link TokenFileError} naming each bad line.
 *
 * @example
 * parseTokenFile('s3cr3t,alice,1001,"tai:admins,tai:readers"\n', 'tokens.csv')
 * // → [{ digest: sha256('s3cr3t'), principal: { name: 'alice', uid: '1001', groups: ['tai:admins', 'tai:readers'] } }]
 */
export function parseTokenFile(text: string, file: string): TokenEntry[] {
  const entries: TokenEntry[] = [];
  const problems: { line: number; message: string }[] = [];
  const firstLine = new Map<string, number>();
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const parsed = parseLine(line);
    if (typeof parsed === 'string') return void problems.push({ line: i + 1, message: parsed });
    const key = parsed.digest.toString('hex');
    const earlier = firstLine.get(key);
    if (earlier !== undefined) return void problems.push({ line: i + 1, message: `the same token as line ${earlier}; each token must name one user` });
    firstLine.set(key, i + 1);
    entries.push(parsed);
  });
  if (problems.length > 0) throw new TokenFileError(file, problems);
  return entries;
}

/** The entry of one non-blank line, or what is wrong with it. */
function parseLine(line: string): TokenEntry | string {
  const fields = csvFields(line);
  if (!fields) return `unbalanced quotes; ${FORMAT}`;
  if (fields.length < 3) return `${fields.length} column(s), ${FORMAT}`;
  if (fields.length > 4) return `${fields.length} columns, ${FORMAT}: quote the groups when there are several`;
  const [token, name, uid, groups] = fields as [string, string, string, string | undefined];
  if (token === '') return 'the token (column 1) is empty';
  if (name === '') return 'the user name (column 2) is empty';
  const principal: Principal = {
    name,
    groups: (groups ?? '')
      .split(',')
      .map((g) => g.trim())
      .filter((g) => g !== ''),
  };
  if (uid !== '') principal.uid = uid;
  return { digest: sha256(token), principal };
}

/** Splits one CSV line (RFC 4180 quoting, `""` for a quote inside quotes; spaces around fields dropped); undefined when the quotes do not balance. */
function csvFields(line: string): string[] | undefined {
  const field = /[ \t]*(?:"((?:[^"]|"")*)"|([^,"]*?))[ \t]*(,|$)/y;
  const fields: string[] = [];
  for (;;) {
    const m = field.exec(line);
    if (!m) return undefined;
    fields.push(m[1] !== undefined ? m[1].replaceAll('""', '"') : m[2]!);
    if (m[3] === '') return fields;
  }
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

export interface TokenFileOptions {
  /** Poll interval for changes the directory watch misses, in ms (default 10 000). */
  pollMs?: number;
  /** Set false on filesystems without change events; the poll alone then finds edits. */
  watch?: boolean;
  /** Hears each new set of tokens put in service after the first. */
  onReload?(info: { file: string; tokens: number }): void;
  /** Hears an edit that could not be used; the previous tokens stay in service. */
  onError?(error: Error): void;
}

/**
 * Bearer tokens from a static token file (the Kubernetes `--token-auth-file` format, see {@link parseTokenFile}),
 * reloaded when the file changes. A broken file fails {@link TokenFileVerifier.open}; a broken edit later is
 * reported through `onError` and the previous tokens stay valid until the file is fixed.
 *
 * Tokens are compared as SHA-256 digests with `timingSafeEqual`, against every entry, so the time taken says
 * nothing about which or how many characters matched. Meant for tens of tokens (CI, embedded mode, a few
 * services); a cluster with many callers uses {@link TokenReviewVerifier} instead.
 */
export class TokenFileVerifier implements TokenVerifier {
  readonly file: string;
  readonly #opts: TokenFileOptions;
  #entries: TokenEntry[] = [];
  #seen = '';
  #unwatch: () => void = () => undefined;

  private constructor(file: string, opts: TokenFileOptions) {
    this.file = file;
    this.#opts = opts;
  }

  /** Loads `file` (throwing a {@link TokenFileError} or the read error, naming the file) and starts watching it. */
  static async open(file: string, opts: TokenFileOptions = {}): Promise<TokenFileVerifier> {
    const verifier = new TokenFileVerifier(file, opts);
    const text = await readFile(file, 'utf8').catch((e: Error) => {
      throw new Error(`token file ${file}: ${e.message}`, { cause: e });
    });
    verifier.#load(text);
    verifier.#unwatch = watchFiles([file], async () => void (await verifier.reload()), { pollMs: opts.pollMs, watch: opts.watch });
    return verifier;
  }

  /** How many tokens are in service. */
  get size(): number {
    return this.#entries.length;
  }

  async verify(token: string): Promise<Principal | undefined> {
    const digest = sha256(token);
    let found: Principal | undefined;
    for (const entry of this.#entries) if (timingSafeEqual(entry.digest, digest)) found = entry.principal;
    return found && { ...found, groups: [...found.groups] };
  }

  /** Reads the file now; true when a new set of tokens went into service. File problems go to `onError` (each distinct one once), never thrown. */
  async reload(): Promise<boolean> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (e) {
      const message = (e as Error).message;
      if (this.#seen === `read:${message}`) return false;
      this.#seen = `read:${message}`;
      this.#opts.onError?.(new Error(`token file ${this.file}: ${message}`, { cause: e }));
      return false;
    }
    try {
      if (!this.#load(text)) return false;
    } catch (e) {
      this.#opts.onError?.(e as Error);
      return false;
    }
    this.#opts.onReload?.({ file: this.file, tokens: this.#entries.length });
    return true;
  }

  /** Stops watching the file. */
  close(): void {
    this.#unwatch();
  }

  /** Parses `text` unless it is what was last tried; false when it was. Throws (keeping the old set) when malformed. */
  #load(text: string): boolean {
    const seen = sha256(text).toString('hex');
    if (seen === this.#seen) return false;
    this.#seen = seen;
    this.#entries = parseTokenFile(text, this.file);
    return true;
  }
}
