// fetchlane demo: the same scene (product page, dashboard, 100-user team panel) loaded three
// ways against the local API server, with a live waterfall, the client's stats and events.
import { h, RENDER, teamGrid } from './render.js';
import { OUTCOMES, Waterfall, shortLabel } from './waterfall.js';

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);

// ───────────────────────────── constants ─────────────────────────────

/** The faults this page documents and applies on first open. */
export const DEFAULT_FAULTS = { latencyMs: 120, jitterMs: 80, errorRate: 0.15, rateLimitRate: 0.1, retryAfterSec: 1 };
const NO_FAULTS = { latencyMs: 0, jitterMs: 0, errorRate: 0, rateLimitRate: 0, retryAfterSec: 1 };
const RETRY = { limit: 5, backoffMs: 100, factor: 2, maxBackoffMs: 2000 };
const TTL_MS = 5 * 60_000;
const TEAM_SIZE = 100;
const BATCH = 25;
const PRODUCT = '42';
const MODES = ['sequential', 'promise-all', 'fetchlane'];
const MODE_NAME = { sequential: 'Sequential await fetch', 'promise-all': 'Promise.all(fetch)', fetchlane: 'fetchlane' };
const SCENE_NAME = { page: 'whole page', product: 'product page', dashboard: 'dashboard', team: 'team panel' };
const EVENT_TYPES = ['queued', 'start', 'retry', 'rate-limited', 'cache-hit', 'cache-update', 'cache-error', 'settled'];

const PRODUCT_PATH = `/api/product/${PRODUCT}`;
/** Every panel and the request behind it. Three panels show parts of the product (the card, the
 * price box, the stock badge): a naive app fetches the whole product for each; fetchlane asks for
 * each panel's `fields` in the same tick and sends ONE request for their union. Two components
 * ask for the same resource (the account chip and the user card): fetchlane de-duplicates.
 * `caller`: the panel's name in the waterfall's list of callers. */
const SECTIONS = {
  product: [
    { panel: 'product', caller: 'card', path: PRODUCT_PATH, lane: 'critical',
      fields: ['id', 'name', 'brand', 'category', 'rating', 'reviewCount', 'images', 'description', 'tags', 'specs'] },
    { panel: 'price', caller: 'price', path: PRODUCT_PATH, lane: 'critical', fields: ['price', 'currency'] },
    { panel: 'stock', caller: 'stock', path: PRODUCT_PATH, lane: 'critical', fields: ['stock'] },
    { panel: 'reviews', path: `/api/product/${PRODUCT}/reviews`, lane: 'normal' },
    { panel: 'inventory', path: `/api/product/${PRODUCT}/inventory`, lane: 'normal' },
    { panel: 'recommendations', path: `/api/product/${PRODUCT}/recommendations`, lane: 'background' },
  ],
  dashboard: [
    { panel: 'account', path: '/api/user', lane: 'critical' },
    { panel: 'user', path: '/api/user', lane: 'critical' },
    { panel: 'notifications', path: '/api/notifications', lane: 'normal' },
    { panel: 'analytics', path: '/api/analytics', lane: 'background' },
  ],
};
const TEAM_IDS = Array.from({ length: TEAM_SIZE }, (_, i) => String(i + 1));
const sectionsOf = (scene) => (scene === 'page' ? ['product', 'dashboard', 'team'] : [scene]);
const panelsOf = (scene) => sectionsOf(scene).flatMap((s) => (s === 'team' ? ['team'] : SECTIONS[s].map((r) => r.panel)));
const ALL_PANELS = panelsOf('page');

const groupOf = (path) =>
  path.startsWith('/api/product')
    ? 'product'
    : path.startsWith('/api/team')
      ? 'team'
      : path.startsWith('/api/')
        ? 'dashboard'
        : path.startsWith('/collect/')
          ? 'outbox'
          : 'other';
/**
 * The analytics outbox's server run: one per page load, so that the "endpoint down" toggle
 * (a fault rule of that run) holds across scene runs and clients.
 */
const ANALYTICS_RUN = `analytics-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`;
const ANALYTICS_URL = `/collect/analytics?run=${ANALYTICS_RUN}`;
const withRun = (path, run) => `${path}${path.includes('?') ? '&' : '?'}run=${encodeURIComponent(run)}`;
/** The path and query of an absolute URL, without the `run` tag. */
function pathOf(url) {
  const u = new URL(url, location.href);
  u.searchParams.delete('run');
  return decodeURIComponent(u.pathname + u.search);
}
/** The path and query without `run` and `fields`: what the app asked for, before field selection. */
function basePathOf(url) {
  const u = new URL(url, location.href);
  u.searchParams.delete('run');
  u.searchParams.delete('fields');
  return decodeURIComponent(u.pathname + u.search);
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const fmtMs = (x) => `${Math.round(x).toLocaleString('en-US')} ms`;
const fmtBytes = (n) => (n >= 1024 * 1024 ? `${(n / 1048576).toFixed(2)} MB` : n >= 1024 ? `${(n / 1024).toFixed(1)} kB` : `${n} B`);

// ───────────────────────────── state ─────────────────────────────

const SETTINGS_KEY = 'fetchlane-demo:settings';
const HISTORY_KEY = 'fetchlane-demo:runs';
const settings = {
  mode: 'fetchlane', scene: 'page', concurrency: 6, strategy: 'cache-first', retry: true, dedupe: true, adaptive: false, share: false,
  ...readJson(localStorage, SETTINGS_KEY, {}),
};
const state = {
  busy: false,
  shown: null, // the run whose panels and waterfall are on screen
  last: {}, // mode → the last run of this page
  eventRun: null, // the fetchlane run that client events are drawn into
  history: readJson(sessionStorage, HISTORY_KEY, []),
  client: null,
  clientGen: 0,
  clientReady: null,
  offs: [],
  serverConfig: null,
  limits: null, // the per-host limit chart's data (see `resetLimits`)
  latency: null, // the latency table's samples (see `resetLatency`)
};
let transportRun = null; // the `run` tag fetchlane's transport adds
let transportBytes = 0; // body bytes the transport received (Content-Length)

function readJson(store, key, fallback) {
  try {
    return JSON.parse(store.getItem(key)) ?? fallback;
  } catch {
    return fallback;
  }
}
const saveSettings = () => localStorage.setItem(SETTINGS_KEY, JSON.stringify(settings));

// ───────────────────────────── the package ─────────────────────────────

let lib;
try {
  lib = await import('/pkg/index.js');
} catch (e) {
  $('status').textContent = `Could not load the fetchlane package from /pkg/ (${e.message}). Build it: npm start.`;
  $('status').classList.add('bad');
  throw e;
}
const { createClient, isFetchlaneError } = lib;

/** fetchlane's transport: the global fetch, tagging each request with the current run so the
 * server can count it, while the client's cache and dedupe keys stay the plain URLs. */
async function transport(request) {
  const url = new URL(request.url);
  // The analytics outbox keeps the run of its own (its endpoint's fault rule belongs to it).
  if (transportRun && !url.pathname.startsWith('/collect/')) url.searchParams.set('run', transportRun);
  const init = {
    method: request.method, headers: request.headers, signal: request.signal,
    credentials: request.credentials, cache: request.cache, redirect: request.redirect,
  };
  if (request.method !== 'GET' && request.method !== 'HEAD') init.body = await request.arrayBuffer();
  const response = await fetch(url, init);
  const n = Number(response.headers.get('content-length')) || 0;
  transportBytes += n;
  const run = state.eventRun;
  if (run && run.id === transportRun) addBytes(run, request.url, n);
  return response;
}

async function makeClient() {
  const old = state.client;
  state.client = null;
  if (old) {
    for (const off of state.offs) off();
    old.close();
  }
  const gen = ++state.clientGen;
  const options = {
    concurrency: settings.concurrency,
    retry: settings.retry ? RETRY : false,
    dedupe: settings.dedupe,
    cache: settings.strategy === 'off' ? false : { strategy: settings.strategy, ttlMs: TTL_MS, persist: { name: 'demo' } },
    fetch: transport,
    // each panel's json() result trimmed to the fields it asked for
    fields: { param: 'fields', project: true },
  };
  if (settings.adaptive) options.adaptive = true;
  // One client for every tab of the demo: the leading tab runs all their requests.
  if (settings.share) options.share = { name: 'fetchlane-demo' };
  state.limits = null;
  state.latency = null;
  renderLimits();
  renderLatency();
  // Each request is also a measure on the "fetchlane" track of the Performance panel, and its
  // `settled` event carries `timing` (the latency table).
  const client = await createClient({ ...options, timing: true });
  if (gen !== state.clientGen) {
    // A later option change made a newer client while this one was being created: that one
    // is the page's; this one must not leak.
    client.close();
    return state.clientReady;
  }
  resetLimits(gen, options.adaptive === true);
  resetLatency(gen);
  state.offs = EVENT_TYPES.map((type) => client.on(type, (e) => onClientEvent(gen, e)));
  state.offs.push(client.on('limit', (e) => onLimitEvent(gen, e)));
  for (const type of ['outbox-sent', 'outbox-retry', 'outbox-drop']) state.offs.push(client.on(type, (e) => onOutboxEvent(gen, e)));
  state.client = client;
  state.clientCreated = new Date();
  $('client-info').textContent =
    `Client #${gen}: concurrency ${options.concurrency}, retries ${settings.retry ? `up to ${RETRY.limit}` : 'off'}, ` +
    `cache ${settings.strategy === 'off' ? 'off' : settings.strategy}, dedupe ${settings.dedupe ? 'on' : 'off'}, ` +
    `adaptive per-host limit ${options.adaptive ? 'on' : 'off (fixed at perHost)'}, ` +
    'timing on (the Performance panel\'s "fetchlane" track); ' +
    `client.loader ${typeof client.loader === 'function' ? 'available' : 'not in this build (hand-rolled batching)'}.`;
  $('client-info').dataset.adaptive = String(!!options.adaptive);
  renderStats();
  return client;
}

const ensureClient = async () => state.client ?? (await state.clientReady);

// ───────────────────────────── runs and records ─────────────────────────────

class Run {
  constructor(mode, scene) {
    this.id = `${mode}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`;
    this.mode = mode;
    this.scene = scene;
    this.t0 = performance.now();
    this.t1 = null;
    this.records = [];
    this.byKey = new Map();
    this.panels = {};
    this.team = null;
    this.teamMethod = null;
    this.bytes = 0;
    this.bytesByPath = {}; // base path (no `fields`) → body bytes received
    this.calls = {}; // base path → the app's calls for it, in call order: { name, fields }
    this.seq = 0;
    this.pending = [];
    for (const p of panelsOf(scene)) this.panels[p] = { state: 'loading' };
    if (sectionsOf(scene).includes('team')) this.team = TEAM_IDS.map(() => ({ state: 'loading' }));
  }

  record(fields) {
    const r = {
      key: `${this.id}:${this.seq}`, seq: this.seq++, method: 'GET', lane: null, who: MODE_NAME[this.mode],
      queued: performance.now(), start: null, end: null, retries: [], pauses: [], source: null, status: null,
      error: null, attempts: 1, bytes: 0, group: 'other', batch: false, note: null, ...fields,
    };
    this.records.push(r);
    this.byKey.set(r.key, r);
    return r;
  }
}

/** Counts body bytes against the base path of `url` (for the per-resource totals). */
function addBytes(run, url, n) {
  const base = basePathOf(url);
  run.bytesByPath[base] = (run.bytesByPath[base] ?? 0) + n;
}

function setPanel(run, panel, status, value) {
  run.panels[panel] = status === 'ok' ? { state: 'ok', data: value } : { state: status, error: value };
  if (state.shown === run) paintPanel(panel, run.panels[panel]);
}

function setMember(run, i, status, value) {
  run.team[i] = status === 'ok' ? { state: 'ok', user: value } : { state: 'error', error: value };
  if (state.shown === run) scheduleTeamPaint();
}

/** A readable reason for a failed request. */
function reason(e) {
  if (isFetchlaneError(e)) {
    const what = e.kind === 'http' ? `HTTP ${e.status}` : e.kind;
    return `${what} after ${e.attempts} attempt${e.attempts === 1 ? '' : 's'} (${pathOf(e.url)})`;
  }
  return e?.message ?? String(e);
}

// ───────────────────────────── plain fetch (modes 1 and 2) ─────────────────────────────

const usedTimings = new WeakSet();
/** Queued/started from Resource Timing: the browser queues beyond 6 connections per host. */
function refineTiming(r) {
  if (!r.url) return;
  const entries = performance.getEntriesByName(r.url, 'resource').filter((e) => !usedTimings.has(e));
  let best;
  for (const e of entries) if (!best || Math.abs(e.startTime - r.queued) < Math.abs(best.startTime - r.queued)) best = e;
  if (!best || Math.abs(best.startTime - r.queued) > 50) return;
  usedTimings.add(best);
  const start = best.requestStart > 0 ? best.requestStart : best.fetchStart;
  if (start >= r.queued && start <= (r.end ?? Infinity)) r.start = start;
  r.timed = true;
}

/** One plain `fetch`, timed for the waterfall; non-2xx throws like any app's `fetchOk`. */
async function plainJson(run, path, caller) {
  const url = new URL(withRun(path, run.id), location.href).href;
  const r = run.record({ label: path, url, group: groupOf(path), lane: null, plain: true });
  if (caller) r.callers = [{ name: caller, fields: null }];
  r.start = r.queued;
  logLine(run, r.queued, 'fetch', `GET ${path}`);
  draw();
  try {
    const response = await fetch(url);
    r.status = response.status;
    const buf = await response.arrayBuffer();
    r.bytes = buf.byteLength;
    run.bytes += buf.byteLength;
    addBytes(run, url, buf.byteLength);
    if (!response.ok) throw new Error(`HTTP ${response.status} (${path})`);
    return JSON.parse(new TextDecoder().decode(buf));
  } catch (e) {
    r.error = r.status ? `http ${r.status}` : 'network';
    throw r.status ? e : new Error(`network error (${path}): ${e.message}`);
  } finally {
    r.end = performance.now();
    refineTiming(r);
    logLine(run, r.end, r.error ? 'failed' : 'response', `GET ${path} · ${r.status ?? r.error} · ${fmtMs(r.end - r.queued)}`);
    draw();
  }
}

async function runSequential(run) {
  for (const section of sectionsOf(run.scene)) {
    if (section === 'team') {
      run.teamMethod = 'plain';
      for (let i = 0; i < TEAM_SIZE; i++) {
        try {
          setMember(run, i, 'ok', await plainJson(run, `/api/team/${TEAM_IDS[i]}`));
        } catch (e) {
          setMember(run, i, 'error', e.message);
        }
      }
      finishTeam(run);
      continue;
    }
    for (const { panel, path, caller } of SECTIONS[section]) {
      try {
        setPanel(run, panel, 'ok', await plainJson(run, path, caller));
      } catch (e) {
        setPanel(run, panel, 'error', e.message);
      }
    }
  }
}

async function runPromiseAll(run) {
  await Promise.all(
    sectionsOf(run.scene).map(async (section) => {
      if (section === 'team') {
        run.teamMethod = 'plain';
        const calls = TEAM_IDS.map((id) => plainJson(run, `/api/team/${id}`));
        run.pending.push(...calls);
        try {
          const users = await Promise.all(calls);
          users.forEach((u, i) => setMember(run, i, 'ok', u));
          finishTeam(run);
        } catch (e) {
          run.team = null;
          setPanel(run, 'team', 'error', `Promise.all rejected: ${e.message}. Nothing to render.`);
        }
        return;
      }
      const requests = SECTIONS[section];
      const calls = requests.map((r) => plainJson(run, r.path, r.caller));
      run.pending.push(...calls);
      try {
        const bodies = await Promise.all(calls);
        requests.forEach((r, i) => setPanel(run, r.panel, 'ok', bodies[i]));
      } catch (e) {
        for (const r of requests) setPanel(run, r.panel, 'error', `Promise.all rejected: ${e.message}`);
      }
    }),
  );
}

// ───────────────────────────── fetchlane (mode 3) ─────────────────────────────

function onClientEvent(gen, e) {
  if (gen !== state.clientGen) return;
  if (e.type === 'start') seedLimits(e.url, e.time);
  if (e.type === 'settled') {
    addLatencySample(gen, e);
    scheduleStats();
  }
  const run = state.eventRun;
  if (!run) return;
  const key = `fl${gen}:${e.id}`;
  let r = run.byKey.get(key);
  if (!r && e.type === 'settled' && e.source === 'dedupe') {
    // A call that joined a request in flight (the same URL: with field selection, the union
    // of the tick's fields): no bar of its own, it is listed among that request's callers.
    const owner = run.records.findLast((o) => o.flUrl === e.url && o.flGen === gen && o.queued <= e.time);
    if (owner) {
      owner.joined.push({ flId: e.id, lane: e.lane, called: e.durationMs != null ? e.time - e.durationMs : null, end: e.time,
        source: 'dedupe', status: e.status ?? null, error: e.error ?? null });
      logLine(run, e.time, e.type, `#${e.id} ${e.method} ${shortLabel(owner.label)} · dedupe: answered by #${owner.flId}${e.error ? ` · error ${e.error}` : ''}`);
      draw();
      scheduleStats();
      return;
    }
  }
  if (!r) {
    const path = pathOf(e.url);
    r = run.record({ key, label: path, method: e.method, lane: e.lane, who: `fetchlane request #${e.id}`, group: groupOf(path), outbox: path.startsWith('/collect/'),
      queued: e.type === 'settled' && e.durationMs != null ? e.time - e.durationMs : e.time, batch: /[?&]ids=/.test(path),
      sawQueued: false, flUrl: e.url, flGen: gen, flId: e.id, base: basePathOf(e.url), joined: [] });
    run.byKey.set(key, r);
  }
  r.attempts = Math.max(r.attempts, e.attempt ?? 1);
  let extra = '';
  switch (e.type) {
    case 'queued':
      r.queued = e.time;
      r.sawQueued = true;
      break;
    case 'start':
      r.start = e.time;
      break;
    case 'retry':
      r.retries.push({ time: e.time, delayMs: e.delayMs, reason: e.reason, status: e.status });
      extra = `${e.reason}${e.status ? ` ${e.status}` : ''}, next attempt in ${fmtMs(e.delayMs)}`;
      break;
    case 'rate-limited':
      r.pauses.push({ time: e.time, delayMs: e.delayMs, status: e.status });
      extra = `${e.status ?? ''} → host paused ${fmtMs(e.delayMs)}`;
      break;
    case 'cache-hit':
      r.source = e.source;
      extra = e.source;
      break;
    case 'cache-update':
      r.note = 'Refreshed in the background (stale-while-revalidate).';
      break;
    case 'cache-error':
      r.note = `Cache store failed: ${e.cause}`;
      extra = String(e.cause);
      break;
    case 'settled':
      r.end = e.time;
      r.source = e.source ?? r.source;
      r.status = e.status ?? r.status;
      r.error = e.error ?? null;
      // `durationMs` counts from the call; `queued` fires after the cache look-up
      if (e.durationMs != null) r.called = Math.min(e.time - e.durationMs, r.queued);
      if (!r.sawQueued) r.queued = r.called ?? r.queued;
      if (r.start == null) r.start = r.queued;
      extra = `${e.source ?? ''}${e.status ? ` · ${e.status}` : ''}${e.error ? ` · error ${e.error}` : ''} · ${fmtMs(e.durationMs ?? e.time - r.queued)}`;
      break;
    default:
  }
  logLine(run, e.time, e.type, `#${e.id} ${e.method} ${shortLabel(r.label)}${e.type === 'queued' ? ` (${e.lane})` : ''}${extra ? ` · ${extra}` : ''}`);
  draw();
  scheduleStats();
}

async function runFetchlane(run) {
  const client = await ensureClient();
  const tasks = [];
  for (const section of sectionsOf(run.scene)) {
    if (section === 'product') {
      // each panel renders as soon as its answer is in; lanes put the product itself first. The
      // card, the price box and the stock badge ask for their own fields of /api/product/42 in
      // this same tick: fetchlane sends one request for the union, each gets its own fields.
      for (const { panel, caller, path, lane, fields } of SECTIONS.product) {
        noteCall(run, path, caller ?? panel, fields);
        tasks.push(client.json(path, fields ? { lane, fields } : { lane })
          .then((v) => setPanel(run, panel, 'ok', v), (e) => setPanel(run, panel, 'error', reason(e))));
      }
      // A product view for analytics: stored at once, delivered in the background lane
      // whenever the endpoint takes it (the run does not wait for it).
      sendAnalytics(client, { event: 'view', product: PRODUCT, run: run.id });
    } else if (section === 'dashboard') {
      const [chip, ...cards] = SECTIONS.dashboard;
      noteCall(run, chip.path, chip.panel);
      for (const c of cards) noteCall(run, c.path, c.panel);
      tasks.push(client.json(chip.path, { lane: chip.lane }).then((v) => setPanel(run, 'account', 'ok', v), (e) => setPanel(run, 'account', 'error', reason(e))));
      tasks.push(
        client.allSettled(cards.map(({ path, lane }) => ({ input: path, init: { lane } }))).then((results) =>
          results.forEach((res, i) =>
            res.status === 'fulfilled' ? setPanel(run, cards[i].panel, 'ok', res.value) : setPanel(run, cards[i].panel, 'error', reason(res.reason)),
          ),
        ),
      );
    } else if (section === 'team') {
      tasks.push(loadTeam(run, client));
    }
  }
  await Promise.all(tasks);
}

// ── the analytics outbox

const outboxCounts = { sent: 0, delivered: 0, retried: 0, dropped: 0 };

/** Stores one analytics event in the client's `analytics` outbox. */
function sendAnalytics(client, event) {
  let outbox;
  try {
    outbox = client.outbox('analytics', { retry: { backoffMs: 500, maxBackoffMs: 5000 } });
  } catch (e) {
    // No IndexedDB (a private window of some browsers): the page goes on without analytics.
    $('outbox-status').textContent = `Analytics outbox unavailable: ${e.message}`;
    return;
  }
  outbox
    .send(ANALYTICS_URL, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ...event, at: Date.now() }) })
    .then(() => {
      outboxCounts.sent++;
      renderOutbox(outbox);
    }, (e) => {
      $('outbox-status').textContent = `Analytics event not stored: ${e.message}`;
    });
}

/** An outbox event of client `gen`: the counters, and a line in the log. */
function onOutboxEvent(gen, e) {
  if (gen !== state.clientGen) return;
  if (e.type === 'outbox-sent') outboxCounts.delivered++;
  else if (e.type === 'outbox-retry') outboxCounts.retried++;
  else outboxCounts.dropped++;
  const run = state.eventRun;
  const what = e.type === 'outbox-retry' ? `retry in ${fmtMs(e.delayMs)} (${e.reason}${e.status ? ` ${e.status}` : ''})` : e.type === 'outbox-drop' ? `dropped (${e.reason})` : `delivered (HTTP ${e.status})`;
  if (run) logLine(run, e.time, e.type, `outbox ${e.outbox} · ${e.idempotencyKey.slice(0, 8)}… · ${what}`);
  renderOutbox(state.client?.outbox('analytics'));
}

/** The counter line: stored (still waiting), sent to the outbox, delivered, retried, dropped. */
function renderOutbox(outbox) {
  const el = $('outbox-status');
  const show = (stored) => {
    Object.assign(el.dataset, { stored: String(stored), sent: String(outboxCounts.sent), delivered: String(outboxCounts.delivered), run: ANALYTICS_RUN });
    el.textContent =
      `Analytics outbox: ${stored} stored, waiting · ${outboxCounts.sent} sent by this page · ${outboxCounts.delivered} delivered` +
      (outboxCounts.retried ? ` · ${outboxCounts.retried} attempts retried` : '') +
      (outboxCounts.dropped ? ` · ${outboxCounts.dropped} dropped` : '');
  };
  if (outbox) outbox.size().then(show, () => show(NaN));
}

/** The "analytics endpoint down" toggle: a fault rule of the analytics run on the server. */
async function setAnalyticsDown(down) {
  const url = `/__faults?run=${ANALYTICS_RUN}`;
  await fetch(url, down ? { method: 'POST', body: JSON.stringify({ path: '/collect/analytics', mode: 'down' }) } : { method: 'DELETE' });
  if (!down) state.client?.outbox('analytics').flush().then(() => renderOutbox(state.client?.outbox('analytics')));
}
$('outbox-down').addEventListener('change', (e) => setAnalyticsDown(e.target.checked));

/** Remembers a call of the app's, so that the waterfall can name the panel behind each request. */
function noteCall(run, path, name, fields = null) {
  const base = basePathOf(path);
  (run.calls[base] ??= []).push({ name, fields: fields ? [...fields] : null });
}

/**
 * Names the callers of each fetchlane request: the client numbers a tick's calls in the order
 * they were made (the calls with fields when the tick ends, in their order), so the calls for
 * one resource, sorted by id, are the app's calls for it in call order. A request's callers:
 * its own call, then the calls that joined it in flight (settled with source 'dedupe').
 */
function assignCallers(run) {
  const byBase = new Map();
  for (const r of run.records) {
    if (r.flId == null || !run.calls[r.base]) continue;
    const list = byBase.get(r.base) ?? [];
    list.push({ id: r.flId, r, j: null });
    for (const j of r.joined) list.push({ id: j.flId, r, j });
    byBase.set(r.base, list);
  }
  for (const [base, list] of byBase) {
    const calls = run.calls[base];
    list.sort((a, b) => a.id - b.id);
    for (const r of new Set(list.map((x) => x.r))) r.callers = [];
    list.forEach(({ id, r, j }, i) => {
      const c = calls[i] ?? { name: `call #${id}`, fields: null };
      const who = { name: c.name, fields: c.fields, id, source: j ? 'dedupe' : r.source, end: j ? j.end : r.end, error: j ? j.error : r.error };
      if (j) r.callers.push(who);
      else r.callers.unshift(who);
    });
  }
}

/** 100 users: `client.loader` batches the `load(id)` calls into ⌈100 / 25⌉ requests. */
async function loadTeam(run, client) {
  let loader = null;
  if (typeof client.loader === 'function') {
    try {
      loader = client.loader({ url: '/api/team?ids={keys}', maxBatchSize: BATCH });
    } catch (e) {
      run.teamNote = `client.loader threw (${e.message}); `;
    }
  }
  if (loader) {
    run.teamMethod = 'loader';
    await Promise.all(TEAM_IDS.map((id, i) => loader.load(id).then((u) => setMember(run, i, 'ok', u), (e) => setMember(run, i, 'error', reason(e)))));
  } else {
    // Fallback, clearly labelled on the page: the same batches by hand, through the same client.
    run.teamMethod = 'hand-rolled';
    const chunks = [];
    for (let i = 0; i < TEAM_IDS.length; i += BATCH) chunks.push(TEAM_IDS.slice(i, i + BATCH));
    await Promise.all(
      chunks.map(async (keys) => {
        try {
          const users = await client.json(`/api/team?ids=${keys.join(',')}`);
          const byId = new Map(users.map((u) => [String(u.id), u]));
          for (const id of keys) {
            const i = Number(id) - 1;
            const u = byId.get(id);
            if (u) setMember(run, i, 'ok', u);
            else setMember(run, i, 'error', `missing from the batch response`);
          }
        } catch (e) {
          for (const id of keys) setMember(run, Number(id) - 1, 'error', reason(e));
        }
      }),
    );
  }
  finishTeam(run);
}

function finishTeam(run) {
  if (!run.team) return;
  const failed = run.team.filter((m) => m.state === 'error').length;
  if (failed) setPanel(run, 'team', 'error', `${failed} of ${TEAM_SIZE} users failed to load.`);
  else setPanel(run, 'team', 'ok', run.team);
}

// ───────────────────────────── one load ─────────────────────────────

async function load(mode = settings.mode) {
  if (state.busy) return null;
  setBusy(true);
  const run = new Run(mode, settings.scene);
  state.last[mode] = run;
  showMode(mode);
  show(run);
  performance.clearResourceTimings();
  announce(`Loading the ${SCENE_NAME[run.scene]} with ${MODE_NAME[mode]}…`);
  logLine(run, run.t0, 'run', `── ${MODE_NAME[mode]} · ${SCENE_NAME[run.scene]} · run=${run.id}`, true);
  let before;
  let bytesBefore;
  const timer = setInterval(draw, 100);
  try {
    if (mode === 'fetchlane') {
      const client = await ensureClient();
      before = client.stats();
      bytesBefore = transportBytes;
      state.eventRun = run;
      transportRun = run.id;
      await runFetchlane(run);
    } else if (mode === 'sequential') {
      await runSequential(run);
    } else {
      await runPromiseAll(run);
    }
    run.t1 = performance.now();
    // the rest of the work: requests Promise.all left behind, background refreshes
    await Promise.allSettled(run.pending);
    if (mode === 'fetchlane') await Promise.race([state.client.onIdle(), sleep(10_000)]);
    await sleep(30);
    for (const r of run.records) if (!r.timed && r.url) refineTiming(r);
  } catch (e) {
    run.t1 ??= performance.now();
    run.crash = e?.message ?? String(e);
  } finally {
    clearInterval(timer);
  }
  const summary = await summarise(run, before, bytesBefore);
  run.summary = summary;
  state.history.unshift(summary);
  state.history.length = Math.min(state.history.length, 30);
  sessionStorage.setItem(HISTORY_KEY, JSON.stringify(state.history));
  draw(true);
  renderStats();
  renderHistory();
  if (state.shown === run) paintTeamHits(run);
  const s = summary;
  announce(
    `${MODE_NAME[mode]} loaded the ${SCENE_NAME[run.scene]} in ${fmtMs(s.total)}: ${s.hits} server hits, ` +
      `${s.panelsFailed ? `${s.panelsFailed} panel${s.panelsFailed === 1 ? '' : 's'} failed` : 'every panel complete'}` +
      (mode === 'fetchlane' ? `, ${s.cacheMemory + s.cachePersistent} cache hits (${s.cacheMemory} memory, ${s.cachePersistent} Cache API).` : '.') +
      (run.crash ? ` Error: ${run.crash}` : ''),
    s.panelsFailed ? 'warn' : 'ok',
  );
  $('status').dataset.run = run.id;
  document.body.dataset.runs = String(Number(document.body.dataset.runs) + 1);
  setBusy(false);
  return summary;
}

async function summarise(run, before, bytesBefore) {
  let server = { total: 0, hits: {}, statuses: {} };
  try {
    server = await (await fetch(`/__stats?run=${encodeURIComponent(run.id)}`)).json();
  } catch {
    /* the counts stay 0 */
  }
  const non2xx = Object.entries(server.statuses ?? {}).reduce((n, [code, c]) => n + (Number(code) >= 300 ? c : 0), 0);
  const teamHits = Object.entries(server.hits ?? {}).reduce((n, [p, c]) => n + (p.startsWith('/api/team') ? c : 0), 0);
  const teamBatchOk = (server.arrivals ?? []).filter((a) => a.path === '/api/team' && a.status === 200).length;
  const after = run.mode === 'fetchlane' ? state.client?.stats() : null;
  const d = (k) => (after && before ? after[k] - before[k] : 0);
  const panelsFailed = Object.values(run.panels).filter((p) => p.state === 'error').length;
  // the product itself: how many requests and bytes the card, price box and stock badge cost
  const productArrivals = (server.arrivals ?? []).filter((a) => a.path === PRODUCT_PATH);
  const productFields = [...new Set(productArrivals.map((a) => new URLSearchParams(a.query ?? '').get('fields') ?? '*'))];
  return {
    id: run.id, mode: run.mode, scene: run.scene, at: Date.now(),
    total: Math.round(run.t1 - run.t0),
    hits: server.total ?? 0, hitsByPath: server.hits ?? {}, statuses: server.statuses ?? {}, non2xx, teamHits, teamBatchOk,
    failedRequests: run.records.filter((r) => r.error).length,
    panelsFailed,
    panels: Object.fromEntries(Object.entries(run.panels).map(([k, v]) => [k, v.state])),
    bytes: run.mode === 'fetchlane' ? transportBytes - bytesBefore : run.bytes,
    cacheMemory: after && before ? after.cacheHits.memory - before.cacheHits.memory : 0,
    cachePersistent: after && before ? after.cacheHits.persistent - before.cacheHits.persistent : 0,
    deduped: d('deduped'), retried: d('retried'), batched: d('batched'), rateLimited: d('rateLimited'),
    teamMethod: run.teamMethod,
    client: run.mode === 'fetchlane' ? state.clientGen : null,
    productHits: server.hits?.[PRODUCT_PATH] ?? 0,
    productBytes: run.bytesByPath[PRODUCT_PATH] ?? 0,
    productFields,
  };
}

// ───────────────────────────── painting ─────────────────────────────

const waterfall = new Waterfall($('waterfall'), $('wf-details'), $('wf-tip'));
let drawPending = false;
function draw(now = false) {
  if (now === true) {
    drawPending = false;
    paintWaterfall();
    return;
  }
  if (drawPending) return;
  drawPending = true;
  requestAnimationFrame(() => {
    drawPending = false;
    paintWaterfall();
  });
}
function paintWaterfall() {
  const run = state.shown;
  if (!run) {
    waterfall.empty = `No ${MODE_NAME[settings.mode]} run on this page yet: press “Load scene”.`;
    waterfall.set([], 0, 0);
    $('wf-title').textContent = '';
    $('progress').textContent = '';
    return;
  }
  const live = run.t1 == null || run.records.some((r) => r.end == null);
  if (run.mode === 'fetchlane') assignCallers(run);
  waterfall.set(run.records, run.t0, live ? performance.now() : Math.max(...run.records.map((r) => r.end ?? 0), run.t1 ?? 0));
  const settled = run.records.filter((r) => r.end != null).length;
  const joined = run.records.reduce((n, r) => n + (r.joined?.length ?? 0), 0);
  $('wf-title').textContent = `· ${MODE_NAME[run.mode]} · ${SCENE_NAME[run.scene]} · ${run.records.length} requests` +
    (joined ? ` for ${run.records.length + joined} calls` : '');
  $('progress').textContent = run.t1 == null ? `${settled} of ${run.records.length} requests settled…` : run.summary ? '' : 'Counting server hits…';
}

function paintPanel(name, p) {
  const el = document.querySelector(`[data-panel="${name}"]`);
  if (!el) return;
  const body = el.querySelector('.panel-body');
  el.dataset.state = p?.state ?? 'idle';
  el.setAttribute('aria-busy', String(p?.state === 'loading'));
  if (!p || p.state === 'idle') {
    body.replaceChildren(h('p', { class: 'muted small' }, state.shown ? 'Not part of this scene.' : '–'));
  } else if (p.state === 'loading') {
    body.replaceChildren(h('div', { class: 'skeleton', 'aria-hidden': 'true' }, h('i'), h('i'), h('i')), h('span', { class: 'sr-only' }, 'Loading'));
  } else if (p.state === 'error') {
    if (name === 'team' && state.shown?.team) {
      body.replaceChildren(h('p', { class: 'error-box' }, '⚠ ', p.error), teamGrid(state.shown.team));
    } else {
      body.replaceChildren(h('p', { class: 'error-box' }, '⚠ Could not load: ', p.error));
    }
  } else if (name === 'team') {
    body.replaceChildren(teamGrid(p.data));
  } else {
    try {
      body.replaceChildren(RENDER[name](p.data));
    } catch (e) {
      el.dataset.state = 'error';
      body.replaceChildren(h('p', { class: 'error-box' }, `⚠ Unexpected payload: ${e.message}`));
    }
  }
}

let teamPending = false;
function scheduleTeamPaint() {
  if (teamPending) return;
  teamPending = true;
  requestAnimationFrame(() => {
    teamPending = false;
    const run = state.shown;
    if (run?.team && run.panels.team?.state === 'loading') {
      document.querySelector('[data-panel="team"] .panel-body').replaceChildren(teamGrid(run.team));
    }
  });
}

function teamMethodText(run) {
  if (!run || !run.team && run.panels.team == null) return '';
  switch (run.teamMethod) {
    case 'loader':
      return `fetchlane: client.loader({ url: '/api/team?ids={keys}', maxBatchSize: ${BATCH} }) and one load(id) per user → ⌈${TEAM_SIZE}/${BATCH}⌉ = ${Math.ceil(TEAM_SIZE / BATCH)} requests.`;
    case 'hand-rolled':
      return `Fallback: hand-rolled batching (this build of the package has no client.loader): ${Math.ceil(TEAM_SIZE / BATCH)} client.json('/api/team?ids=…') calls of ${BATCH} ids each.`;
    case 'plain':
      return `${MODE_NAME[run.mode]}: one request per user, GET /api/team/:id × ${TEAM_SIZE}.`;
    default:
      return run.mode === 'fetchlane' ? 'fetchlane: batching…' : `${MODE_NAME[run.mode]}: one request per user.`;
  }
}

/** Puts a run's panels, team grid and waterfall on screen. */
function show(run) {
  state.shown = run;
  for (const name of ALL_PANELS) paintPanel(name, run ? run.panels[name] : undefined);
  const tm = $('team-method');
  tm.textContent = run ? teamMethodText(run) : '';
  tm.dataset.method = run?.teamMethod ?? '';
  tm.classList.toggle('note-warn', run?.teamMethod === 'hand-rolled');
  paintTeamHits(run);
  $('scene-sub').textContent = run ? `· ${MODE_NAME[run.mode]} · run ${run.id}` : `· no ${MODE_NAME[settings.mode]} run yet`;
  for (const art of document.querySelectorAll('[data-section]')) art.classList.toggle('dim', !!run && !sectionsOf(run.scene).includes(art.dataset.section));
  draw(true);
}
function paintTeamHits(run) {
  const s = run?.summary;
  const el = $('team-hits');
  if (!s || !s.teamMethod) {
    el.textContent = '';
    return;
  }
  const ok = s.teamMethod === 'plain' ? TEAM_SIZE : Math.ceil(TEAM_SIZE / BATCH);
  const extra = s.teamHits - ok;
  el.textContent = `Server hits for the team: ${s.teamHits}${s.teamMethod === 'plain' ? '' : ` (${s.teamBatchOk} batch answers of ${BATCH} users)`}` +
    `${extra > 0 ? `, ${extra} of them retries` : ''}.`;
}
// keep the batching label current while the team loads
setInterval(() => {
  const run = state.shown;
  if (run && $('team-method').dataset.method !== (run.teamMethod ?? '')) {
    $('team-method').textContent = teamMethodText(run);
    $('team-method').dataset.method = run.teamMethod ?? '';
    $('team-method').classList.toggle('note-warn', run.teamMethod === 'hand-rolled');
  }
}, 200);

function announce(text, tone) {
  const el = $('status');
  el.textContent = text;
  el.className = `status ${tone ?? ''}`;
}

function setBusy(busy) {
  state.busy = busy;
  document.body.dataset.busy = String(busy);
  $('scene-view').setAttribute('aria-busy', String(busy));
  // buttons stay focusable (aria-disabled, their handlers check `state.busy`): disabling the
  // button a keyboard user just pressed would drop the focus to the page
  for (const id of ['load', 'run-all', 'again', 'new-client', 'reload-page', 'clear-cache']) $(id).setAttribute('aria-disabled', String(busy));
  for (const id of ['strategy', 'retry', 'dedupe', 'adaptive', 'share', 'scene']) $(id).disabled = busy;
  for (const r of document.querySelectorAll('input[name="mode"]')) r.disabled = busy;
}

// ── stats panel

let statsPending = false;
function scheduleStats() {
  if (statsPending) return;
  statsPending = true;
  setTimeout(() => {
    statsPending = false;
    renderStats();
  }, 120);
}
function renderStats() {
  const c = state.client;
  const dl = $('stats');
  if (!c) {
    dl.replaceChildren(h('dt', {}, 'client'), h('dd', {}, 'starting…'));
    renderLatency();
    return;
  }
  const s = c.stats();
  const rows = [
    ['started', s.started], ['succeeded', s.succeeded], ['failed', s.failed], ['retried', s.retried],
    ['deduped', s.deduped], ['batched', s.batched], ['cacheHits.memory', s.cacheHits.memory],
    ['cacheHits.persistent', s.cacheHits.persistent], ['cacheMisses', s.cacheMisses], ['rateLimited', s.rateLimited],
    ['bytes', s.bytes], ['activeCount', c.activeCount], ['pendingCount', c.pendingCount], ['concurrency', c.concurrency],
    ...Object.entries(s.hosts ?? {}).map(([host, v]) => [`hosts.${host}.limit`, v.limit]),
    ['share.role', s.share.role], ['share.tabs', s.share.tabs],
  ];
  dl.replaceChildren(
    ...rows.flatMap(([k, v]) => [h('dt', {}, k.startsWith('hosts.') ? ['hosts.', h('wbr'), k.slice(6, -6), h('wbr'), '.limit'] : k), h('dd', { 'data-stat': k, 'data-testid': `stat-${k}` }, k === 'bytes' ? `${v.toLocaleString('en-US')} (${fmtBytes(v)})` : String(v))]),
  );
  dl.dataset.client = String(state.clientGen);
  seedLimits(null, performance.now(), s.hosts);
  renderLimits();
  renderLatency(s);
}
// With `share` the role and the tab count change from other tabs: shown as they do.
setInterval(() => state.client && (state.busy || state.client.activeCount || state.client.pendingCount || settings.share) && renderStats(), 500);

// ── per-host limit over time (the `limit` events of `adaptive`, each host seeded from stats().hosts)

const LIMIT_COLORS = ['#1d4ed8', '#b45309', '#047857', '#7c3aed', '#be185d'];
const MAX_LIMIT_POINTS = 2000;
const fmtS = (ms) => `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;

function resetLimits(gen, adaptive) {
  if (gen !== state.clientGen) return; // a newer client is on its way
  // t0: the client exists from here; every point's time is counted from it
  state.limits = { gen, adaptive, t0: performance.now(), hosts: new Map(), seen: new Set(), events: 0 };
  renderLimits();
}

/** Adds the hosts `stats().hosts` knows and the chart does not yet, at their current limit. */
function seedLimits(url, time, hosts) {
  const L = state.limits;
  const c = state.client;
  if (!L || !c || L.gen !== state.clientGen) return;
  let key = null;
  if (url) {
    try {
      key = new URL(url, location.href).host;
    } catch {
      return;
    }
    if (L.seen.has(key)) return;
  }
  hosts ??= c.stats().hosts;
  if (!hosts) return; // a build without stats().hosts
  let added = false;
  for (const [host, { limit }] of Object.entries(hosts)) {
    if (L.hosts.has(host)) continue;
    L.hosts.set(host, [{ t: Math.max(0, time - L.t0), limit, reason: 'first seen' }]);
    added = true;
  }
  if (key && L.hosts.size) L.seen.add(key);
  if (added) scheduleLimits();
}

function onLimitEvent(gen, e) {
  const L = state.limits;
  if (gen !== state.clientGen || !L || L.gen !== gen) return;
  let series = L.hosts.get(e.host);
  if (!series) L.hosts.set(e.host, (series = [])); // no stats() seed yet: the line starts at this event
  series.push({ t: Math.max(0, e.time - L.t0), limit: e.limit, reason: e.reason });
  if (series.length > MAX_LIMIT_POINTS) series.splice(1, series.length - MAX_LIMIT_POINTS);
  L.events++;
  if (state.eventRun) logLine(state.eventRun, e.time, 'limit', `${e.host} → ${e.limit} (${e.reason})`);
  scheduleLimits();
  scheduleStats();
}

let limitsPending = false;
function scheduleLimits() {
  if (limitsPending) return;
  limitsPending = true;
  requestAnimationFrame(() => {
    limitsPending = false;
    renderLimits();
  });
}

/** A round step (1, 2 or 5 × 10ⁿ) that cuts `span` into at most `n` parts. */
function niceStep(span, n) {
  const raw = span / n;
  const p = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 5, 10].map((m) => m * p).find((s) => s >= raw);
}

function renderLimits() {
  const L = state.limits;
  const chart = $('limit-chart');
  const nowEl = $('limit-now');
  const summary = $('limit-summary');
  if (!L) {
    chart.replaceChildren();
    chart.dataset.hosts = '0';
    chart.dataset.points = '0';
    nowEl.textContent = 'Making a client…';
    summary.textContent = '';
    return;
  }
  const hosts = [...L.hosts.entries()];
  const live = L.gen === state.clientGen && state.client;
  const lastT = Math.max(0, ...hosts.map(([, pts]) => pts.at(-1).t));
  const tEnd = Math.max(1000, lastT, live ? performance.now() - L.t0 : 0);
  const yMax = Math.max(6, ...hosts.flatMap(([, pts]) => pts.map((p) => p.limit)));
  chart.dataset.adaptive = String(L.adaptive);
  chart.dataset.hosts = String(hosts.length);
  chart.dataset.points = String(hosts.reduce((n, [, pts]) => n + pts.length, 0));
  chart.dataset.events = String(L.events);

  // the text: the latest value of each host, then a summary that stands in for the picture
  if (!hosts.length) {
    nowEl.textContent = L.adaptive
      ? 'Adaptive is on. No request yet: each host appears with its first request.'
      : "Adaptive is off: each host's limit is fixed at perHost (6 unless set). No request yet.";
  } else {
    nowEl.replaceChildren(
      L.adaptive ? 'Now: ' : 'Adaptive is off, the limit is fixed at perHost: ',
      ...hosts.flatMap(([host, pts], i) => {
        const p = pts.at(-1);
        return [
          i ? '; ' : '',
          h('span', { 'data-host': host, 'data-limit': p.limit, 'data-reason': p.reason }, `${p.limit} on ${host}`),
          h('span', { class: 'muted' }, L.adaptive
            ? p.reason === 'first seen' ? ` (since ${fmtS(p.t)}, no change yet)` : ` (${p.reason} at ${fmtS(p.t)})`
            : ''),
        ];
      }),
    );
  }
  summary.textContent = !hosts.length
    ? ''
    : hosts.map(([host, pts]) => {
        const counts = {};
        for (const p of pts.slice(1)) counts[p.reason] = (counts[p.reason] ?? 0) + 1;
        const changes = pts.length - 1;
        const lims = pts.map((p) => p.limit);
        return `${host}: ${pts[0].limit} when first seen at ${fmtS(pts[0].t)}` +
          (changes
            ? `, ${changes} change${changes === 1 ? '' : 's'} (${Object.entries(counts).map(([r, n]) => `${n} ${r}`).join(', ')}), ` +
              `between ${Math.min(...lims)} and ${Math.max(...lims)}, ${pts.at(-1).limit} now`
            : L.adaptive ? ', unchanged so far' : ', fixed') + '.';
      }).join(' ') + ` Time since client #${L.gen} was made: ${fmtS(tEnd)}.`;

  // the picture: a step line per host, limit (0 to yMax) against time
  const W = 360;
  const H = 150;
  const m = { l: 24, r: 10, t: 8, b: 20 };
  const x = (t) => m.l + (t / tEnd) * (W - m.l - m.r);
  const y = (v) => m.t + (1 - v / yMax) * (H - m.t - m.b);
  const yStep = yMax <= 8 ? 1 : niceStep(yMax, 6);
  const xStep = niceStep(tEnd, 5);
  const grid = [];
  for (let v = 0; v <= yMax; v += yStep) {
    grid.push(h('svg:line', { class: 'lc-grid', x1: m.l, x2: W - m.r, y1: y(v), y2: y(v) }),
      h('svg:text', { class: 'lc-tick', x: m.l - 5, y: y(v) + 3.5, 'text-anchor': 'end' }, String(v)));
  }
  for (let t = 0; t <= tEnd + 1e-6; t += xStep) {
    const anchor = t === 0 ? 'start' : x(t) > W - m.r - 12 ? 'end' : 'middle';
    grid.push(h('svg:text', { class: 'lc-tick', x: x(t), y: H - 5, 'text-anchor': anchor }, `${(t / 1000).toFixed(xStep < 1000 && t ? 1 : 0)} s`));
  }
  const lines = hosts.map(([host, pts], i) => {
    const color = LIMIT_COLORS[i % LIMIT_COLORS.length];
    let d = `M${x(pts[0].t).toFixed(1)},${y(pts[0].limit).toFixed(1)}`;
    for (const p of pts.slice(1)) d += `H${x(p.t).toFixed(1)}V${y(p.limit).toFixed(1)}`;
    d += `H${x(tEnd).toFixed(1)}`;
    return h('svg:g', { class: 'lc-host', 'data-host': host },
      h('svg:path', { class: 'lc-line', d, stroke: color }),
      pts.map((p) =>
        h('svg:circle', { class: 'lc-point', cx: x(p.t).toFixed(1), cy: y(p.limit).toFixed(1), r: 2.6, fill: color,
          'data-host': host, 'data-limit': p.limit, 'data-reason': p.reason, 'data-t': Math.round(p.t) },
        h('svg:title', {}, `${host}: ${p.limit} at ${fmtS(p.t)} (${p.reason})`))),
    );
  });
  const empty = hosts.length ? null : h('svg:text', { class: 'lc-empty', x: (m.l + W - m.r) / 2, y: H / 2, 'text-anchor': 'middle' }, 'No request yet');
  chart.replaceChildren(
    h('svg:svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-labelledby': 'h-limits', 'aria-describedby': 'limit-now limit-summary' },
      h('svg:g', { 'aria-hidden': 'true' }, grid), lines, empty),
    ...(hosts.length > 1
      ? [h('ul', { class: 'legend', 'aria-label': 'Line colours' }, hosts.map(([host], i) =>
          h('li', {}, h('i', { class: 'swatch', style: `background:${LIMIT_COLORS[i % LIMIT_COLORS.length]}` }), host)))]
      : []),
  );
}

// ── latency per endpoint (the `timing` of each `settled` event; the client's own percentiles below)

/** Samples kept per endpoint: the table's percentiles and averages are over the last ones. */
const LATENCY_WINDOW = 200;
/** The `timing.source` values of cache hits: no request went out, so no queue or network time. */
const HIT_SOURCES = new Set(['memory', 'persistent']);
/** A latency in ms: one decimal below 10 ms (a memory hit takes well under one), '–' for none. */
const fmtLat = (ms) => (!Number.isFinite(ms) ? '–' : ms < 0.05 ? '< 0.1 ms' : ms < 10 ? `${ms.toFixed(1)} ms` : fmtMs(ms));

/** Starts the table afresh for client `gen`, as its `stats()` starts afresh. */
function resetLatency(gen) {
  if (gen !== state.clientGen) return; // a newer client is on its way
  state.latency = { gen, endpoints: new Map() };
  renderLatency();
}

/** The endpoint a URL belongs to: its path without the query (`/api/team?ids=1,2` → `/api/team`),
 * after the host when it is not this page's. */
function endpointOf(url) {
  try {
    const u = new URL(url, location.href);
    return u.origin === location.origin ? u.pathname : `${u.host}${u.pathname}`;
  } catch {
    return String(url);
  }
}

/**
 * One sample from a `settled` event's `timing`. `queue` (queuedMs + retryWaitMs) and `network`
 * (networkMs) are set only when the event reports network time: cache hits have none, and
 * they stay out of the split.
 * @returns {{ total: number, hit: boolean, queue?: number, network?: number }}
 */
function latencySample(e) {
  const t = e.timing;
  const hit = HIT_SOURCES.has(t.source);
  if (t.networkMs === undefined) return { total: t.totalMs, hit };
  return { total: t.totalMs, hit, queue: t.queuedMs + t.retryWaitMs, network: t.networkMs };
}

/** Adds a `settled` event of client `gen` to its endpoint's window. */
function addLatencySample(gen, e) {
  const L = state.latency;
  if (!L || L.gen !== gen) return;
  const s = latencySample(e);
  const key = endpointOf(e.url);
  let samples = L.endpoints.get(key);
  if (!samples) L.endpoints.set(key, (samples = []));
  samples.push(s);
  if (samples.length > LATENCY_WINDOW) samples.splice(0, samples.length - LATENCY_WINDOW);
}

/** The q-quantile (0 < q ≤ 1) of ascending numbers, by nearest rank; undefined for none. */
function quantile(sorted, q) {
  if (!sorted.length) return undefined;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

/** The mean of some numbers; undefined for none. */
const mean = (xs) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : undefined);

/**
 * What an endpoint's row shows, from its window: p50 and p95 of every answer's total (cache
 * hits included: that is what the callers waited), the hits, and the average queue wait and
 * network time of the answers that went out.
 */
function endpointLatency(samples) {
  const totals = samples.map((s) => s.total).sort((a, b) => a - b);
  const out = samples.filter((s) => s.network !== undefined);
  return {
    count: samples.length,
    hits: samples.filter((s) => s.hit).length,
    p50: quantile(totals, 0.5),
    p95: quantile(totals, 0.95),
    sent: out.length,
    queue: mean(out.map((s) => s.queue)),
    network: mean(out.map((s) => s.network)),
  };
}

/** The average split into queue wait and network, as a bar on `scale` ms and as text. */
function latencySplit(r, scale) {
  if (r.network === undefined) return h('span', { class: 'small muted' }, r.hits ? 'cache hits only' : 'no network time reported');
  const pct = (ms) => `${Math.max(0, (ms / scale) * 100).toFixed(1)}%`;
  const text = `${fmtLat(r.queue)} queue + ${fmtLat(r.network)} network`;
  return h('div', { class: 'lat-split', title: `Average of ${r.sent} request${r.sent === 1 ? '' : 's'} sent: ${text}` },
    h('div', { class: 'lat-bar', 'aria-hidden': 'true' },
      h('i', { class: 'lat-queue', style: `width:${pct(r.queue)}` }),
      h('i', { class: 'lat-net', style: `width:${pct(r.network)}` })),
    h('span', { class: 'small' }, text));
}

/** One row of the table. */
function latencyRow(endpoint, r, scale) {
  const round = (x) => (Number.isFinite(x) ? Math.round(x * 10) / 10 : '');
  return h('tr', {
    'data-testid': 'latency-row', 'data-endpoint': endpoint, 'data-count': r.count, 'data-hits': r.hits,
    'data-p50': round(r.p50), 'data-p95': round(r.p95), 'data-queue': round(r.queue), 'data-network': round(r.network),
  },
  h('th', { scope: 'row' }, h('code', {}, endpoint)),
  h('td', { class: 'num' }, String(r.count)),
  h('td', { class: 'num' }, fmtLat(r.p50)),
  h('td', { class: 'num' }, fmtLat(r.p95)),
  h('td', {}, latencySplit(r, scale)),
  h('td', { class: 'num' }, String(r.hits)),
  );
}

/** A message across the table, in place of its rows. */
const latencyNote = (...text) => h('tr', {}, h('td', { colspan: 6, class: 'muted' }, text));

/** `stats().latency` or `.queueWait` as text: p50 and p95 over `count` requests. */
function percentilesText(name, d) {
  return d.count ? `${name} p50 ${fmtLat(d.p50)}, p95 ${fmtLat(d.p95)} (${d.count})` : `${name}: no request yet`;
}

/** The client's own line under the table (none before its first `stats()`). */
function renderLatencyOverall(s) {
  const el = $('latency-overall');
  if (s === undefined) {
    el.replaceChildren();
    return;
  }
  el.dataset.latencyP50 = String(s.latency.p50 ?? '');
  el.dataset.latencyP95 = String(s.latency.p95 ?? '');
  el.dataset.queueP50 = String(s.queueWait.p50 ?? '');
  el.dataset.queueP95 = String(s.queueWait.p95 ?? '');
  el.replaceChildren(
    h('code', {}, 'client.stats()'), `, client #${state.clientGen}, every request since it was made: `,
    percentilesText('latency', s.latency), '; ', percentilesText('queue wait', s.queueWait), '.',
  );
}

/** Paints the latency table from the samples, and the client's line from `s` (its `stats()`). */
function renderLatency(s) {
  const L = state.latency;
  const table = $('latency');
  const body = $('latency-body');
  renderLatencyOverall(s);
  if (!L) {
    table.dataset.endpoints = '0';
    body.replaceChildren(latencyNote('Making a client…'));
    return;
  }
  const rows = [...L.endpoints].map(([endpoint, samples]) => [endpoint, endpointLatency(samples)]).sort(([a], [b]) => a.localeCompare(b));
  table.dataset.endpoints = String(rows.length);
  if (!rows.length) {
    body.replaceChildren(latencyNote('No request settled yet: load the scene with fetchlane.'));
    return;
  }
  const scale = Math.max(1, ...rows.map(([, r]) => (r.queue ?? 0) + (r.network ?? 0)));
  body.replaceChildren(...rows.map(([endpoint, r]) => latencyRow(endpoint, r, scale)));
}

// ── event log

const logEl = $('log');
let logQueue = [];
function logLine(run, time, type, text, header = false) {
  logQueue.push({ t: time - run.t0, type, text, header });
  if (logQueue.length === 1) requestAnimationFrame(flushLog);
}
function flushLog() {
  const stick = logEl.scrollTop + logEl.clientHeight >= logEl.scrollHeight - 8;
  const items = logQueue.map(({ t, type, text, header }) =>
    header
      ? h('li', { class: 'log-run' }, text)
      : h('li', { class: `log-${type}` }, h('span', { class: 'log-t' }, `+${Math.round(t)}`), h('span', { class: 'log-type' }, type), h('span', {}, text)),
  );
  logQueue = [];
  logEl.append(...items);
  while (logEl.childElementCount > 600) logEl.firstElementChild.remove();
  if (stick) logEl.scrollTop = logEl.scrollHeight;
}

// ── summaries and the runs table

function renderSummaries() {
  const lastOf = (mode) => state.history.find((s) => s.mode === mode);
  const max = Math.max(1, ...MODES.map((m) => lastOf(m)?.total ?? 0));
  for (const mode of MODES) {
    const s = lastOf(mode);
    const el = document.querySelector(`.summary[data-mode="${mode}"]`);
    el.dataset.state = s ? (s.panelsFailed ? 'failed' : 'ok') : 'none';
    const head = h('h3', {}, MODE_NAME[mode]);
    if (!s) {
      el.replaceChildren(head, h('p', { class: 'muted small' }, 'Not run yet.'));
      continue;
    }
    el.dataset.total = s.total;
    el.dataset.hits = s.hits;
    el.dataset.failed = s.panelsFailed;
    el.replaceChildren(
      head,
      h('p', { class: 'big' }, fmtMs(s.total)),
      h('div', { class: 'timebar', 'aria-hidden': 'true' }, h('i', { style: `width:${Math.max(2, (s.total / max) * 100).toFixed(1)}%` })),
      h('dl', { class: 'mini' },
        h('dt', {}, 'Server hits'), h('dd', { 'data-testid': `summary-${mode}-hits` }, String(s.hits)),
        h('dt', {}, 'Failures'), h('dd', { 'data-testid': `summary-${mode}-failures`, class: s.panelsFailed ? 'bad-text' : 'ok-text' },
          s.panelsFailed ? `${s.panelsFailed} panels (${s.failedRequests} requests)` : s.failedRequests ? `${s.failedRequests} requests` : 'none'),
        h('dt', {}, 'Bytes'), h('dd', { 'data-testid': `summary-${mode}-bytes` }, fmtBytes(s.bytes)),
        s.productHits != null && sectionsOf(s.scene).includes('product')
          ? [h('dt', {}, h('code', {}, PRODUCT_PATH)),
              h('dd', { 'data-testid': `summary-${mode}-product`, 'data-hits': s.productHits, 'data-bytes': s.productBytes,
                title: (s.productFields ?? []).map((f) => (f === '*' ? 'every field' : `fields=${f}`)).join('; ') },
              `${s.productHits} request${s.productHits === 1 ? '' : 's'} · ${fmtBytes(s.productBytes)}`,
              (s.productFields ?? []).some((f) => f !== '*') ? h('span', { class: 'muted' }, ' (fields)') : '')]
          : null,
        h('dt', {}, 'Non-2xx answers'), h('dd', {}, String(s.non2xx)),
        mode === 'fetchlane'
          ? [h('dt', {}, 'Retries · cache'), h('dd', {}, `${s.retried} · ${s.cacheMemory + s.cachePersistent} hits`)]
          : [h('dt', {}, 'Retries · cache'), h('dd', { class: 'muted' }, 'none · none')],
      ),
      h('p', { class: 'small muted' }, `${SCENE_NAME[s.scene]} · ${new Date(s.at).toLocaleTimeString('en-US')}`),
    );
  }
}

function renderHistory() {
  renderSummaries();
  const body = $('runs-body');
  if (!state.history.length) {
    body.replaceChildren(h('tr', {}, h('td', { colspan: 12, class: 'muted' }, 'No runs yet.')));
    return;
  }
  body.replaceChildren(
    ...state.history.slice(0, 15).map((s) =>
      h('tr', {
        'data-testid': 'run-row', 'data-run': s.id, 'data-mode': s.mode, 'data-hits': s.hits, 'data-team-hits': s.teamHits,
        'data-team-batches': s.teamBatchOk, 'data-failed-panels': s.panelsFailed, 'data-failed-requests': s.failedRequests,
        'data-cache-memory': s.cacheMemory, 'data-cache-persistent': s.cachePersistent, 'data-team-method': s.teamMethod ?? '',
        'data-total': s.total, 'data-bytes': s.bytes, 'data-product-hits': s.productHits ?? '', 'data-product-bytes': s.productBytes ?? '', 'data-deduped': s.deduped, 'data-retried': s.retried, 'data-non2xx': s.non2xx,
        class: s.panelsFailed ? 'row-bad' : '',
      },
      h('th', { scope: 'row' }, MODE_NAME[s.mode], s.client ? h('span', { class: 'small muted' }, ` client #${s.client}`) : null),
      h('td', {}, SCENE_NAME[s.scene]),
      h('td', { class: 'num' }, fmtMs(s.total)),
      h('td', { class: 'num' }, String(s.hits)),
      h('td', { class: 'num' }, String(s.non2xx)),
      h('td', { class: 'num' }, String(s.failedRequests)),
      h('td', { class: `num ${s.panelsFailed ? 'bad-text' : ''}` }, String(s.panelsFailed)),
      h('td', { class: 'num' }, fmtBytes(s.bytes)),
      h('td', { class: 'num' }, s.mode === 'fetchlane' ? `${s.cacheMemory} / ${s.cachePersistent}` : '–'),
      h('td', { class: 'num' }, s.mode === 'fetchlane' ? String(s.deduped) : '–'),
      h('td', { class: 'num' }, s.mode === 'fetchlane' ? String(s.retried) : '–'),
      h('td', { class: 'num' }, s.teamMethod ? `${s.teamHits}${s.teamMethod === 'plain' ? '' : ` (${s.teamMethod})`}` : '–'),
      ),
    ),
  );
}

// ───────────────────────────── server faults ─────────────────────────────

const FAULT_FIELDS = ['latencyMs', 'jitterMs', 'errorRate', 'rateLimitRate', 'retryAfterSec'];
const PERCENT = new Set(['errorRate', 'rateLimitRate']);

function fillFaults(c) {
  state.serverConfig = c;
  for (const k of FAULT_FIELDS) $(k).value = PERCENT.has(k) ? Math.round(c[k] * 1000) / 10 : c[k];
  $('server-config').textContent =
    `Server now: ${c.latencyMs} ms + 0–${c.jitterMs} ms jitter, ${Math.round(c.errorRate * 100)} % 503, ` +
    `${Math.round(c.rateLimitRate * 100)} % 429 (Retry-After ${c.retryAfterSec} s).`;
  $('server-config').dataset.config = JSON.stringify(c);
}

async function postFaults(patch, say = true) {
  const res = await fetch('/__config', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(patch) });
  const c = await res.json();
  if (!res.ok) {
    announce(`The server refused the faults: ${c.error}`, 'warn');
    return;
  }
  fillFaults(c);
  if (say) announce($('server-config').textContent);
}

let faultTimer;
$('server-form').addEventListener('input', () => {
  clearTimeout(faultTimer);
  faultTimer = setTimeout(() => {
    const patch = {};
    for (const k of FAULT_FIELDS) {
      const v = Number($(k).value);
      if ($(k).value === '' || !Number.isFinite(v) || v < 0) continue;
      patch[k] = PERCENT.has(k) ? Math.min(100, v) / 100 : v;
    }
    postFaults(patch);
  }, 250);
});
$('server-form').addEventListener('submit', (e) => e.preventDefault());
$('faults-default').addEventListener('click', () => postFaults(DEFAULT_FAULTS));
$('faults-off').addEventListener('click', () => postFaults(NO_FAULTS));

// ───────────────────────────── controls ─────────────────────────────

function showMode(mode) {
  settings.mode = mode;
  saveSettings();
  for (const r of document.querySelectorAll('input[name="mode"]')) r.checked = r.value === mode;
}

for (const radio of document.querySelectorAll('input[name="mode"]')) {
  radio.addEventListener('change', () => {
    if (!radio.checked) return;
    showMode(radio.value);
    show(state.last[radio.value] ?? null);
  });
}
$('scene').value = settings.scene;
$('scene').addEventListener('change', () => {
  settings.scene = $('scene').value;
  saveSettings();
});
$('load').addEventListener('click', () => load(settings.mode));
$('run-all').addEventListener('click', async () => {
  if (state.busy) return;
  for (const mode of MODES) await load(mode);
  const s = MODES.map((m) => state.last[m]?.summary).filter(Boolean);
  announce(`All three modes done: ${s.map((x) => `${MODE_NAME[x.mode]} ${fmtMs(x.total)}, ${x.hits} hits, ${x.panelsFailed} panels failed`).join('; ')}.`);
});
$('again').addEventListener('click', () => load('fetchlane'));
$('new-client').addEventListener('click', async () => {
  if (state.busy) return;
  setBusy(true);
  state.clientReady = makeClient();
  await state.clientReady;
  setBusy(false);
  announce(`New client #${state.clientGen}: its memory cache is empty, the Cache API still holds the entries.`);
  await load('fetchlane');
});
$('reload-page').addEventListener('click', () => state.busy || location.reload());
$('clear-cache').addEventListener('click', async () => {
  if (state.busy) return;
  const c = await ensureClient();
  await c.clearCache();
  renderStats();
  announce('Caches cleared: memory and Cache API (fetchlane:demo).');
});
$('clear-log').addEventListener('click', () => logEl.replaceChildren());
$('clear-history').addEventListener('click', () => {
  state.history = [];
  sessionStorage.removeItem(HISTORY_KEY);
  renderHistory();
});

$('concurrency').value = settings.concurrency;
$('concurrency').addEventListener('change', () => {
  const n = Math.max(1, Math.min(6, Math.round(Number($('concurrency').value)) || 1));
  $('concurrency').value = n;
  settings.concurrency = n;
  saveSettings();
  if (state.client) state.client.concurrency = n;
  renderStats();
  announce(`fetchlane concurrency is now ${n}${state.busy ? ' (applies to the running load at once)' : ''}.`);
});
$('strategy').value = settings.strategy;
$('retry').checked = settings.retry;
$('dedupe').checked = settings.dedupe;
$('adaptive').checked = settings.adaptive;
$('share').checked = settings.share;
for (const id of ['strategy', 'retry', 'dedupe', 'adaptive', 'share']) {
  $(id).addEventListener('change', async () => {
    settings.strategy = $('strategy').value;
    settings.retry = $('retry').checked;
    settings.dedupe = $('dedupe').checked;
    settings.adaptive = $('adaptive').checked;
    settings.share = $('share').checked;
    saveSettings();
    state.clientReady = makeClient();
    await state.clientReady;
    announce(`New fetchlane client #${state.clientGen}: ${$('client-info').textContent.replace(/^Client #\d+: /, '')}`);
  });
}
$('client-form').addEventListener('submit', (e) => e.preventDefault());

$('legend').replaceChildren(
  ...OUTCOMES.filter((o) => o.id !== 'inflight').map((o) => h('li', {}, h('i', { class: 'swatch', style: `background:${o.color}` }), o.label)),
  h('li', {}, h('i', { class: 'swatch hatch' }), 'Host paused'),
  h('li', {}, h('i', { class: 'swatch queued' }), 'Queued'),
  h('li', {}, h('i', { class: 'swatch lookup' }), 'Cache look-up'),
);

// ───────────────────────────── start ─────────────────────────────

window.fetchlaneDemo = { state, settings, load, DEFAULT_FAULTS, get client() { return state.client; } };

showMode(settings.mode);
renderHistory();
show(null);
state.clientReady = makeClient();
try {
  const c = await (await fetch('/__config')).json();
  const untouched = c.latencyMs === 0 && c.jitterMs === 0 && c.errorRate === 0 && c.rateLimitRate === 0;
  if (untouched && !sessionStorage.getItem('fetchlane-demo:faults')) {
    sessionStorage.setItem('fetchlane-demo:faults', '1');
    await postFaults(DEFAULT_FAULTS, false);
  } else {
    fillFaults(c);
  }
} catch (e) {
  $('server-config').textContent = `Could not read /__config: ${e.message}`;
}
await state.clientReady;
setBusy(false);
document.body.dataset.ready = 'true';
if (params.get('autoload') === '0') {
  announce('Ready. Pick a mode and press “Load scene”.');
} else {
  showMode('fetchlane');
  load('fetchlane');
}
