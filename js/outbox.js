// The outbox (`client.outbox(name, opts)`): requests stored in IndexedDB and delivered later,
// oldest first, in the client's `background` lane, each with an idempotency key fixed when it
// was stored, so that a server can apply it exactly once. Delivery survives reloads, crashes
// and offline spells because nothing leaves the database before a 2xx (or a final 4xx) says
// so. One tab delivers a given outbox at a time: the holder of its Web Lock; the other tabs
// only store, and wake the holder over a BroadcastChannel.
//
// It imports nothing: the Rust API loads this same file (src/client/outbox.rs), with a client
// object whose `fetch` is the Rust client's.

const STORE = 'items';
// Stored items are `{ order, key, method, url, headers, body, at }`. These names are stored
// data, read by later versions of the package: none may be in the build's `mangleProps`.
/** What browsers let `keepalive` requests have in flight, in body bytes. */
const KEEPALIVE_BYTES = 65536;
/** Head items read at a time: what a page going away can still send with `keepalive`. */
const HEAD = 32;

const noop = () => {};

/**
 * A transaction on the items store: resolves with `op`'s request's result once it committed.
 * @param {IDBDatabase} db
 * @param {IDBTransactionMode} mode
 * @param {(store: IDBObjectStore) => IDBRequest} op
 * @returns {Promise<any>}
 */
function transact(db, mode, op) {
  return new Promise((resolve, reject) => {
    // Strict: `send` resolves once the item is on disk, not in a write-back cache.
    const t = db.transaction(STORE, mode, { durability: 'strict' });
    const request = op(t.objectStore(STORE));
    t.oncomplete = () => resolve(request.result);
    t.onabort = () => reject(t.error ?? request.error);
  });
}

/**
 * `Retry-After` in ms (seconds or an HTTP date); NaN when absent or unreadable.
 * @param {string | null | undefined} value
 */
function retryAfterMs(value) {
  if (value == null) return NaN;
  const seconds = Number(value);
  return Math.max(0, value.trim() !== '' && seconds === seconds ? seconds * 1000 : Date.parse(value) - Date.now());
}

/**
 * Why a body cannot be stored, or `undefined` when it can.
 * @param {unknown} body
 */
function unstorable(body) {
  if (body instanceof ReadableStream) return 'a ReadableStream is read only once, so it cannot be stored';
  if (body instanceof FormData && [...body.values()].some((v) => typeof v !== 'string')) {
    return 'a FormData with files cannot be stored';
  }
  return undefined;
}

/**
 * The outbox `name`, delivering through `client.fetch`.
 * @param {{ fetch(input: string, init: object): Promise<Response>, notify(event: object): void }} client
 *   `fetch` rejects with an object with `kind`, `status` and `response` as a FetchlaneError
 *   has them; `notify` tells the `outbox-*` events
 * @param {string} name
 * @param {import('./options.js').OutboxConfig} o
 * @param {(input: unknown, init: any) => Request} prepare the request `send` stores: the
 *   input against the client's base URL, with the client's headers; throws a TypeError
 */
export function createOutbox(client, name, o, prepare) {
  const channelName = `fetchlane-outbox:${name}`;
  const stop = new AbortController();
  const stopped = stop.signal;
  /** @type {Promise<IDBDatabase>} */
  const opened = new Promise((resolve, reject) => {
    const request = indexedDB.open(channelName, 1);
    request.onupgradeneeded = () => request.result.createObjectStore(STORE, { keyPath: 'order', autoIncrement: true });
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
  // A database that cannot open rejects every call; this only keeps it from being unhandled.
  opened.catch(noop);
  const channel = typeof BroadcastChannel === 'function' ? new BroadcastChannel(channelName) : null;
  /** Ends the wait of the delivery loop (a new item, `online`, `flush`, close). */
  let wake = noop;
  /** Consecutive failures of the head item, for the backoff (and, while any, no keepalive). */
  let failures = 0;
  /** Attempts per idempotency key in this page. */
  const attempts = new Map();
  /** @type {any[]} The head items as last read (what `keepalive` sends as the page goes). */
  let head = [];
  /** The key of the item being delivered. */
  let inFlight = '';
  /** @type {{ delivered: number, dropped: number, done: (r: object) => void } | null} */
  let flushing = null;
  let holder = false;

  // Where there is IndexedDB (a window, a worker) there are these globals too.
  const poke = () => wake();
  if (channel !== null) channel.onmessage = poke;
  addEventListener('online', poke);
  addEventListener('pagehide', goodbye);
  const doc = globalThis.document;
  const hidden = () => doc.visibilityState === 'hidden' && goodbye();
  doc?.addEventListener('visibilitychange', hidden);
  stopped.addEventListener('abort', () => {
    removeEventListener('online', poke);
    removeEventListener('pagehide', goodbye);
    doc?.removeEventListener('visibilitychange', hidden);
    channel?.close();
    wake();
  });

  /**
   * Waits `ms` (Infinity: until woken), or less when woken.
   * @param {number} ms
   */
  const sleep = (ms) =>
    new Promise((resolve) => {
      const timer = ms === Infinity ? undefined : setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(timer);
        resolve(undefined);
      };
    });

  /**
   * Tells listeners what happened to `item`.
   * @param {string} type
   * @param {any} item
   * @param {Record<string, unknown>} more
   */
  const tell = (type, item, more) =>
    client.notify({ type, outbox: name, id: `${name}:${item.order}`, idempotencyKey: item.key, url: item.url, method: item.method, attempt: attempts.get(item.key) ?? 0, ...more });

  /**
   * Takes out consecutive items, from `first` to `last` in storing order.
   * @param {any} first
   * @param {any} [last]
   */
  const remove = (first, last = first) => opened.then((db) => transact(db, 'readwrite', (s) => s.delete(IDBKeyRange.bound(first.order, last.order))));

  /**
   * Takes `items` out after their last attempt, and says why, item by item.
   * @param {any[]} items
   * @param {string} type
   * @param {Record<string, unknown>} more
   */
  async function settle(items, type, more) {
    await remove(items[0], items[items.length - 1]);
    for (const item of items) {
      if (flushing !== null) flushing[type === 'outbox-sent' ? 'delivered' : 'dropped']++;
      tell(type, item, more);
      attempts.delete(item.key);
    }
  }

  /**
   * The request of `items` (one, or with `opts.batch` JSON ones as an array of their bodies,
   * even of one, their keys in the idempotency header in the same order, comma-separated),
   * and `more` (`keepalive`).
   * @param {any[]} items
   * @param {object} more
   */
  const requestInit = (items, more) => {
    const [item] = items;
    const headers = new Headers(item.headers);
    headers.set(o.idempotencyHeader, items.map((i) => i.key).join(', '));
    const text = new TextDecoder();
    const body = batchable(item) ? `[${items.map((i) => text.decode(i.body)).join(',')}]` : item.body;
    return { method: item.method, headers, body, ...more };
  };

  /** Whether `item` may join a batch: `opts.batch` is set and its body is JSON. */
  const batchable = (item) => o.batch !== undefined && item.body !== null && /json/i.test(new Headers(item.headers).get('content-type') ?? '');

  /**
   * The head items that go together: the first alone, or the batch it starts (the same
   * method and URL, JSON bodies, within `maxItems` and `maxBytes`). `null` while a batch
   * short of `maxItems` may still wait for more (`maxWaitMs` from its first item's storing).
   * @returns {any[] | null}
   */
  function next() {
    const [item] = head;
    if (!batchable(item)) return [item];
    const b = /** @type {any} */ (o.batch);
    const items = [item];
    let bytes = item.body.byteLength;
    for (const other of head.slice(1)) {
      bytes += other.body?.byteLength + 1;
      if (items.length === b.maxItems || other.url !== item.url || other.method !== item.method || !batchable(other) || bytes > (b.maxBytes ?? Infinity)) break;
      items.push(other);
    }
    return items.length < b.maxItems && Date.now() - item.at < b.maxWaitMs && flushing === null ? null : items;
  }

  /**
   * One attempt at `items`: `{ status }` delivered, `{ drop }` a status to drop them for, or
   * `{ wait }` the ms to wait before the next attempt (NaN: the backoff's). `null` when the
   * client closed.
   * @param {any[]} items
   * @returns {Promise<{ drop?: number, wait?: number, status?: number } | null>}
   */
  async function attempt(items) {
    for (const item of items) attempts.set(item.key, (attempts.get(item.key) ?? 0) + 1);
    const [item] = items;
    inFlight = item.key;
    let status = 0;
    let retryAfter;
    try {
      const response = await client.fetch(item.url, requestInit(items, { lane: 'background', retry: false, dedupe: false, strategy: 'none', signal: stopped }));
      response.body?.cancel().catch(noop);
      status = response.status;
      retryAfter = response.headers.get('retry-after');
    } catch (error) {
      const e = /** @type {any} */ (error);
      if (e?.kind === 'closed' || e?.kind === 'abort') return null;
      status = e?.status ?? 0;
      retryAfter = e?.response?.headers.get('retry-after');
    } finally {
      inFlight = '';
    }
    if (status >= 200 && status < 300) return { status };
    if (status === 0 || status === 408 || status === 429 || status >= 500) return { wait: retryAfterMs(retryAfter), status };
    return { drop: status, status };
  }

  /** The wait before the next attempt at the head: the backoff's, growing per failure. */
  function backoff() {
    const r = o.retry;
    const ceiling = Math.min(r.maxBackoffMs, r.backoffMs * r.factor ** failures++);
    return r.jitter ? Math.random() * ceiling : ceiling;
  }

  /** Delivers while this tab holds the lock, until the client closes. */
  async function deliver() {
    holder = true;
    while (!stopped.aborted) {
      try {
        if (!navigator.onLine && flushing === null) {
          await sleep(Infinity);
          continue;
        }
        const db = await opened;
        head = await transact(db, 'readonly', (s) => s.getAll(null, Math.max(HEAD, o.batch?.maxItems ?? 0)));
        const item = head[0];
        const items = item === undefined ? [] : next();
        if (item === undefined) {
          endFlush();
          await sleep(Infinity);
        } else if (Date.now() - item.at > o.maxAgeMs) {
          await settle([item], 'outbox-drop', { reason: 'expired' });
        } else if (items === null) {
          // A batch short of maxItems waits for more, up to maxWaitMs.
          await sleep(item.at + /** @type {any} */ (o.batch).maxWaitMs - Date.now());
        } else {
          const outcome = await attempt(items);
          if (outcome === null) return;
          const { status, wait, drop } = outcome;
          const shown = status === 0 ? {} : { status };
          if (wait === undefined) {
            failures = 0;
            await settle(items, drop === undefined ? 'outbox-sent' : 'outbox-drop', drop === undefined ? shown : { reason: 'status', ...shown });
          } else {
            // Kept at the head; `Retry-After` wins over the backoff.
            const delayMs = wait === wait ? (failures++, wait) : backoff();
            for (const i of items) tell('outbox-retry', i, { delayMs, reason: status === 0 ? 'network' : 'status', ...shown });
            endFlush();
            await sleep(delayMs);
          }
        }
      } catch {
        // The database failed (quota, a blocked upgrade): try again later, never give up.
        endFlush();
        await sleep(backoff());
      }
    }
  }

  /** Ends a `flush` in progress with what it did and what is left. */
  function endFlush() {
    const f = flushing;
    if (f === null) return;
    flushing = null;
    outbox.size().then(
      (remaining) => f.done({ delivered: f.delivered, dropped: f.dropped, remaining }),
      () => f.done({ delivered: f.delivered, dropped: f.dropped, remaining: NaN }),
    );
  }

  /**
   * The page goes away (or is hidden, and may be discarded): the head items go now with
   * `keepalive`, within its 64 KiB, unless delivery is failing or the browser is offline (they
   * would only arrive out of order, or not at all). They stay stored until a 2xx is seen here; one that arrived
   * anyway is sent again by the next deliverer, with the same key.
   */
  function goodbye() {
    if (!holder || stopped.aborted || failures > 0 || !navigator.onLine) return;
    let bytes = 0;
    for (const item of head) {
      if (item.key === inFlight) continue;
      bytes += item.body?.byteLength ?? 0;
      if (bytes > KEEPALIVE_BYTES) break;
      fetch(item.url, requestInit([item], { keepalive: true })).then((r) => {
        if (r.ok) remove(item).catch(noop);
      }, noop);
    }
  }

  const outbox = {
    name,

    /**
     * Stores a request; resolves once it is on disk, with its ticket.
     * @param {unknown} input
     * @param {any} [init]
     * @returns {Promise<{ id: string, idempotencyKey: string }>}
     */
    async send(input, init) {
      if (stopped.aborted) throw new TypeError(`fetchlane: outbox \`${name}\` belongs to a closed client`);
      const why = unstorable(init?.body);
      if (why !== undefined) throw new TypeError(`fetchlane: outbox.send: ${why}`);
      const request = prepare(input, init);
      const body = request.method === 'GET' || request.method === 'HEAD' ? null : await request.arrayBuffer();
      // randomUUID is for secure contexts only.
      const key = crypto.randomUUID?.() ?? [...crypto.getRandomValues(new Uint8Array(16))].map((b) => (b | 256).toString(16).slice(1)).join('');
      const item = { key, method: request.method, url: request.url, headers: [...request.headers], body, at: Date.now() };
      const order = await transact(await opened, 'readwrite', (s) => s.add(item));
      // Known to `goodbye` at once, though the loop may be busy with an earlier one.
      if (holder && head.length < HEAD) head.push({ ...item, order });
      wake();
      channel?.postMessage(0);
      return { id: `${name}:${order}`, idempotencyKey: key };
    },

    /** Items stored and not yet delivered or dropped. */
    size: () => opened.then((db) => transact(db, 'readonly', (s) => s.count())),

    /**
     * Delivers now, without waiting for a backoff or `online`: resolves once the queue is
     * empty or an attempt failed, with what this flush did and what is left. In a tab that
     * does not hold the delivery lock it only wakes the holder.
     * @returns {Promise<{ delivered: number, dropped: number, remaining: number }>}
     */
    flush() {
      if (!holder || stopped.aborted) {
        channel?.postMessage(0);
        return outbox.size().then((remaining) => ({ delivered: 0, dropped: 0, remaining }));
      }
      return new Promise((done) => {
        if (flushing !== null) {
          const earlier = flushing.done;
          flushing.done = (r) => (earlier(r), done(r));
        } else {
          flushing = { delivered: 0, dropped: 0, done };
        }
        wake();
      });
    },

    /** Drops every stored item; resolves with how many there were. */
    clear: () =>
      opened.then((db) =>
        transact(db, 'readwrite', (s) => {
          const n = s.count();
          s.clear();
          return n;
        }),
      ),

  };

  /** The client closed: delivery stops, the database and the channel are let go. */
  function close() {
    stop.abort();
    endFlush();
    opened.then((db) => db.close(), noop);
  }

  const locks = navigator.locks;
  if (locks) locks.request(channelName, { signal: stopped }, deliver).catch(noop);
  else deliver().catch(noop);
  return { outbox, close };
}
