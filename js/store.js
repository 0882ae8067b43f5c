// The persistent cache: responses in the browser Cache API, in a cache named
// `fetchlane:<name>:<namespace>` (src/client/store.rs PersistentStore,
// src/web/cache_storage.rs). Every call may fail (insecure context, quota, private mode):
// failures are rejections, never throws. The machine decides what to read, write and delete
// (STORE_READ, STORE_WRITE, STORE_DELETE); this only carries it out.

import { Body, pairsOf } from './records.js';

/** Where a persisted entry remembers when it was stored (ms since the epoch). */
const STORED_AT = 'x-fetchlane-stored-at';

const unavailable = () => new Error('fetchlane: the Cache API (caches) is not available here');

/**
 * The store of one client.
 * @param {{ name: string, maxEntries?: number }} persist
 * @param {string} namespace
 */
export function persistentStore(persist, namespace) {
  const name = `fetchlane:${persist.name}:${namespace}`;
  const maxEntries = persist.maxEntries;
  /** @type {Promise<Cache> | null} */
  let opening = null;

  /** The cache, opened once (a failed open is tried again next time). */
  function open() {
    if (opening === null) {
      try {
        // Looked up at call time, so that a page (or a test) that replaces it is honoured.
        const storage = globalThis.caches;
        if (storage === undefined || storage === null || typeof storage.open !== 'function') throw unavailable();
        opening = Promise.resolve(storage.open(name));
      } catch (error) {
        opening = Promise.reject(error);
      }
      opening = opening.catch((error) => {
        opening = null;
        throw error;
      });
    }
    return opening;
  }

  return {
    /**
     * The stored entry for `key` (honouring its `Vary`), with the time it was stored.
     * @param {Request | string} key
     * @returns {Promise<{ body: Body, storedAt: number } | null>}
     */
    async read(key) {
      const cache = await open();
      const response = await cache.match(key);
      if (!(response instanceof Response)) return null;
      const raw = response.headers.get(STORED_AT);
      // The machine judges the age (`maxAgeMs`) and asks for a STORE_DELETE when it is past.
      const storedAt = raw !== null && /^\d+$/.test(raw) ? Number(raw) : 0;
      const bytes = await response.arrayBuffer();
      const headers = pairsOf(response.headers).filter(([n]) => n !== STORED_AT);
      return { body: new Body(bytes, response.status, response.statusText, headers), storedAt };
    },

    /**
     * Stores `body` for `key` with the time it is stored, then trims the cache to
     * `maxEntries`, keeping the most recently stored (the Cache API lists keys in the order
     * they were put; re-putting moves an entry to the end).
     * @param {Request | string} key
     * @param {Body} body
     */
    async write(key, body) {
      // Made before the first `await`, so at once: the body may be dropped or its headers
      // merged before the write runs.
      const headers = body.headers.filter(([n]) => n !== STORED_AT);
      headers.push([STORED_AT, String(Math.max(0, Math.floor(Date.now())))]);
      const response = body.response({ status: body.status, statusText: body.statusText, headers });
      const cache = await open();
      await cache.delete(key);
      await cache.put(key, response);
      if (maxEntries !== undefined) {
        const keys = await cache.keys();
        for (let i = 0; i < keys.length - maxEntries; i++) await cache.delete(keys[i]);
      }
    },

    /** @param {Request | string} key */
    async remove(key) {
      const cache = await open();
      await cache.delete(key);
    },

    /**
     * Drops the entries whose URL matches; resolves to their URLs.
     * @param {(url: string) => boolean} matches
     * @returns {Promise<string[]>}
     */
    async invalidate(matches) {
      const cache = await open();
      const removed = [];
      for (const request of await cache.keys()) {
        if (matches(request.url) && (await cache.delete(request))) removed.push(request.url);
      }
      return removed;
    },

    /** Deletes the whole cache. */
    async clear() {
      opening = null;
      const storage = globalThis.caches;
      if (storage === undefined || storage === null) throw unavailable();
      await storage.delete(name);
    },
  };
}
