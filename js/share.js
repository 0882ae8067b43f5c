// Across tabs (`ClientOptions.share`): the clients of one name in the tabs of an origin act as
// one. One tab, the holder of a Web Lock, is the leader: its client runs every request, so its
// limits, de-duplication and memory cache are everyone's. The other tabs are followers: their
// clients hand each prepared request to the leader over a BroadcastChannel and get the answer
// back as bytes. When the leader goes, the next tab in the lock's queue leads, and followers
// send it what was still waiting. Without Web Locks or BroadcastChannel every tab is alone.

/**
 * The answer to a call that the retry rules do not send again, waiting when its leader went: a
 * follower cannot tell whether the old leader had sent it, so it may have reached the server.
 */
const LOST = { t: 'err', kind: 'network', attempts: 1, message: 'fetchlane: the coordinating tab closed during the request' };

/**
 * @param {string} name
 * @param {{ run(url: string, init: object): Promise<Response>, local(key: number): void, answer(key: number, r: object): void }} hooks
 *   `run` carries out a follower's request (the leader's client); `local` sends a waiting call
 *   through this tab's own machine (it leads now); `answer` settles a call with the leader's reply
 */
export function createShare(name, hooks) {
  const locks = globalThis.navigator?.locks;
  const state = { role: 'alone', tabs: 1 };
  if (!locks || typeof BroadcastChannel !== 'function') return { state, forward: () => false, close() {} };
  const tab = Math.random().toString(36).slice(2);
  const channel = new BroadcastChannel(`fetchlane-share:${name}`);
  const stop = new AbortController();
  /** @type {Map<number, { msg: any, idempotent: boolean }>} Calls handed to the leader, not yet answered. */
  const waiting = new Map();
  /** @type {Map<string, AbortController>} The followers' requests this tab runs as leader. */
  const running = new Map();
  const peers = new Set();
  let seq = 0;
  state.role = 'follower';
  // Once closed, this tab answers nothing: a follower's call it was running goes to the next
  // leader, as when a tab closes (a closed channel would throw).
  const post = (msg) => stop.signal.aborted || channel.postMessage(msg);

  channel.onmessage = ({ data: m }) => {
    if (state.role === 'leader') {
      if (m.t === 'hi' || m.t === 'bye') {
        if (m.t === 'hi') peers.add(m.tab);
        else peers.delete(m.tab);
        state.tabs = peers.size + 1;
        post({ t: 'lead', tab, tabs: state.tabs });
      } else if (m.t === 'req') {
        peers.add(m.tab);
        lead(m);
      } else if (m.t === 'abort') {
        running.get(`${m.tab}:${m.id}`)?.abort();
      }
    } else if (m.t === 'lead') {
      state.tabs = m.tabs;
      // A new leader: what waited goes to it; a call whose attempt may have died with the old
      // one goes again only where the retry rules would send it again.
      if (m.fresh) {
        // Greet it, so that it counts this tab.
        post({ t: 'hi', tab });
        for (const [id, w] of waiting) {
          if (w.idempotent) post(w.msg);
          else if (waiting.delete(id)) hooks.answer(id, LOST);
        }
      }
    } else if ((m.t === 'res' || m.t === 'err') && m.to === tab && waiting.delete(m.id)) {
      hooks.answer(m.id, m);
    }
  };

  /**
   * Runs a follower's request with this tab's client; the answer goes back as bytes.
   * @param {any} m
   */
  async function lead(m) {
    const controller = new AbortController();
    const key = `${m.tab}:${m.id}`;
    running.set(key, controller);
    try {
      const response = await hooks.run(m.url, { ...m.init, signal: controller.signal });
      const body = await response.arrayBuffer();
      post({ t: 'res', to: m.tab, id: m.id, status: response.status, statusText: response.statusText, headers: [...response.headers], body });
    } catch (e) {
      const error = /** @type {any} */ (e);
      post({ t: 'err', to: m.tab, id: m.id, kind: error?.kind ?? 'network', status: error?.status, attempts: error?.attempts ?? 0, message: String(error?.message ?? error) });
    } finally {
      running.delete(key);
    }
  }

  /** Ends this tab's lead (it is hidden or frozen), so that a visible tab takes over. */
  let stepDown = () => {};

  /** Queues for the lock; holding it, this tab leads until it closes or steps down. */
  function join() {
    locks
      .request(`fetchlane-share:${name}`, { signal: stop.signal }, () => {
        state.role = 'leader';
        peers.clear();
        state.tabs = 1;
        post({ t: 'lead', tab, tabs: 1, fresh: true });
        // What this tab had handed to the old leader, it now runs itself, by the same rule.
        const mine = [...waiting];
        waiting.clear();
        for (const [id, w] of mine) w.idempotent ? hooks.local(id) : hooks.answer(id, LOST);
        return new Promise((resolve) => {
          stepDown = () => {
            stepDown = () => {};
            state.role = 'follower';
            resolve(undefined);
            join();
          };
          stop.signal.addEventListener('abort', resolve);
        });
      })
      .catch(() => {});
  }
  join();
  post({ t: 'hi', tab });
  const bye = () => post({ t: 'bye', tab });
  // A hidden tab's timers are throttled and a frozen one runs nothing: it must not hold the
  // others' requests. It goes to the back of the queue; the next tab in it leads.
  const away = () => {
    if (globalThis.document?.visibilityState === 'hidden') stepDown();
  };
  const freeze = () => stepDown();
  globalThis.addEventListener?.('pagehide', bye);
  globalThis.document?.addEventListener('visibilitychange', away);
  globalThis.document?.addEventListener('freeze', freeze);

  return {
    state,

    /**
     * Hands a call to the leader; false when this tab leads (the call goes through its own
     * machine).
     * @param {string} url
     * @param {object} init method, headers, body (bytes) and the LaneInit options
     * @param {boolean} idempotent whether the call may be sent again to the next leader
     * @returns {number | false} the call's key for `answer` and `abort`
     */
    forward(url, init, idempotent) {
      if (state.role !== 'follower') return false;
      const id = ++seq;
      const msg = { t: 'req', tab, id, url, init };
      waiting.set(id, { msg, idempotent });
      post(msg);
      return id;
    },

    /** @param {number} id */
    abort(id) {
      if (waiting.delete(id)) post({ t: 'abort', tab, id });
    },

    close() {
      bye();
      globalThis.removeEventListener?.('pagehide', bye);
      globalThis.document?.removeEventListener('visibilitychange', away);
      globalThis.document?.removeEventListener('freeze', freeze);
      stop.abort();
      channel.close();
      state.role = 'alone';
      state.tabs = 1;
    },
  };
}
