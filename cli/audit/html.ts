// Safe HTML building for the audit report: every interpolated value is escaped unless it is already Html, so a
// tenant named `<script>` or `Acme, "Intl" Ltd` can only ever come out as text. Pure.

/** Markup built by {@link html}: the only thing interpolated without escaping. */
export class Html {
  readonly text: string;

  constructor(text: string) {
    this.text = text;
  }

  toString(): string {
    return this.text;
  }
}

/** What may be interpolated: text and numbers are escaped, Html is kept, arrays are joined, nothing is dropped. */
export type HtmlValue = Html | string | number | boolean | null | undefined | readonly HtmlValue[];

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/**
 * Text as HTML text or attribute value (double- or single-quoted): & < > " ' become entities.
 *
 * @example escapeHtml('Acme, "Intl" <Ltd>') // 'Acme, &quot;Intl&quot; &lt;Ltd&gt;'
 */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ENTITIES[c]!);
}

function render(value: HtmlValue): string {
  if (value instanceof Html) return value.text;
  if (Array.isArray(value)) return value.map(render).join('');
  if (value === null || value === undefined || value === false) return '';
  return escapeHtml(String(value as string | number | boolean));
}

/**
 * Tagged template for markup: literal parts are kept, interpolations escaped (see {@link HtmlValue}).
 *
 * @example html`<td data-tenant="${tenant}">${count}</td>`
 */
export function html(strings: TemplateStringsArray, ...values: HtmlValue[]): Html {
  let out = strings[0]!;
  values.forEach((v, i) => (out += render(v) + strings[i + 1]!));
  return new Html(out);
}

/** Markup written by this code, not from the log (CSS, a doctype): trusted as is. */
export function trusted(text: string): Html {
  return new Html(text);
}
