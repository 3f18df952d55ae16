import test from 'ava';
import { parseFlags } from './flags.ts';
import { COMMANDS, main } from './tai.ts';

async function help(argv: string[]): Promise<string> {
  const out: string[] = [];
  const code = await main([...argv, '--help'], { out: (l) => out.push(l), err: (l) => out.push(l) });
  if (code !== 0) throw new Error(`${argv.join(' ')} --help exited ${code}`);
  return out.join('\n');
}

test('every option in a command\'s table is in its --help, with its placeholder, and parses', async (t) => {
  const tabled = COMMANDS.filter((c) => c.flags !== undefined);
  t.true(tabled.length > 0);
  for (const command of tabled) {
    const text = await help([command.name]);
    for (const [name, flag] of Object.entries(command.flags!)) {
      const label = `--${name}${flag.arg === undefined ? '' : ` ${flag.arg}`}`;
      t.regex(text, new RegExp(`^ {2}${label.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}(\\s|$)`, 'm'), `tai ${command.name} ${label}`);
      const argv = flag.type === 'boolean' ? [`--${name}`] : [`--${name}`, 'x'];
      t.deepEqual(parseFlags(argv, command.flags!).values[name], flag.type === 'boolean' ? true : 'x', `tai ${command.name} ${label}`);
    }
  }
});
