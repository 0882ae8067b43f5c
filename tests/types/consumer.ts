// A consumer of the `fetchlane` package, type-checked (never run) by tests/types/check.mjs
// under the strictest settings against the real js/index.d.ts (mapped through `paths`).
// Every `@ts-expect-error` line must really be an error: tsc fails on an unused one.

import {
  createClient,
  init,
  isFetchlaneError,
  FetchlaneError,
  Client,
  type ClientOptions,
  type ClientStats,
  type ErrorKind,
  type EventOf,
  type FetchlaneEvent,
  type GroupProgress,
  type Outbox,
  type OutboxTicket,
  type Percentiles,
  type RequestTiming,
  type LaneInit,
  type Loader,
  type RequestLike,
  type RetryEvent,
  type SettledEvent,
} from 'fetchlane';

interface User {
  id: number;
  name: string;
}

interface Page {
  items: User[];
  next: string | null;
}

// Compile-time equality check.
type Equals<A, B> = (<X>() => X extends A ? 1 : 2) extends <X>() => X extends B ? 1 : 2 ? true : false;
function assertType<T extends true>(): T | undefined {
  return undefined;
}

declare const wasmBytes: ArrayBuffer;
declare const maybeTimeout: number | undefined;

async function main(): Promise<void> {
  await init();
  await init(new URL('/assets/fetchlane_bg.wasm', location.href));
  await init(wasmBytes);

  const log: FetchlaneEvent[] = [];
  const options: ClientOptions = {
    baseUrl: 'https://api.example.com/v1/',
    concurrency: 8,
    perHost: 4,
    rateLimits: [{ limit: 10, intervalMs: 1000 }, { limit: 2, intervalMs: 1000, host: 'slow.example.com' }],
    retry: {
      limit: 3,
      methods: ['GET', 'put'],
      statusCodes: [429, 503],
      backoffMs: 200,
      factor: 2,
      maxBackoffMs: 5000,
      jitter: true,
      maxRetryAfterMs: Infinity,
      retryOnTimeout: false,
    },
    timeoutMs: 5000,
    totalTimeoutMs: 30000,
    cache: {
      strategy: 'stale-while-revalidate',
      ttlMs: 60000,
      maxEntries: 200,
      maxBytes: 5_000_000,
      namespace: 'app',
      persist: { name: 'app-cache', maxEntries: 100, maxAgeMs: 86_400_000 },
    },
    dedupe: true,
    headers: { accept: 'application/json' },
    fetch: globalThis.fetch, // `typeof fetch` fits the transport
    onEvent: (event) => log.push(event),
    throwHttpErrors: true,
  };
  // `| undefined` is accepted under exactOptionalPropertyTypes.
  await createClient({ timeoutMs: maybeTimeout, retry: 2, cache: false, concurrency: Infinity });
  await createClient({ retry: false, fetch: async (request: Request) => new Response(request.url) });
  await createClient();

  const client: Client = await createClient(options);

  // fetch / json / text
  const controller = new AbortController();
  const res: Response = await client.fetch('users/1', {
    lane: 'critical',
    signal: controller.signal,
    headers: { 'x-trace': '1' },
    priority: 'high',
    cache: 'no-cache',
    strategy: 'network-first',
    ttlMs: 1000,
    timeoutMs: 2000,
    totalTimeoutMs: 4000,
    retry: { limit: 1 },
    dedupe: false,
    key: 'user-1',
  });
  await client.fetch(new URL('https://api.example.com/v1/health'), { strategy: 'none' });
  await client.fetch(new Request('https://api.example.com/v1/ping'));
  const user = await client.json<User>('users/1');
  const name: string = user.name;
  const unknownBody = await client.json('users/2');
  assertType<Equals<typeof unknownBody, unknown>>();
  const readme: string = await client.text('README', { lane: 'background' });

  // all / allSettled
  const requests: RequestLike[] = [
    'users/1',
    new URL('https://api.example.com/v1/users/2'),
    new Request('https://api.example.com/v1/users/3'),
    { input: 'users/4', init: { lane: 'critical' } },
  ];
  const users: User[] = await client.all<User>(requests);
  const first: User | undefined = users[0]; // noUncheckedIndexedAccess
  const responses = await client.all(requests, { as: 'response', abortOnFailure: false });
  assertType<Equals<typeof responses, Response[]>>();
  const texts = await client.all(['a.txt', 'b.txt'] as const, { as: 'text' });
  assertType<Equals<typeof texts, string[]>>();
  const jsons = await client.all(requests, { as: 'json' });
  assertType<Equals<typeof jsons, unknown[]>>();

  const progress: GroupProgress[] = [];
  const settled = await client.allSettled<User>(requests, {
    onProgress: ({ done, total, failed }) => progress.push({ done, total, failed }),
  });
  for (const r of settled) {
    if (r.status === 'fulfilled') {
      const u: User = r.value;
      console.log(u.id);
    } else {
      const reason: unknown = r.reason;
      if (isFetchlaneError(reason)) console.log(reason.kind, reason.status);
    }
  }
  const settledTexts = await client.allSettled(requests, { as: 'text' });
  assertType<Equals<typeof settledTexts, PromiseSettledResult<string>[]>>();
  const settledResponses = await client.allSettled(requests, { as: 'response' });
  assertType<Equals<typeof settledResponses, PromiseSettledResult<Response>[]>>();

  // schedule
  const n: number = await client.schedule(async (signal) => {
    const r = await fetch('https://other.example.com/count', { signal });
    return Number(await r.text());
  }, { lane: 'background', signal: controller.signal, host: 'other.example.com' });
  const sync = await client.schedule(() => 'done');
  assertType<Equals<typeof sync, string>>();

  // loader
  const userLoader: Loader<number, User> = client.loader<number, User>({
    url: 'users?ids={keys}',
    key: 'id',
    select: (body) => (body as { data: User[] }).data,
    maxBatchSize: 50,
    windowMs: 5,
    maxUrlLength: 1500,
    cache: true,
  });
  const u1: User = await userLoader.load(1);
  const many = await userLoader.loadMany([1, 2, 3]);
  for (const item of many) {
    if (item instanceof FetchlaneError) console.log(item.kind === 'missing');
    else console.log(item.name);
  }
  userLoader.prime(4, { id: 4, name: 'Dee' });
  userLoader.clear(4);
  userLoader.clearAll();
  const byName = client.loader({
    url: (names: string[]) => new Request(`https://api.example.com/v1/users?names=${names.join(',')}`),
    key: (item: User) => item.name,
  });
  assertType<Equals<typeof byName, Loader<string, User>>>();

  // paginate
  for await (const page of client.paginate<Page>('users?page=1', {
    next: (body, response) => (response.ok ? body.next : null),
    prefetch: 2,
    lane: 'background',
  })) {
    console.log(page.items.length);
  }
  for await (const page of client.paginate('feed')) {
    assertType<Equals<typeof page, unknown>>();
  }

  // cache control
  const dropped: number = await client.invalidate('users/1');
  await client.invalidate(/\/users\//);
  await client.invalidate((url) => url.endsWith('.json'));
  await client.clearCache();

  // scheduler state
  client.clearQueue();
  await client.onIdle();
  const busy: number = client.activeCount + client.pendingCount;
  client.concurrency = 2;
  client.concurrency = Infinity;
  const limit: number = client.concurrency;
  const stats: ClientStats = client.stats();
  const hits: number = stats.cacheHits.memory + stats.cacheHits.persistent;
  console.log(
    stats.started, stats.succeeded, stats.failed, stats.retried, stats.deduped, stats.batched,
    stats.cacheMisses, stats.rateLimited, stats.bytes, hits, busy, limit,
  );
  const hostLimit: number | undefined = stats.hosts['api.example.com']?.limit;
  const adaptiveClient = await createClient({ adaptive: { min: 1, max: 6, initial: 2 } });
  await createClient({ adaptive: true });
  const offLimit = adaptiveClient.on('limit', (e) => {
    const why: 'latency' | 'overload' | 'probe' | 'remeasure' = e.reason;
    console.log(e.host, e.limit, why, hostLimit);
  });
  offLimit();
  const fieldsClient = await createClient({ fields: { param: 'select', project: true }, compressOver: 1024 });
  const card: { name: string } = await fieldsClient.json<{ name: string }>('/product/42', { fields: ['name'] });
  await fieldsClient.fetch('/upload', { method: 'POST', body: '{}', compress: 'gzip' });
  fieldsClient.on('uncompressed', (e) => console.log(e.url, e.method, card.name));
  // the outbox
  const analytics: Outbox = client.outbox('analytics', { maxAgeMs: 86_400_000, retry: { backoffMs: 500, jitter: false }, idempotencyHeader: 'X-Key' });
  client.outbox('logs', { batch: { maxItems: 50, maxBytes: 60_000, maxWaitMs: 2000 } });
  await createClient({ background: { whenHidden: 'pause', whenOffline: 'run' } });
  const shared = await createClient({ share: { name: 'dashboard' } });
  const role: 'leader' | 'follower' | 'alone' = shared.stats().share.role;
  console.log(role, shared.stats().share.tabs);
  const ticket: OutboxTicket = await analytics.send('/events', { method: 'POST', body: JSON.stringify({ view: 1 }), headers: { 'content-type': 'application/json' } });
  const flushed: { delivered: number; dropped: number; remaining: number } = await analytics.flush();
  const left: number = (await analytics.size()) + (await analytics.clear());
  console.log(ticket.id, ticket.idempotencyKey, flushed, left, analytics.name);
  client.on('outbox-retry', (e) => console.log(e.delayMs, e.reason, e.status, e.outbox, e.idempotencyKey, e.attempt));
  client.on('outbox-drop', (e) => {
    const why: 'status' | 'expired' = e.reason;
    console.log(why, e.url, e.method);
  });
  client.on('outbox-sent', (e) => console.log(e.status, e.id));
  // observability
  const traced = await createClient({
    timing: { track: 'api' },
    propagate: ['https://api.example.com', new URL('https://cdn.example.com/x'), /\.example\.org$/],
    traceparent: () => undefined,
  });
  await createClient({ timing: true });
  await traced.json('/user/1', { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' });
  const latency: Percentiles = traced.stats().latency;
  const hostWait: number | undefined = traced.stats().hosts['api.example.com']?.queueWait.p95;
  console.log(latency.p50, latency.p95, latency.p99, latency.count, traced.stats().queueWait.count, hostWait);
  traced.on('settled', (e) => {
    const t: RequestTiming = e.timing;
    const network: number | undefined = t.networkMs;
    const ttfb: number | undefined = t.resource && t.resource.responseStart - t.resource.requestStart;
    const source: 'network' | 'memory' | 'persistent' | 'dedupe' | 'revalidated' = t.source;
    console.log(t.totalMs, t.attempts, t.queuedMs, t.retryWaitMs, network, t.bytes, t.traceId, ttfb, source);
    for (const m of t.serverTiming ?? []) console.log(m.name, m.duration, m.description);
  });

  // events
  const offRetry = client.on('retry', (e) => {
    const delay: number = e.delayMs;
    const reason: 'status' | 'network' | 'timeout' = e.reason;
    const status: number | undefined = e.status;
    console.log(delay, reason, status, e.attempt, e.url, e.method, e.lane, e.time, e.id);
  });
  const offSettled = client.on('settled', (e: SettledEvent) => {
    const kind: ErrorKind | undefined = e.error;
    console.log(e.durationMs, e.source, e.status, kind);
  });
  client.on('cache-hit', (e) => {
    const source: 'memory' | 'persistent' = e.source;
    console.log(source);
  });
  client.on('rate-limited', (e) => console.log(e.delayMs, e.status));
  client.on('queued', (e) => console.log(e.type, e.status));
  client.on('start', (e) => console.log(e.type === 'start'));
  offRetry();
  offSettled();
  assertType<Equals<EventOf<'retry'>, RetryEvent>>();

  for (const e of log) {
    switch (e.type) {
      case 'retry':
      case 'rate-limited':
        console.log(e.delayMs);
        break;
      case 'cache-hit':
        console.log(e.source);
        break;
      case 'settled':
        console.log(e.durationMs);
        break;
      default:
        console.log(e.type);
    }
  }

  // errors
  try {
    await client.json<User>('users/404');
  } catch (e) {
    if (isFetchlaneError(e)) {
      const kind: ErrorKind = e.kind;
      const url: string = e.url;
      const attempts: number = e.attempts;
      const status: number | undefined = e.status;
      const body = e.kind === 'http' ? await e.response?.text() : undefined;
      const err: Error = e;
      console.log(kind, url, attempts, status, body, e.cause, err.message, e.name);
    }
  }

  client.close();
  console.log(res.status, name, readme, first, n, u1, dropped, progress);

  // ─────────────── wrong usages, each must be rejected ───────────────

  // @ts-expect-error misspelt option
  await createClient({ concurrencyy: 4 });
  // @ts-expect-error not a lane
  await client.fetch('users/1', { lane: 'urgent' });
  // @ts-expect-error a number-keyed loader takes no string key
  await userLoader.load('1');
  const loader2 = client.loader<number, User>({ url: 'users?ids={keys}' });
  // @ts-expect-error a number-keyed loader takes no string key
  await loader2.load('1');
  // @ts-expect-error key field that User does not have
  client.loader<number, User>({ url: 'users?ids={keys}', key: 'userId' });
  const result = settled[0];
  if (result) {
    // @ts-expect-error `.value` needs narrowing on `status` first
    console.log(result.value);
  }
  // @ts-expect-error retry is a number, a boolean or RetryOptions
  await createClient({ retry: 'x' });
  // @ts-expect-error not a result format
  await client.all(requests, { as: 'xml' });
  // @ts-expect-error not a result format
  await client.allSettled(requests, { as: 'xml' });
  const pending = createClient();
  // @ts-expect-error createClient() returns a Promise: await it first
  await pending.fetch('users/1');
  // @ts-expect-error a settled event has no delayMs
  client.on('settled', (e) => console.log(e.delayMs));
  // @ts-expect-error not an event type
  client.on('bogus', () => undefined);
  // @ts-expect-error the listener of 'retry' gets a RetryEvent, not a SettledEvent
  client.on('retry', (e: SettledEvent) => console.log(e));
  // @ts-expect-error all() with as: 'text' resolves to strings
  const wrongTexts: number[] = await client.all(requests, { as: 'text' });
  // @ts-expect-error activeCount is read-only
  client.activeCount = 3;
  // @ts-expect-error clients come from createClient()
  new Client();
  // @ts-expect-error not a cache strategy
  await client.fetch('users/1', { strategy: 'cache-sometimes' });
  // @ts-expect-error fields is a list of names
  await client.json('/product/42', { fields: 'name' });
  // @ts-expect-error only gzip and deflate
  await client.fetch('/upload', { method: 'POST', body: '{}', compress: 'br' });
  // @ts-expect-error an outbox stores no signal or lane: only method, headers and body
  await analytics.send('/events', { method: 'POST', lane: 'critical' });
  // @ts-expect-error share needs a name
  await createClient({ share: {} });
  // @ts-expect-error background work runs or pauses, nothing else
  await createClient({ background: { whenHidden: 'stop' } });
  // @ts-expect-error a batch needs maxItems
  client.outbox('x', { batch: { maxWaitMs: 10 } });
  // @ts-expect-error maxAgeMs is a number
  client.outbox('x', { maxAgeMs: '1d' });
  // @ts-expect-error an outbox-sent event has no delayMs
  client.on('outbox-sent', (e) => console.log(e.delayMs));
  // @ts-expect-error the track is a string
  await createClient({ timing: { track: 1 } });
  // @ts-expect-error propagate is a list of origins
  await createClient({ propagate: 'https://api.example.com' });
  // @ts-expect-error traceparent() gives the parent's header value
  await createClient({ traceparent: () => 42 });
  // @ts-expect-error timings are read-only
  client.on('settled', (e) => (e.timing.networkMs = 0));
  // @ts-expect-error adaptive bounds are numbers
  await createClient({ adaptive: { min: '1' } });
  // @ts-expect-error a limit event has no url
  client.on('limit', (e) => console.log(e.url));
  // @ts-expect-error rate limits need intervalMs
  await createClient({ rateLimits: [{ limit: 1 }] });
  const init2: LaneInit = { lane: 'normal' };
  // @ts-expect-error lane is a Lane, not any string
  init2.lane = 'low';
  console.log(wrongTexts);
}

void main();
