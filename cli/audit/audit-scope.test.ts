import test from 'ava';
import { execFileSync } from 'node:child_process';
import { queryCommand, reconcileQuery, shellQuote } from './audit-scope.ts';

/** What /bin/sh makes of `words`: each argument on its own line, NUL-separated. */
function throughShell(words: string): string[] {
  return execFileSync('sh', ['-c', `printf '%s\\0' ${words}`], { encoding: 'utf8' }).split('\0').slice(0, -1);
}

test('shellQuote: sh reads back exactly the word, whatever it holds', (t) => {
  const words = ['acme', 'Acme, "Intl" Ltd', "O'Brien & Sons", '$(rm -rf /)', '`x`', 'a b\tc\nd', '*', '-', '2027-01-15T08:00:00+01:00', '', "''", '\\'];
  t.deepEqual(throughShell(words.map(shellQuote).join(' ')), words);
  t.is(shellQuote('/tmp/log-1/log'), '/tmp/log-1/log', 'plain paths stay readable');
});

test('query commands repeat the scope; reconcile and lifecycle receipts take no --tenant', (t) => {
  const scope = { location: '/var/tai log', tenant: 'Acme, "Intl" Ltd', since: '2027-01-15', until: '2027-01-16T00:00:00Z', vkey: 'k+1234abcd+AAAA' };
  t.is(queryCommand(scope, 'decision'), `tai log query '/var/tai log' --kind decision --tenant 'Acme, "Intl" Ltd' --since 2027-01-15 --until 2027-01-16T00:00:00Z --vkey k+1234abcd+AAAA`);
  t.is(queryCommand(scope, 'lifecycle'), `tai log query '/var/tai log' --kind lifecycle --since 2027-01-15 --until 2027-01-16T00:00:00Z --vkey k+1234abcd+AAAA`);
  t.is(reconcileQuery(scope), `${queryCommand(scope, 'reconcile')} | jq -c 'select(.body.resource == "Tenant/Acme, \\"Intl\\" Ltd")'`);
  t.is(reconcileQuery({ location: 'log' }), 'tai log query log --kind reconcile');
});
