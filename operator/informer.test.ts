// The informer's failure handling, driven by a scripted API: these are the failures a real API server does not
// produce on demand (a watch that hangs without ending, a resourceVersion compacted away mid-watch).
// Its normal list + watch path runs against the real kube-apiserver in test/operator*.test.ts.
import test from 'ava';
import { Informer, type InformerChange } from './informer.ts';
import { KubeApiError, type KubeApi, type KubeObject, type WatchEvent } from '../kube/index.ts';

const obj = (name: string, rv: string): KubeObject => ({ metadata: { name, resourceVersion: rv } });

interface Watcher {
  query: Record<string, unknown>;
  onEvent: (e: WatchEvent) => void;
  done: (error: unknown) => void;
  aborted: boolean;
}

/** A scripted API: `lists` answers each list in turn; every watch is recorded for the test to drive. */
function scriptedApi(lists: Array<KubeObject[] | Error>, options: { rv?: (i: number) => string } = {}): KubeApi & { watchers: Watcher[]; listCalls: number } {
  const api = {
    watchers: [] as Watcher[],
    listCalls: 0,
    async request<T>(): Promise<T> {
      const i = api.listCalls++;
      const answer = lists[Math.min(i, lists.length - 1)]!;
      if (answer instanceof Error) throw answer;
      return { metadata: { resourceVersion: options.rv?.(i) ?? `${100 + i}` }, items: answer } as T;
    },
    async watch(_path: string, query: Record<string, unknown>, onEvent: (e: WatchEvent) => void, done: (error: unknown) => void) {
      const w: Watcher = { query, onEvent, done, aborted: false };
      api.watchers.push(w);
      return { abort: () => void (w.aborted = true) };
    },
  };
  return api;
}

function informer(api: KubeApi, changes: InformerChange[], extra: Partial<ConstructorParameters<typeof Informer>[0]> = {}): Informer {
  return new Informer({ api, path: '/x', name: 'x', now: () => Date.now(), onChange: (c) => changes.push(c), backoff: { initialMs: 5, maxMs: 20 }, ...extra });
}

const until = async (p: () => boolean, ms = 2_000): Promise<boolean> => {
  const end = Date.now() + ms;
  while (!p() && Date.now() < end) await new Promise((r) => setTimeout(r, 2));
  return p();
};

test('lists, then watches from the list resourceVersion and applies events', async (t) => {
  const api = scriptedApi([[obj('a', '1')]]);
  const changes: InformerChange[] = [];
  const inf = informer(api, changes);
  await inf.start();
  t.teardown(() => inf.stop());
  await until(() => api.watchers.length === 1);
  t.is(api.watchers[0]!.query.resourceVersion, '100');
  t.true(api.watchers[0]!.query.allowWatchBookmarks);
  api.watchers[0]!.onEvent({ type: 'ADDED', object: obj('b', '101') });
  api.watchers[0]!.onEvent({ type: 'DELETED', object: obj('a', '102') });
  api.watchers[0]!.onEvent({ type: 'BOOKMARK', object: obj('', '150') });
  t.deepEqual(changes.map((c) => `${c.type} ${c.object.metadata.name}`), ['upsert a', 'upsert b', 'delete a']);
  t.deepEqual([...inf.list()].map((o) => o.metadata.name), ['b']);
  // A clean end resumes from the last resourceVersion seen (the bookmark's), without a relist.
  api.watchers[0]!.done(null);
  await until(() => api.watchers.length === 2);
  t.is(api.watchers[1]!.query.resourceVersion, '150');
  t.is(api.listCalls, 1);
});

test('410 Gone relists and reports what changed meanwhile, deletions included', async (t) => {
  const api = scriptedApi([[obj('a', '1'), obj('b', '1')], [obj('b', '2'), obj('c', '1')]]);
  const changes: InformerChange[] = [];
  const inf = informer(api, changes);
  await inf.start();
  t.teardown(() => inf.stop());
  await until(() => api.watchers.length === 1);
  changes.length = 0;
  api.watchers[0]!.onEvent({ type: 'ERROR', object: { metadata: { name: '' }, code: 410, message: 'too old resource version' } });
  await until(() => api.watchers.length === 2);
  t.is(api.listCalls, 2);
  t.deepEqual(changes.map((c) => `${c.type} ${c.object.metadata.name}`).sort(), ['delete a', 'upsert b', 'upsert c']);
  t.is(inf.health.restarts.gone, 1);
  t.true(api.watchers[0]!.aborted);
  // A watch refused with 410 at its start relists too.
  api.watchers[1]!.done(new KubeApiError(410, 'Expired', 'gone'));
  await until(() => api.listCalls === 3);
  t.is(inf.health.restarts.gone, 2);
});

test('the watchdog restarts a watch that went silent without ending', async (t) => {
  const api = scriptedApi([[obj('a', '1')]]);
  const inf = informer(api, [], { silenceMs: 40 });
  await inf.start();
  t.teardown(() => inf.stop());
  await until(() => api.watchers.length === 1);
  // Nothing arrives and `done` is never called: only the watchdog can notice.
  t.true(await until(() => api.watchers.length >= 2, 2_000), 'a new watch was started');
  t.true(api.watchers[0]!.aborted, 'the silent one was aborted');
  t.true(inf.health.restarts.watchdog >= 1);
  // Late events from the abandoned watch are ignored.
  api.watchers[0]!.onEvent({ type: 'ADDED', object: obj('ghost', '999') });
  t.is(inf.get('ghost'), undefined);
});

test('failures back off, mark the informer down, and clear once connected again', async (t) => {
  const refused = new Error('connect ECONNREFUSED 127.0.0.1:6443');
  const api = scriptedApi([refused, refused, refused, [obj('a', '1')]]);
  const inf = informer(api, []);
  const started = inf.start();
  t.true(await until(() => inf.health.downSince !== undefined));
  await started;
  t.is(api.listCalls, 4, 'retried until the list succeeded');
  t.is(inf.health.restarts.failures, 3);
  t.is(inf.health.downSince, undefined, 'connected again');
  t.true(inf.health.synced);
  inf.stop();
  // A watch that fails (not 410) is retried with backoff, from the same resourceVersion, without a relist.
  const api2 = scriptedApi([[obj('a', '1')]]);
  const inf2 = informer(api2, []);
  await inf2.start();
  t.teardown(() => inf2.stop());
  await until(() => api2.watchers.length === 1);
  api2.watchers[0]!.done(new Error('socket hang up'));
  t.not(inf2.health.downSince, undefined);
  await until(() => api2.watchers.length === 2);
  t.is(api2.watchers[1]!.query.resourceVersion, '100');
  t.is(api2.listCalls, 1);
});
