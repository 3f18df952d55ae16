import test from 'ava';
import { CompiledPolicy, Governor, PolicyCompiler } from '../governor/index.ts';
import { decisionBody, zeroPrev, type ChainedEntry, type ReceiptBody } from '../receipts/index.ts';
import { LogReplay } from './log-replay.ts';

const NOW = Date.parse('2026-06-15T12:00:00Z');

function entry(index: number, body: ReceiptBody): ChainedEntry {
  return { receipt: { v: 1, kind: 'decision', index, time: NOW * 1000, prev: zeroPrev(), body }, bytes: new Uint8Array(), index, leafHash: new Uint8Array(32).fill(index), nodes: [] };
}

const consume = { tenant: 'acme', op: 'consume', subject: 'api-calls', amount: 5, allowed: true, reason: 'Allowed', used: 5, limit: 10, windowStart: Date.parse('2026-06-01T00:00:00Z'), resetsAt: '2026-07-01T00:00:00Z', idempotencyKey: 'k1' } as const;

test('a consume receipt rebuilds its counter and its idempotent answer, receipt included', (t) => {
  const replay = new LogReplay();
  replay.add(entry(0, decisionBody(consume)));
  const governor = new Governor({ policy: new CompiledPolicy(new PolicyCompiler()), clock: { now: () => NOW } });
  replay.restore(governor);
  t.deepEqual([...governor.usage.cells()], [{ tenant: 'acme', metric: 'api-calls', windowStart: consume.windowStart, used: 5, fired: 0 }]);
  t.deepEqual(governor.idempotency.get('acme', 'k1', NOW), {
    op: 'consume', tenant: 'acme', metric: 'api-calls', amount: 5, allowed: true, reason: 'Allowed', used: 5, limit: 10, remaining: 5,
    resetsAt: '2026-07-01T00:00:00Z', windowStart: consume.windowStart, receipt: { index: 0, leafHash: '00'.repeat(32) },
  });
});

test('a malformed consume body stops the replay naming the entry and the field', (t) => {
  const replay = new LogReplay();
  t.throws(() => replay.add(entry(7, { ...decisionBody(consume), used: 'five' })), { message: 'receipt log entry 7: decision body: used must be an integer, got "five"' });
  t.throws(() => replay.add(entry(8, decisionBody({ ...consume, reason: 'RateLimited' }))), { message: /^receipt log entry 8: decision body: reason must be a consume reason \(Allowed, .*\), got "RateLimited"$/ });
});

test('a capture of a replay that follows the log holds the usage at the capture, whatever entries come after', (t) => {
  const replay = new LogReplay();
  replay.add(entry(0, decisionBody(consume)));
  replay.follow();
  const captured = replay.capture(new Map([['acme', { sku: 'growth' } as never]]));
  replay.add(entry(1, decisionBody({ ...consume, used: 9, idempotencyKey: 'k2' })));
  replay.add(entry(2, decisionBody({ ...consume, tenant: 'other', used: 1 })));
  t.deepEqual([...captured.cells], [{ tenant: 'acme', metric: 'api-calls', windowStart: consume.windowStart, used: 5, fired: 0 }]);
  t.deepEqual([...captured.answers], []);
  t.deepEqual(replay.state().cells.map((c) => c.used), [9, 1]);
});
