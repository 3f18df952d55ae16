import test from 'ava';
import { PublishHealth } from './publish-health.ts';

function tracked() {
  let now = Date.parse('2026-12-02T10:00:00Z');
  const lines: string[] = [];
  const health = new PublishHealth({ clock: { now: () => now }, io: { out: (l) => lines.push(l), err: (l) => lines.push(l) }, failingAfterMs: 5000 });
  return { health, lines, advance: (ms: number) => (now += ms) };
}

test('a publish failing every second: one line, ready for the first few seconds, then not ready naming the error and since when', (t) => {
  const { health, lines, advance } = tracked();
  t.deepEqual(health.readiness(), { publishing: true });
  for (let i = 0; i < 5; i++) {
    health.failed(new Error('ENOSPC: no space left on device, open'));
    advance(1000);
  }
  t.like(health.readiness(), { publishing: true, failures: 5 }, 'exactly the threshold is still ready');
  t.is(health.failing, 0);
  health.failed(new Error('tile tile/0/000 differs'));
  advance(1);
  t.deepEqual(health.readiness(), { publishing: false, error: 'tile tile/0/000 differs', failingSince: '2026-12-02T10:00:00.000Z', failures: 6 });
  t.is(health.failing, 1);
  t.is(lines.length, 1, lines.join('\n'));
  t.regex(lines[0]!, /publishing the log failed \(ENOSPC.*5 s/);
});

test('a publish that succeeds ends the outage: ready again, one line saying so; the next outage is reported again', (t) => {
  const { health, lines, advance } = tracked();
  health.failed(new Error('EIO'));
  advance(10_000);
  health.failed(new Error('EIO'));
  t.is(health.failing, 1);
  health.succeeded();
  t.deepEqual(health.readiness(), { publishing: true });
  t.is(health.failing, 0);
  health.succeeded();
  health.failed(new Error('EIO again'));
  t.deepEqual(lines.length, 3, lines.join('\n'));
  t.regex(lines[1]!, /works again after 10\.0 s \(2 failed attempts\)/);
  t.regex(lines[2]!, /EIO again/);
});
