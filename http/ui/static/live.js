// @ts-check
// Live figures for a dashboard page (no inline script: the CSP allows only this origin's files). The page's
// <main data-live="URL"> names its event stream; each `update` event sets the text of every [data-live-field] and
// the value of every meter[data-live-meter] it names. The EventSource closes with the tab.
const main = document.querySelector('main[data-live]');
const url = main?.getAttribute('data-live');
if (main && url) {
  const events = new EventSource(url);
  events.addEventListener('update', (e) => {
    /** @type {{ fields: Record<string, string>, meters: Record<string, number> }} */
    let update;
    try {
      update = JSON.parse(/** @type {MessageEvent} */ (e).data);
    } catch {
      return;
    }
    for (const [name, text] of Object.entries(update.fields ?? {})) {
      for (const el of main.querySelectorAll(`[data-live-field="${CSS.escape(name)}"]`)) el.textContent = text;
    }
    for (const [name, value] of Object.entries(update.meters ?? {})) {
      for (const el of main.querySelectorAll(`meter[data-live-meter="${CSS.escape(name)}"]`)) /** @type {HTMLMeterElement} */ (el).value = value;
    }
    main.setAttribute('data-live-at', String(Date.now()));
  });
  addEventListener('pagehide', () => events.close());
}
