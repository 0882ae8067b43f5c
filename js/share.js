// Across tabs (`ClientOptions.share`): the clients of one name in the tabs of an origin act as
// one. One tab, the holder of a Web Lock, is the leader: its client runs every request, so its
// limits, de-duplication and memory cache are everyone's. The other tabs are followers: their
// clients hand each prepared request to the leader over a BroadcastChannel and get the answer
// back as bytes. Without Web Locks or BroadcastChannel every tab is alone.
//
// A request is addressed to the tab that leads as far as its follower knows. A tab that no
// longer leads says so ('moved') and the follower sends it on; a tab that stepped down but
// lives still answers what it took. Each tab holds a lock of its own for as long as it lives,
// so that when the leader changes a follower can tell a gone tab (what it held may have been
// sent: it goes again only where the retry rules allow) from a live one (it answers).
// A hidden leader's timers are throttled (about once a second in Chrome), so a visible tab
// takes the lead from it (a steal); a leader about to be frozen steps down and hands back what
// may be sent again.

/**
 * The answer to a call that the retry rules do not send again, held by a tab that is gone: it
 * may have been sent, so it may have reached the server.
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
  const lockName = `fetchlane-share:${name}`;
  const tabLock = (t) => `${lockName}:${t}`;
  const channel = new BroadcastChannel(lockName);
  const stop = new AbortController();
  const closed = stop.signal;
  /**
   * Calls handed to a leader, not yet answered: the message, whether it may be sent again, and
   * the tab that has it (`''`: none yet, or it moved back).
   * @type {Map<number, { msg: any, idempotent: boolean, at: string }>}
   */
  const waiting = new Map();
  /** @type {Map<string, { c: AbortController, idempotent: boolean, tab: string, id: number }>} The followers' requests this tab runs. */
  const running = new Map();
  const peers = new Set();
  let seq = 0;
  /** @type {string | undefined} The leading tab as last heard (this one while it leads). */
  let leader;
  /** Whether the leader said it is hidden. */
  let away = false;
  /** @type {AbortController | null} This tab's place in the lock's queue. */
  let ticket = null;
  /** @type {AbortController | null} The place whose lock this tab holds (it leads). */
  let holding = null;
  /** Gives the lock back. */
  let release = () => {};
  state.role = 'follower';
  // Once closed, this tab answers nothing: a follower's call it was running goes to the next
  // leader, as when a tab closes (a closed channel would throw).
  const post = (msg) => closed.aborted || channel.postMessage(msg);
  const hidden = () => globalThis.document?.visibilityState === 'hidden';
  const announce = (fresh) => post({ t: 'lead', tab, tabs: state.tabs, away: hidden(), fresh });
  // This tab's own lock, for as long as it lives (its first listener on `closed`: released first).
  locks.request(tabLock(tab), { signal: closed }, () => new Promise((r) => closed.addEventListener('abort', r))).catch(() => {});

  /** Hands call `id` to the leader (when known), or runs it here when this tab leads. */
  function send(id, w) {
    w.at = '';
    if (state.role === 'leader') {
      waiting.delete(id);
      hooks.local(id);
    } else if (leader !== undefined) {
      w.at = w.msg.to = leader;
      post(w.msg);
    }
  }

  /** After the leader changed: what no tab has goes to the leader; what another has stays with it while it lives. */
  function reassign() {
    for (const [id, w] of waiting) {
      if (!w.at) send(id, w);
      else if (w.at !== leader) watch(w.at);
    }
  }

  /** @type {Set<string>} Tabs that had calls of this one when they stopped leading. */
  const watched = new Set();
  /**
   * Waits for tab `t` to be gone (its own lock free). Then a call it had may have been sent: it
   * goes to the leader only where the retry rules would send it again, and fails otherwise.
   * @param {string} t
   */
  function watch(t) {
    if (watched.has(t)) return;
    watched.add(t);
    locks
      .request(tabLock(t), { signal: closed }, () => {
        watched.delete(t);
        // Its last answers may still be on their way: the lock and the channel do not keep
        // one order.
        setTimeout(() => {
          for (const [id, w] of waiting) {
            if (w.at !== t) continue;
            if (w.idempotent) send(id, w);
            else {
              waiting.delete(id);
              hooks.answer(id, LOST);
            }
          }
        }, 50);
      })
      .catch(() => {});
  }

  /** A visible follower takes the lead from a hidden leader. */
  const steal = () => {
    if (state.role === 'follower' && away && !hidden()) {
      away = false;
      join(true);
    }
  };

  channel.onmessage = ({ data: m }) => {
    const t = m.t;
    if (t === 'res' || t === 'err') {
      if (m.to === tab && waiting.delete(m.id)) hooks.answer(m.id, m);
    } else if (t === 'moved') {
      // Never run there: it goes to the leader (once known, if the mover still counts as it).
      const w = m.to === tab && waiting.get(m.id);
      if (w) {
        w.at = '';
        if (leader !== m.from) send(m.id, w);
        else {
          // This tab missed the new leader's word: it asks, and the leader answers.
          leader = undefined;
          post({ t: 'hi', tab });
        }
      }
    } else if (t === 'frozen') {
      // Its lock may stay held while it is frozen: take it, and send nothing to it meanwhile.
      // (Only a leader says so; this tab may have stopped counting it as the leader already.)
      if ((m.tab === leader || leader === undefined) && state.role === 'follower') {
        leader = undefined;
        away = false;
        join(true);
      }
    } else if (t === 'abort') {
      running.get(`${m.tab}:${m.id}`)?.c.abort();
    } else if (t === 'req') {
      if (m.to === tab) state.role === 'leader' ? lead(m) : post({ t: 'moved', to: m.tab, id: m.id, from: tab });
    } else if (state.role === 'leader') {
      if (t === 'hi') peers.add(m.tab);
      else if (t === 'bye') peers.delete(m.tab);
      else return;
      state.tabs = peers.size + 1;
      announce(false);
    } else if (t === 'lead') {
      leader = m.tab;
      away = m.away;
      state.tabs = m.tabs;
      // Greet a new leader, so that it counts this tab.
      if (m.fresh) post({ t: 'hi', tab });
      reassign();
      steal();
    }
  };

  /**
   * Runs a follower's request with this tab's client; the answer goes back as bytes, unless the
   * call was handed back meanwhile.
   * @param {any} m
   */
  async function lead(m) {
    const key = `${m.tab}:${m.id}`;
    const r = { c: new AbortController(), idempotent: m.idempotent, tab: m.tab, id: m.id };
    running.set(key, r);
    const reply = (msg) => running.get(key) === r && post({ to: m.tab, id: m.id, ...msg });
    try {
      const response = await hooks.run(m.url, { ...m.init, signal: r.c.signal });
      const body = await response.arrayBuffer();
      reply({ t: 'res', status: response.status, statusText: response.statusText, headers: [...response.headers], body });
    } catch (e) {
      const error = /** @type {any} */ (e);
      reply({ t: 'err', kind: error?.kind ?? 'network', status: error?.status, attempts: error?.attempts ?? 0, message: String(error?.message ?? error) });
    } finally {
      if (running.get(key) === r) running.delete(key);
    }
  }

  /** This tab follows now, and queues for the lock again; the leader will greet it. */
  function follow() {
    closed.removeEventListener('abort', release);
    holding = null;
    state.role = 'follower';
    leader = undefined;
    post({ t: 'hi', tab });
    join(false);
  }

  /**
   * Queues for the lock (or, `steal`, takes it at once); holding it, this tab leads until it
   * closes, steps down, or a visible tab takes it.
   * @param {boolean} steal
   */
  function join(steal) {
    ticket?.abort();
    const place = (ticket = new AbortController());
    locks
      .request(lockName, steal ? { steal } : { signal: place.signal }, () => {
        if (closed.aborted) return;
        holding = place;
        state.role = 'leader';
        leader = tab;
        peers.clear();
        state.tabs = 1;
        announce(true);
        // What this tab had handed to another, by the followers' rule.
        reassign();
        return new Promise((r) => {
          release = r;
          closed.addEventListener('abort', r);
        });
      })
      .catch(() => {
        // Taken by a visible tab: this tab follows. (A place given up rejects too.)
        if (holding === place) follow();
      });
  }

  join(false);
  post({ t: 'hi', tab });
  const bye = () => post({ t: 'bye', tab });
  // A leader about to be frozen runs nothing until it resumes: it hands back what may be sent
  // again (the rest it answers after it resumes) and steps down. Its lock's release may wait
  // for the resume, so it says so, and a follower takes the lock.
  const freeze = () => {
    if (!holding) return;
    for (const [key, r] of running) {
      if (!r.idempotent) continue;
      running.delete(key);
      r.c.abort();
      post({ t: 'moved', to: r.tab, id: r.id, from: tab });
    }
    post({ t: 'frozen', tab });
    release();
    follow();
  };
  const shown = () => (state.role === 'leader' ? announce(false) : steal());
  globalThis.addEventListener?.('pagehide', bye);
  globalThis.document?.addEventListener('visibilitychange', shown);
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
      const w = { msg: { t: 'req', tab, id, url, init, idempotent }, idempotent, at: '' };
      waiting.set(id, w);
      send(id, w);
      return id;
    },

    /** @param {number} id */
    abort(id) {
      const w = waiting.get(id);
      if (w && waiting.delete(id) && w.at) post({ t: 'abort', tab, id });
    },

    close() {
      bye();
      globalThis.removeEventListener?.('pagehide', bye);
      globalThis.document?.removeEventListener('visibilitychange', shown);
      globalThis.document?.removeEventListener('freeze', freeze);
      ticket?.abort();
      stop.abort();
      channel.close();
      state.role = 'alone';
      state.tabs = 1;
    },
  };
}
