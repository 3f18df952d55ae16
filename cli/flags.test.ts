import test from 'ava';
import { flagLabel, parseFlags } from './flags.ts';
import { LOG_FLAGS } from './log-flags.ts';
import { SUBCOMMANDS } from './log-command.ts';
import { COMMANDS, main } from './tai.ts';

async function help(argv: string[]): Promise<string> {
  const out: string[] = [];
  const code = await main([...argv, '--help'], { out: (l) => out.push(l), err: (l) => out.push(l) });
  if (code !== 0) throw new Error(`${argv.join(' ')} --help exited ${code}`);
  return out.join('\n');
}

const escaped = (s: string): string => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

test('every option in a command\'s table is in its --help, with its placeholder, and parses', async (t) => {
  const tabled = COMMANDS.filter((c) => c.flags !== undefined);
  t.deepEqual(tabled.map((c) => c.name), ['serve', 'validate', 'explain', 'crds', 'log', 'audit', 'counters']);
  for (const command of tabled) {
    const text = await help([command.name]);
    for (const [name, flag] of Object.entries(command.flags!)) {
      const label = flagLabel(name, flag);
      t.regex(text, new RegExp(`(^ {2}|, )${escaped(label)}(,|\\s|$)`, 'm'), `tai ${command.name} ${label}`);
      const argv = flag.type === 'boolean' ? [`--${name}`] : [`--${name}`, 'x'];
      t.deepEqual(parseFlags(argv, command.flags!).values[name], flag.type === 'boolean' ? true : 'x', `tai ${command.name} ${label}`);
    }
  }
});

test('tai log: each subcommand\'s line in --help names exactly the options it takes, and every option is taken', async (t) => {
  const synopsis = new Map<string, string>();
  let current = '';
  for (const line of (await help(['log'])).split('\n\n')[0]!.split('\n')) {
    const named = /tai log (\S+)/.exec(line);
    if (named) current = named[1]!;
    synopsis.set(current, `${synopsis.get(current) ?? ''} ${line}`);
  }
  t.deepEqual([...synopsis.keys()], Object.keys(SUBCOMMANDS));
  for (const [name, sub] of Object.entries(SUBCOMMANDS)) {
    const named = [...synopsis.get(name)!.matchAll(/--([a-z-]+)/g)].map((m) => m[1]);
    t.deepEqual([...new Set(named)].sort(), [...sub.flags].sort(), name);
  }
  const taken = new Set(Object.values(SUBCOMMANDS).flatMap((s) => s.flags));
  t.deepEqual(Object.keys(LOG_FLAGS).filter((f) => !taken.has(f as never)), []);
});

test('every --option in a command\'s Usage lines is one it parses', async (t) => {
  for (const command of COMMANDS.filter((c) => c.flags !== undefined)) {
    const synopsis = (await help([command.name])).split('\n\n')[0]!;
    const mentioned = new Set([...synopsis.matchAll(/(?<![\w-])--([a-z][a-z-]*)/g)].map((m) => m[1]!));
    t.deepEqual([...mentioned].filter((name) => !Object.hasOwn(command.flags!, name)), [], command.name);
  }
});
