// A module service worker that answers the page's API requests through fetchlane:
// `client.fetch(event.request)` with a per-host limit and a cache strategy (network-first,
// kept in the Cache API, so that a stored answer is served when the server is down).
// It imports the package by URL (no import maps in workers) and never calls `init()`.
//
// Its own URL configures it, so that a test can register a changed script (`?v=2`) and a
// misuse (`?mode=toplevel`):
//   v        a version string, sent back in the `x-sw-version` header of every answer
//   perHost  the client's per-host limit (default 2)
//   mode     `lazy` (default): the client is made on the first fetch event (what a worker that
//            the browser stops and restarts at will should do); `toplevel`: `createClient()` is
//            called while the script is evaluated, before `install` has even started, and
//            nothing waits for it (the misuse this must survive).
//   precache present: `install` keeps the package's wasm in the Cache API and the client loads
//            it from there (`init(cached)`). Without it the wasm is fetched from the network each
//            time the browser starts the worker, so a worker started while offline has no client.
import { createClient, init, isFetchlaneError } from '/pkg/index.js';

const params = new URL(self.location.href).searchParams;
const VERSION = params.get('v') ?? '1';
const MODE = params.get('mode') ?? 'lazy';
const PRECACHE = params.has('precache');
const WASM = new URL('/pkg/fetchlane_bg.wasm', self.location.href).href;
const WASM_CACHE = 'sw-demo-wasm';
const OPTIONS = {
  perHost: Number(params.get('perHost') ?? 2),
  retry: 0,
  cache: { strategy: 'network-first', persist: { name: 'sw-demo' } },
};

/** @type {Promise<import('/pkg/index.js').Client> | undefined} */
let clientPromise = MODE === 'toplevel' ? createClient(OPTIONS) : undefined;
const client = () => (clientPromise ??= PRECACHE ? init(cachedWasm()).then(() => createClient(OPTIONS)) : createClient(OPTIONS));

/** The wasm as `install` stored it, else from the network. */
async function cachedWasm() {
  return (await (await caches.open(WASM_CACHE)).match(WASM)) ?? fetch(WASM);
}

self.addEventListener('install', (event) => {
  if (PRECACHE) event.waitUntil(caches.open(WASM_CACHE).then((cache) => cache.add(WASM)));
  // A changed script takes over at once; the old one keeps answering what it started.
  if (MODE === 'lazy') event.waitUntil(self.skipWaiting());
  else self.skipWaiting();
});

self.addEventListener('activate', (event) => {
  event.waitUntil(self.clients.claim());
});

/** Requests that are the app's API calls; the page, the package and the worker itself are not. */
function isApi(url) {
  const own = ['/sw/', '/pkg/', '/__'].some((prefix) => url.pathname.startsWith(prefix));
  return url.origin === self.location.origin && !own && url.pathname !== '/favicon.ico';
}

/** The answer with the worker's version stamped on it. */
function stamped(response) {
  const headers = new Headers(response.headers);
  headers.set('x-sw-version', VERSION);
  return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
}

async function answer(request) {
  try {
    return stamped(await (await client()).fetch(request));
  } catch (error) {
    // What fetchlane said, as a 502 the page can read (a rejected respondWith is only a TypeError).
    const body = { error: String(error?.message ?? error), kind: isFetchlaneError(error) ? error.kind : null };
    return stamped(new Response(JSON.stringify(body), { status: 502, headers: { 'content-type': 'application/json' } }));
  }
}

self.addEventListener('fetch', (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== 'GET' || !isApi(url)) return;
  event.respondWith(answer(event.request));
});

// The page asks for the client's live state.
self.addEventListener('message', (event) => {
  if (event.data !== 'stats') return;
  const reply = async () => {
    const c = await client();
    event.source?.postMessage({ version: VERSION, mode: MODE, stats: c.stats(), perHost: OPTIONS.perHost });
  };
  event.waitUntil(reply());
});
