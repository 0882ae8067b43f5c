// A module worker that uses fetchlane: imports the package (no import maps in workers, so by
// URL), fetch + allSettled, then the Cache API store: a second client is answered from it.
import { createClient, isFetchlaneError } from '/pkg/index.js';

async function storedCount(name, path) {
  let stored = 0;
  for (const n of (await caches.keys()).filter((k) => k.includes(name))) {
    stored += (await (await caches.open(n)).keys()).filter((r) => r.url.includes(path)).length;
  }
  return stored;
}

async function work({ run, name }) {
  const tagged = (path) => `${path}${path.includes('?') ? '&' : '?'}run=${encodeURIComponent(run)}`;
  const out = { scope: typeof WorkerGlobalScope !== 'undefined' && self instanceof WorkerGlobalScope };

  const client = await createClient({ retry: 0 });
  try {
    const response = await client.fetch(tagged('/api/user'));
    out.fetch = { status: response.status, name: (await response.json()).name };
    const settled = await client.allSettled([tagged('/api/notifications'), tagged('/api/analytics'), tagged('/status/404')]);
    out.allSettled = settled.map((r) =>
      r.status === 'fulfilled'
        ? { status: r.status, keys: Object.keys(r.value).sort() }
        : { status: r.status, fetchlane: isFetchlaneError(r.reason), kind: r.reason?.kind, httpStatus: r.reason?.status },
    );
  } finally {
    client.close();
  }

  const target = tagged('/cache/k?maxAge=600');
  const opts = { cache: { persist: { name } } };
  const first = await createClient(opts);
  try {
    const body = await (await first.fetch(target)).json();
    // The Cache API write may land after the response; wait for it (bounded).
    const deadline = performance.now() + 3000;
    while ((await storedCount(name, '/cache/k')) === 0 && performance.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    out.first = { body, stats: first.stats() };
  } finally {
    first.close();
  }
  const second = await createClient(opts);
  try {
    const response = await second.fetch(target);
    out.second = { status: response.status, body: await response.json(), stats: second.stats() };
  } finally {
    second.close();
  }
  out.cacheNames = await caches.keys();
  return out;
}

self.onmessage = async (e) => {
  try {
    self.postMessage(await work(e.data));
  } catch (error) {
    self.postMessage({ error: String(error?.stack ?? error) });
  }
};
