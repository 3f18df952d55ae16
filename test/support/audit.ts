// What the audit report tests compare the report with: counts as `tai log query` prints them (run in process),
// and the commands the report prints, split as a POSIX shell would.
import { runTai } from './log-fixture.ts';
import type { CountRow, OutcomeBreakdown } from '../../cli/audit/index.ts';

/** Lines `tai log query LOG FLAGS…` prints (one per matching entry); throws unless it exits 0. */
export async function queryCount(logDir: string, flags: string[]): Promise<number> {
  const r = await runTai(['log', 'query', logDir, ...flags]);
  if (r.code !== 0) throw new Error(`tai log query ${flags.join(' ')}: exit ${r.code}: ${r.err.join('\n')}`);
  return r.out.length;
}

/** A row's counts from `tai log query`: the row's tenant or reason, with each outcome. */
async function queriedRow(c: { logDir: string; base: string[]; by: 'tenant' | 'reason'; row: CountRow }): Promise<Omit<CountRow, 'key'>> {
  const flags = [...c.base, `--${c.by}`, c.row.key!];
  const [total, allowed, denied] = await Promise.all(['', 'allowed', 'denied'].map((o) => queryCount(c.logDir, o === '' ? flags : [...flags, '--outcome', o])));
  return { total: total!, allowed: allowed!, denied: denied! };
}

/**
 * `breakdown` as `tai log query` counts it, row for row: `base` is the kind, time and (for reasons) tenant
 * flags. Rows without a key (admissions of no tenant) cannot be asked for; they are what the others leave.
 */
export async function queriedBreakdown(c: { logDir: string; base: string[]; tenantFlags: string[]; breakdown: OutcomeBreakdown }): Promise<unknown> {
  const { logDir, base, breakdown } = c;
  const [total, allowed, denied] = await Promise.all(['', 'allowed', 'denied'].map((o) => queryCount(logDir, o === '' ? [...base, ...c.tenantFlags] : [...base, ...c.tenantFlags, '--outcome', o])));
  const rows = async (by: 'tenant' | 'reason', list: CountRow[]): Promise<CountRow[]> => {
    const known = await Promise.all(list.filter((r) => r.key !== null).map(async (row) => ({ key: row.key, ...(await queriedRow({ logDir, base: by === 'reason' ? [...base, ...c.tenantFlags] : base, by, row })) })));
    const rest = { total: total! - sum(known, 'total'), allowed: allowed! - sum(known, 'allowed'), denied: denied! - sum(known, 'denied') };
    return list.some((r) => r.key === null) ? [...known, { key: null, ...rest }] : known;
  };
  return { total, allowed, denied, byTenant: await rows('tenant', breakdown.byTenant), byReason: await rows('reason', breakdown.byReason) };
}

const sum = (rows: CountRow[], k: 'total' | 'allowed' | 'denied'): number => rows.reduce((n, r) => n + r[k], 0);

/** The counts of a breakdown without its query, in the shape {@link queriedBreakdown} gives. */
export function countsOf(b: OutcomeBreakdown): unknown {
  const order = (rows: CountRow[]): CountRow[] => [...rows.filter((r) => r.key !== null), ...rows.filter((r) => r.key === null)];
  return { total: b.total, allowed: b.allowed, denied: b.denied, byTenant: order(b.byTenant), byReason: order(b.byReason) };
}

/** Words of a POSIX shell command of plain and single-quoted words (what shellQuote writes), up to a `|`. */
export function shellWords(command: string): { words: string[]; pipe: string | undefined } {
  const words: string[] = [];
  let i = 0;
  for (;;) {
    while (command[i] === ' ') i++;
    if (i >= command.length) return { words, pipe: undefined };
    if (command[i] === '|') return { words, pipe: command.slice(i + 1).trim() };
    let word = '';
    while (i < command.length && command[i] !== ' ') {
      if (command[i] === "'") {
        const end = command.indexOf("'", i + 1);
        word += command.slice(i + 1, end);
        i = end + 1;
      } else if (command[i] === '\\') {
        word += command[i + 1];
        i += 2;
      } else {
        word += command[i++];
      }
    }
    words.push(word);
  }
}
