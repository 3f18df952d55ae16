import test from 'ava';
import fc from 'fast-check';
import { escapeHtml, html, trusted } from './html.ts';

test('interpolations are escaped, Html is kept, arrays joined, null/undefined/false dropped', (t) => {
  const name = 'Acme, "Intl" <Ltd> & O\'Brien';
  t.is(html`<td title="${name}">${name}</td>`.text, '<td title="Acme, &quot;Intl&quot; &lt;Ltd&gt; &amp; O&#39;Brien">Acme, &quot;Intl&quot; &lt;Ltd&gt; &amp; O&#39;Brien</td>');
  t.is(html`<ul>${['<a>', html`<li>${'<b>'}</li>`]}</ul>`.text, '<ul>&lt;a&gt;<li>&lt;b&gt;</li></ul>');
  t.is(html`${null}${undefined}${false}${0}${true}`.text, '0true');
  t.is(html`<style>${trusted('a > b {}')}</style>`.text, '<style>a > b {}</style>');
});

test('escaped text never holds markup characters, and unescaping gives it back', (t) => {
  const unescape = (s: string): string => s.replace(/&(lt|gt|quot|#39|amp);/g, (_, e: string) => ({ lt: '<', gt: '>', quot: '"', '#39': "'", amp: '&' })[e]!);
  fc.assert(
    fc.property(fc.string({ unit: 'binary' }), (s) => {
      const e = escapeHtml(s);
      return !/[<>"']/.test(e) && !/&(?!(lt|gt|quot|#39|amp);)/.test(e) && unescape(e) === s;
    }),
  );
  t.pass();
});
