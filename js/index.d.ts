// Types of the `fetchlane` package entry (copied to pkg/index.d.ts by `npm run build`).
// The public contract is /work/shared/API.md; names and shapes here follow it exactly.
// Optional input properties also accept `undefined`, so the types work under
// `exactOptionalPropertyTypes`.

// ───────────────────────────── basics ─────────────────────────────

/** A scheduling lane. Queued `critical` work starts before `normal`, `background` last. */
export type Lane = 'critical' | 'normal' | 'background';

/** What a request can be given as. */
export type RequestInput = string | URL | Request;

/** One entry of `all` / `allSettled`: an input, or an input with its own {@link LaneInit}. */
export type RequestLike = RequestInput | { input: RequestInput; init?: LaneInit | undefined };

/** How a cache answers. */
export type CacheStrategy =
  | 'cache-first'
  | 'network-first'
  | 'stale-while-revalidate'
  | 'network-only'
  | 'cache-only';

/** Why a request failed. */
export type ErrorKind =
  /** The server answered with a non-2xx status (after any retries). */
  | 'http'
  /** The transport failed: DNS, connection refused, CORS, offline. */
  | 'network'
  /** A per-attempt `timeoutMs` or the `totalTimeoutMs` ran out. */
  | 'timeout'
  /** Aborted by the caller's signal, a failing `all` group or `clearQueue()` (`close()` is `closed`). */
  | 'abort'
  /** The server asked to wait longer than `maxRetryAfterMs` allows. */
  | 'rate-limit'
  /** The body could not be decoded as asked. */
  | 'decode'
  /** A loader's batch response did not contain the key. */
  | 'missing'
  /** A `cache-only` request found nothing in the cache. */
  | 'cache'
  /** The client was closed: work in flight or queued at `close()`, and every call after it. */
  | 'closed';

/** How `all` / `allSettled` decode each body. */
export type ResultFormat = 'json' | 'text' | 'response';

// ───────────────────────────── options ─────────────────────────────

/** One rate limit: at most `limit` requests started per `intervalMs`. */
export interface RateLimitRule {
  /** Requests allowed per interval (a positive integer). */
  limit: number;
  /** The interval, in ms. */
  intervalMs: number;
  /**
   * The host (`api.example.com`, `127.0.0.1:8080`) the rule applies to.
   * @defaultValue every host (the rule counts all requests of the client)
   */
  host?: string | undefined;
}

/** When and how often a failed attempt is retried (ky-style). */
export interface RetryOptions {
  /**
   * Retries after the first attempt.
   * @defaultValue 2
   */
  limit?: number | undefined;
  /**
   * Methods that are retried (case-insensitive). POST and PATCH only when listed here, or when
   * the request has an `Idempotency-Key` header.
   * @defaultValue ['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS']
   */
  methods?: readonly string[] | undefined;
  /**
   * Response statuses that are retried.
   * @defaultValue [408, 413, 429, 500, 502, 503, 504]
   */
  statusCodes?: readonly number[] | undefined;
  /**
   * Delay before the first retry, in ms.
   * @defaultValue 300
   */
  backoffMs?: number | undefined;
  /**
   * Each further delay is the previous one times `factor` (at least 1).
   * @defaultValue 2
   */
  factor?: number | undefined;
  /**
   * Upper bound of one backoff delay, in ms.
   * @defaultValue 10000
   */
  maxBackoffMs?: number | undefined;
  /**
   * `true`: full jitter (a random delay between 0 and the computed backoff).
   * @defaultValue true
   */
  jitter?: boolean | undefined;
  /**
   * The longest `Retry-After` honoured, in ms; a longer one rejects with kind `rate-limit`.
   * `Infinity` honours any wait.
   * @defaultValue 60000
   */
  maxRetryAfterMs?: number | undefined;
  /**
   * Whether an attempt that ran out of `timeoutMs` is retried.
   * @defaultValue true
   */
  retryOnTimeout?: boolean | undefined;
}

/**
 * `retry` option: a number is the retry limit (other settings default), `false` turns
 * retries off, `true` keeps every default.
 */
export type RetryInit = number | boolean | RetryOptions;

/** The browser Cache API store under the memory cache. */
export interface PersistOptions {
  /** Part of the Cache API cache's name (`caches.open(...)`). */
  name: string;
  /**
   * Most entries kept in the persistent store; the least recently used go first.
   * @defaultValue no limit
   */
  maxEntries?: number | undefined;
  /**
   * Entries older than this (in ms since stored) are dropped.
   * @defaultValue no limit
   */
  maxAgeMs?: number | undefined;
}

/** The response cache. */
export interface CacheOptions {
  /**
   * How requests are answered; a request may override it with `init.strategy`.
   * @defaultValue 'cache-first'
   */
  strategy?: CacheStrategy | undefined;
  /**
   * How long a stored response is fresh, in ms, overriding the server's freshness.
   * @defaultValue none: `Cache-Control: max-age` (or `Expires`) decides
   */
  ttlMs?: number | undefined;
  /**
   * Most entries in the memory cache (least recently used go first).
   * @defaultValue 500
   */
  maxEntries?: number | undefined;
  /**
   * Byte budget of the memory cache's bodies.
   * @defaultValue 52428800 (50 MiB)
   */
  maxBytes?: number | undefined;
  /**
   * Separates this client's entries from other clients' (also what `clearCache` drops).
   * @defaultValue 'default'
   */
  namespace?: string | undefined;
  /**
   * Also store responses in the browser Cache API (`false`: memory only).
   * @defaultValue false
   */
  persist?: false | PersistOptions | undefined;
  /**
   * Also store `private` responses and answers to requests with `Authorization` or
   * credentials. Only safe when one client serves one user (see `namespace`).
   * @defaultValue false
   */
  allowPrivate?: boolean | undefined;
}

/** A replacement transport: anything with `fetch`'s signature (`typeof fetch` fits). */
export type Transport = (input: Request, init?: RequestInit) => Promise<Response>;

/** Options of {@link createClient}. All optional. */
export interface ClientOptions {
  /**
   * Resolves relative request URLs (must be absolute).
   * @defaultValue none (the page's own base URL applies)
   */
  baseUrl?: string | URL | undefined;
  /**
   * Requests (and `schedule` tasks) running at once: a positive integer or `Infinity`.
   * Can be changed later through `client.concurrency`.
   * @defaultValue 6
   */
  concurrency?: number | undefined;
  /**
   * Requests running at once per host: a positive integer or `Infinity`.
   * A host at its limit never holds up requests to other hosts.
   * @defaultValue 6
   */
  perHost?: number | undefined;
  /**
   * Rate limits, all enforced at once.
   * @defaultValue [] (none)
   */
  rateLimits?: readonly RateLimitRule[] | undefined;
  /**
   * Retries: a number (the limit), a boolean (on with defaults / off) or {@link RetryOptions}.
   * @defaultValue true (2 retries of idempotent methods, see {@link RetryOptions})
   */
  retry?: RetryInit | undefined;
  /**
   * Timeout of each attempt, in ms.
   * @defaultValue none
   */
  timeoutMs?: number | undefined;
  /**
   * Timeout over the queue wait plus every attempt and backoff, in ms.
   * @defaultValue none
   */
  totalTimeoutMs?: number | undefined;
  /**
   * The response cache (`false`: no caching).
   * @defaultValue false
   */
  cache?: false | CacheOptions | undefined;
  /**
   * Whether identical GET and HEAD requests in flight share one network request.
   * @defaultValue true
   */
  dedupe?: boolean | undefined;
  /**
   * Headers added to every request unless the request sets them.
   * @defaultValue none
   */
  headers?: HeadersInit | undefined;
  /**
   * The transport.
   * @defaultValue the global `fetch`
   */
  fetch?: Transport | undefined;
  /**
   * Called with every event (see {@link Client.on} for one type).
   * @defaultValue none
   */
  onEvent?: ((event: FetchlaneEvent) => void) | undefined;
  /**
   * Whether a non-2xx response rejects with a {@link FetchlaneError} of kind `http`
   * (`false`: it resolves like `fetch` does).
   * @defaultValue true
   */
  throwHttpErrors?: boolean | undefined;
  /**
   * Per-host limits that find the server's capacity: each host's limit moves between `min`
   * and `max` with the latency it shows (from dispatch, so the queue never counts) and its
   * 429/503 answers. `true` takes every default. The global `concurrency` still caps the
   * total, and `Retry-After` still pauses the host. See `stats().hosts` and the `limit` event.
   * @defaultValue false
   */
  adaptive?: boolean | AdaptiveOptions | undefined;
  /**
   * Field selection ({@link LaneInit.fields}): the query parameter's name, and whether each
   * caller's JSON is trimmed to its own fields.
   * @defaultValue `{ param: 'fields', project: false }`
   */
  fields?: FieldsOptions | undefined;
  /**
   * Compress (gzip) every request body over this many bytes, as {@link LaneInit.compress}
   * does for one request (which wins).
   * @defaultValue none (no body is compressed unless asked)
   */
  compressOver?: number | undefined;
  /**
   * User Timing measures for every request, drawn as a track in Chrome's Performance panel
   * (`detail.devtools`): `fetchlane:queue` (enqueue to first attempt, rate-limit and host
   * pauses included), `fetchlane:retry-wait`, and `fetchlane:network` per attempt (dispatch to
   * the end of its body where fetchlane reads it; to its head when the caller reads the body
   * of a `fetch()` answer). `true` uses the track `'fetchlane'`. Off: no entry is made.
   * @defaultValue false
   */
  timing?: boolean | TimingOptions | undefined;
  /**
   * Origins (`'https://api.example.com'`, or an absolute URL whose origin counts) and patterns
   * tested against the origin, whose requests carry a W3C `traceparent` header: one trace
   * per request, a new span id per attempt. No other origin gets it, so it adds no CORS
   * preflight elsewhere (a listed cross-origin API must allow the header).
   * @defaultValue none (no request carries it)
   */
  propagate?: ReadonlyArray<string | URL | RegExp> | undefined;
  /**
   * The parent of a request's trace, asked for when the call is made (in the caller's turn),
   * for requests to a {@link ClientOptions.propagate} origin without
   * {@link LaneInit.traceparent}. `undefined` or `null` starts a new trace; anything else
   * that is not a `traceparent` value makes the call a `TypeError`.
   * @defaultValue none (every request starts a new trace)
   */
  traceparent?: (() => string | null | undefined) | undefined;
  /**
   * Whether `background` lane work (requests and `schedule` tasks) waits while the page is
   * hidden or the browser offline. Waiting calls count as queued (`pendingCount`, `onIdle`)
   * and go, in order, once the page is visible and online again; an abort or `close` settles
   * them at once. Work already running is not stopped.
   * @defaultValue `{ whenHidden: 'run', whenOffline: 'pause' }`
   */
  background?: BackgroundOptions | undefined;
  /**
   * The clients made with this `name` in the tabs (and workers) of one origin act as one:
   * one tab, chosen with Web Locks, runs every request, so the limits, de-duplication and the
   * memory cache hold for all of them; the others hand their calls to it over a
   * `BroadcastChannel` and get the answers back as bytes. When it closes (or is hidden or
   * frozen), the next tab takes over and what was waiting goes to it. Without Web Locks or
   * `BroadcastChannel`, every tab runs alone. See {@link ClientStats.share}.
   * @defaultValue none (this client is alone)
   */
  share?: { name: string } | undefined;
}

/** {@link ClientOptions.background}. */
export interface BackgroundOptions {
  /**
   * `pause`: background work waits while `document.visibilityState` is `hidden`.
   * @defaultValue 'run'
   */
  whenHidden?: 'run' | 'pause' | undefined;
  /**
   * `pause`: background work waits while `navigator.onLine` is false.
   * @defaultValue 'pause'
   */
  whenOffline?: 'run' | 'pause' | undefined;
}

/** {@link ClientOptions.timing}. */
export interface TimingOptions {
  /**
   * The Performance panel track the measures go on.
   * @defaultValue 'fetchlane'
   */
  track?: string | undefined;
}

/** {@link ClientOptions.fields}. */
export interface FieldsOptions {
  /**
   * The query parameter that names the fields.
   * @defaultValue 'fields'
   */
  param?: string | undefined;
  /**
   * Trim each caller's `json()` result to its own fields (an object's keys; each object of
   * an array), when calls were answered by a response with more.
   * @defaultValue false
   */
  project?: boolean | undefined;
}

/** {@link ClientOptions.adaptive}. */
export interface AdaptiveOptions {
  /**
   * The lowest limit (a positive integer).
   * @defaultValue 1
   */
  min?: number | undefined;
  /**
   * The highest limit; not above `perHost`. Required when `concurrency` or `perHost` is
   * `Infinity`.
   * @defaultValue `perHost`
   */
  max?: number | undefined;
  /**
   * The limit a host starts at.
   * @defaultValue `min(4, max)` (and at least `min`)
   */
  initial?: number | undefined;
}

/**
 * `RequestInit` plus fetchlane's per-request settings. `priority` and `cache` keep their
 * standard `RequestInit` meaning.
 */
export interface LaneInit extends RequestInit {
  /**
   * The lane the request queues in.
   * @defaultValue 'normal'
   */
  lane?: Lane | undefined;
  /**
   * The cache strategy for this request, or `'none'` to bypass the cache.
   * @defaultValue the client's `cache.strategy` (`'none'` when the client has no cache)
   */
  strategy?: CacheStrategy | 'none' | undefined;
  /**
   * How long this response stays fresh in the cache, in ms.
   * @defaultValue the client's `cache.ttlMs`
   */
  ttlMs?: number | undefined;
  /**
   * Timeout of each attempt, in ms.
   * @defaultValue the client's `timeoutMs`
   */
  timeoutMs?: number | undefined;
  /**
   * Timeout over queue wait plus all attempts, in ms.
   * @defaultValue the client's `totalTimeoutMs`
   */
  totalTimeoutMs?: number | undefined;
  /**
   * Retries for this request.
   * @defaultValue the client's `retry`
   */
  retry?: RetryInit | undefined;
  /**
   * Whether it may share an identical request in flight.
   * @defaultValue the client's `dedupe` (GET and HEAD only)
   */
  dedupe?: boolean | undefined;
  /**
   * Cache and dedupe key override.
   * @defaultValue derived from the method and the absolute URL
   */
  key?: string | undefined;
  /**
   * Only these fields (GET only): sent as `?fields=a,b` (the name is
   * {@link FieldsOptions.param}), sorted and de-duplicated, so their order never changes the
   * URL or the cache key. Calls for the same URL made in the same tick go out as one request
   * for the union of their fields (they join the queue at the end of the tick); a call whose
   * fields are covered by a response in flight or fresh in the memory cache is answered by
   * it, with no request. Each caller gets the whole body ({@link FieldsOptions.project} trims
   * `json()` results to the caller's own fields). A `TypeError` for an empty list, a name that
   * is empty or holds a comma, or a method other than GET.
   * @defaultValue none (every field)
   */
  fields?: readonly string[] | undefined;
  /**
   * Compress the request body with `CompressionStream` and send `Content-Encoding`. A request
   * without a body (a GET, a HEAD) is a `TypeError`. Where `CompressionStream` is missing the
   * body goes uncompressed and an `uncompressed` event says so.
   * @defaultValue none (or gzip over {@link ClientOptions.compressOver})
   */
  compress?: 'gzip' | 'deflate' | undefined;
  /**
   * The W3C `traceparent` of this request's parent span (`00-<32 hex>-<16 hex>-<2 hex>`): its
   * trace id and flags go out to a {@link ClientOptions.propagate} origin. Anything else is a
   * `TypeError`.
   * @defaultValue from {@link ClientOptions.traceparent}, else a new trace
   */
  traceparent?: string | undefined;
}

/** {@link Client.outbox}. */
export interface OutboxOptions {
  /**
   * The header that carries each item's idempotency key.
   * @defaultValue 'Idempotency-Key'
   */
  idempotencyHeader?: string | undefined;
  /**
   * Items older than this (from `send`) are dropped with an `outbox-drop` event, reason
   * `expired`.
   * @defaultValue 604 800 000 (7 days)
   */
  maxAgeMs?: number | undefined;
  /** The wait between attempts at the head item; `Retry-After` wins. */
  retry?: OutboxRetryOptions | undefined;
  /**
   * Items for one URL with JSON bodies (a `content-type` naming JSON) go as one request whose
   * body is the JSON array of theirs (an array of one for an item alone), and whose
   * idempotency header lists their keys in the same order, comma-separated. The answer
   * applies to all of them. Compressed like any request over `compressOver`.
   * @defaultValue none (one request per item)
   */
  batch?: OutboxBatchOptions | undefined;
}

/** {@link OutboxOptions.batch}. */
export interface OutboxBatchOptions {
  /** Items in one request at most (1 to 1000). */
  maxItems: number;
  /**
   * Body bytes of one request at most (a single larger item still goes, alone).
   * @defaultValue none
   */
  maxBytes?: number | undefined;
  /**
   * How long a batch short of `maxItems` waits for more, from its first item's `send`, in ms.
   * @defaultValue 0
   */
  maxWaitMs?: number | undefined;
}

/** {@link OutboxOptions.retry}. */
export interface OutboxRetryOptions {
  /**
   * The first wait, in ms.
   * @defaultValue 1000
   */
  backoffMs?: number | undefined;
  /**
   * How much each wait grows (at least 1).
   * @defaultValue 2
   */
  factor?: number | undefined;
  /**
   * The longest wait, in ms.
   * @defaultValue 300 000
   */
  maxBackoffMs?: number | undefined;
  /**
   * A random wait up to the ceiling, so that many pages do not come back at once.
   * @defaultValue true
   */
  jitter?: boolean | undefined;
}

/** What {@link Outbox.send} stores: the method, headers and body of a `RequestInit`. */
export type OutboxInit = Pick<RequestInit, 'method' | 'headers' | 'body'>;

/** What {@link Outbox.send} resolves with. */
export interface OutboxTicket {
  /** The item's id, unique in its outbox. */
  readonly id: string;
  /** The key sent with every attempt (`opts.idempotencyHeader`). */
  readonly idempotencyKey: string;
}

/**
 * Requests stored in IndexedDB and delivered later, oldest first, in the `background` lane,
 * each with its idempotency key. One tab delivers an outbox at a time (Web Locks); the others
 * store. 2xx removes an item; a network error, 408, 429 and 5xx keep it at the head, retried
 * after a backoff (`Retry-After` wins); another 4xx drops it. Nothing is sent while the
 * browser is offline; as the page goes away, the head items go with `keepalive` (64 KiB at
 * most). See README "The outbox".
 */
export interface Outbox {
  /** Its name. */
  readonly name: string;
  /**
   * Stores a request; resolves once it is on disk. A `ReadableStream` body, or a `FormData`
   * with files, is a `TypeError` (nothing is stored).
   */
  send(input: RequestInput, init?: OutboxInit): Promise<OutboxTicket>;
  /** Items stored and not yet delivered or dropped. */
  size(): Promise<number>;
  /**
   * Delivers now, without waiting for a backoff or `online`; resolves once the queue is empty
   * or an attempt failed. In a tab that does not deliver this outbox, it only wakes the one
   * that does (and reports nothing delivered).
   */
  flush(): Promise<{ delivered: number; dropped: number; remaining: number }>;
  /** Drops every stored item; resolves with how many there were. */
  clear(): Promise<number>;
}

/** Progress of an `allSettled` group. */
export interface GroupProgress {
  /** Requests settled so far. */
  readonly done: number;
  /** Requests in the group. */
  readonly total: number;
  /** Requests that rejected so far. */
  readonly failed: number;
}

/** Options of `all` and `allSettled`. */
export interface GroupOptions {
  /**
   * How each body is decoded: `'json'`, `'text'` or `'response'` (the `Response` itself).
   * @defaultValue 'json'
   */
  as?: ResultFormat | undefined;
  /**
   * `all` only: on the first failure, abort the siblings still queued or in flight.
   * @defaultValue true
   */
  abortOnFailure?: boolean | undefined;
  /**
   * `allSettled`: called with `{ done, total, failed }` after each request settles.
   * @defaultValue none
   */
  onProgress?: ((progress: GroupProgress) => void) | undefined;
}

/** Options of `schedule`. */
export interface ScheduleOptions {
  /**
   * The lane the task queues in.
   * @defaultValue 'normal'
   */
  lane?: Lane | undefined;
  /**
   * Aborts the task while queued (it rejects with kind `abort`); passed on to the task once
   * running, through its own signal.
   * @defaultValue none
   */
  signal?: AbortSignal | undefined;
  /**
   * Counts the task against this host's `perHost` limit too.
   * @defaultValue none (the global limit only)
   */
  host?: string | undefined;
}

/**
 * The loader's `key` option when given as a field name: a string property of `V`
 * (any string when `V` is not known).
 */
export type LoaderKeyField<V> = unknown extends V ? string : V extends object ? Extract<keyof V, string> : string;

/**
 * Options of `loader` (DataLoader-style batching). `lane`, `headers`, `retry`, `timeoutMs`,
 * `totalTimeoutMs`, `strategy` and `ttlMs` apply to every batch request, as in `LaneInit`.
 */
export interface LoaderOptions<K, V>
  extends Pick<LaneInit, 'lane' | 'headers' | 'retry' | 'timeoutMs' | 'totalTimeoutMs' | 'strategy' | 'ttlMs' | 'fields'> {
  /**
   * The batch URL: a string holding `{keys}` (replaced by the comma-joined, URL-encoded
   * keys), or a function building the URL or `Request` for a batch of keys.
   */
  url: string | ((keys: K[]) => string | Request);
  /**
   * How an item of the response maps to its key: a field name, or a function. Keys are
   * matched by their string form (`String(k)`), so the id `1` and the key `"1"` are the same
   * key (in the URL, the memo and the response); items may come in any order, and items for
   * keys nobody asked for are ignored.
   * @defaultValue 'id'
   */
  key?: LoaderKeyField<V> | ((item: V) => K) | undefined;
  /**
   * Picks the items out of the response body (for an envelope such as `{ data: [...] }`).
   * @defaultValue the body itself, which must be an array
   */
  select?: ((body: unknown) => readonly V[]) | undefined;
  /**
   * Most keys in one batch request.
   * @defaultValue 100
   */
  maxBatchSize?: number | undefined;
  /**
   * How long keys are collected before a batch goes out, in ms (0: one microtask tick).
   * @defaultValue 0
   */
  windowMs?: number | undefined;
  /**
   * Longest batch URL; a batch that would exceed it is split.
   * @defaultValue 2000
   */
  maxUrlLength?: number | undefined;
  /**
   * Whether loaded values are memoised by key (per loader): a second `load(k)` gives the same
   * value without a request. Failed keys are never memoised, so a later load tries again.
   * @defaultValue true
   */
  cache?: boolean | undefined;
}

/** Batches `load` calls into one request per tick or window. */
export interface Loader<K, V> {
  /** The value for `key`; rejects (kind `missing`) alone when the batch lacks it. */
  load(key: K): Promise<V>;
  /** Values for `keys` in order; a failed key gives its {@link FetchlaneError} in place. */
  loadMany(keys: readonly K[]): Promise<Array<V | FetchlaneError>>;
  /** Stores `value` for `key` (no request). */
  prime(key: K, value: V): void;
  /** Forgets the memoised value of `key`. */
  clear(key: K): void;
  /** Forgets every memoised value. */
  clearAll(): void;
}

/** Options of `paginate`: the request init of every page plus how to find the next one. */
export interface PaginateOptions<T> extends LaneInit {
  /**
   * The next page's URL (relative to the page's URL), or `null`/`undefined` when this was the
   * last page. `response` is the page's response, its body already read.
   * @defaultValue follows the response's `Link: <…>; rel="next"` header
   */
  next?: ((body: T, response: Response) => string | URL | null | undefined) | undefined;
  /**
   * Pages fetched ahead of the consumer (0: a page is fetched only when asked for). Leaving
   * the loop early (`break`, which calls the iterator's `return()`) aborts them.
   * @defaultValue 1
   */
  prefetch?: number | undefined;
}

/** Counters since the client was created. */
export interface ClientStats {
  /** Requests whose first attempt started. */
  readonly started: number;
  /** Requests that ended with a response delivered to the caller. */
  readonly succeeded: number;
  /** Requests that ended in an error. */
  readonly failed: number;
  /** Attempts after the first. */
  readonly retried: number;
  /** Callers that joined an identical request already in flight. */
  readonly deduped: number;
  /** Loader keys served by a batch request. */
  readonly batched: number;
  /** Answers from the memory and the persistent cache. */
  readonly cacheHits: { readonly memory: number; readonly persistent: number };
  /** Cache look-ups that found nothing usable. */
  readonly cacheMisses: number;
  /** Responses that paused their host (429/503 with a wait) or exceeded `maxRetryAfterMs`. */
  readonly rateLimited: number;
  /** Response body bytes received, as far as known. */
  readonly bytes: number;
  /**
   * Bytes of wasm linear memory the package holds now (shared by every client of the page;
   * linear memory grows and never shrinks, so this is a high-water mark).
   */
  readonly wasmMemory: number;
  /**
   * Every host this client has talked to (`host:port`), with its current limit: the
   * adaptive one, or `perHost` while `adaptive` is off.
   */
  readonly hosts: { readonly [host: string]: HostStats };
  /**
   * Time from the call to its answer or error, of the requests that went to the network
   * (dedupe joins included; cache hits not, which would hide the network's latency).
   */
  readonly latency: Percentiles;
  /** Time from the call to its first attempt's dispatch, of the same requests. */
  readonly queueWait: Percentiles;
  /**
   * {@link ClientOptions.share}: whether this tab runs the shared client (`leader`), hands
   * its calls to the tab that does (`follower`) or runs alone, and how many tabs take part.
   */
  readonly share: { readonly role: 'leader' | 'follower' | 'alone'; readonly tabs: number };
}

/** One host of {@link ClientStats.hosts}. */
export interface HostStats {
  /** Its current limit: the adaptive one, or `perHost` while `adaptive` is off. */
  readonly limit: number;
  /** {@link ClientStats.latency} of the requests to this host. */
  readonly latency: Percentiles;
  /** {@link ClientStats.queueWait} of the requests to this host. */
  readonly queueWait: Percentiles;
}

/**
 * Nearest-rank percentiles in ms from a bounded sketch: each within 1.1 % of the exact value
 * (values under 1 µs read 0), in 1 313 counters (5 KiB) however many samples; NaN
 * while `count` is 0.
 */
export interface Percentiles {
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  /** Samples taken. */
  readonly count: number;
}

// ───────────────────────────── events ─────────────────────────────

/** The event types `on` accepts. */
export type EventType =
  | 'queued'
  | 'start'
  | 'retry'
  | 'cache-hit'
  | 'cache-update'
  | 'cache-error'
  | 'rate-limited'
  | 'settled'
  | 'limit'
  | 'uncompressed'
  | 'outbox-sent'
  | 'outbox-retry'
  | 'outbox-drop';

/** Fields every event has. */
export interface EventBase<E extends EventType = EventType> {
  /** What happened. */
  readonly type: E;
  /** The request's id, unique within the client (shared by all its events). */
  readonly id: number;
  /** The absolute URL. */
  readonly url: string;
  /** The HTTP method. */
  readonly method: string;
  /** The lane it queued in. */
  readonly lane: Lane;
  /** When, on the `performance.now()` clock (ms). */
  readonly time: number;
  /** Attempts started so far. */
  readonly attempt: number;
}

/** A request entered the queue. */
export interface QueuedEvent extends EventBase<'queued'> {
  /** The last HTTP status seen, if any. */
  readonly status?: number;
}

/** A request's first attempt started. */
export interface StartEvent extends EventBase<'start'> {
  /** The last HTTP status seen, if any. */
  readonly status?: number;
}

/** An attempt failed; another follows after `delayMs`. */
export interface RetryEvent extends EventBase<'retry'> {
  /** Wait before the next attempt, in ms. */
  readonly delayMs: number;
  /** Why the attempt failed. */
  readonly reason: 'status' | 'network' | 'timeout';
  /** The failed attempt's status (for reason `status`). */
  readonly status?: number;
}

/** A request was answered from a cache. */
export interface CacheHitEvent extends EventBase<'cache-hit'> {
  /** Which cache answered. */
  readonly source: 'memory' | 'persistent';
}

/** Stale-while-revalidate refreshed a stored entry in the background. */
export interface CacheUpdateEvent extends EventBase<'cache-update'> {
  /** Always `'network'`: where the new entry came from. */
  readonly source: 'network';
}

/** A cache store failed (quota, no Cache API); the request went on without it. */
export interface CacheErrorEvent extends EventBase<'cache-error'> {
  /** What the store threw. */
  readonly cause: unknown;
}

/** A server said "too many" with a wait: the host pauses for `delayMs`. */
export interface RateLimitedEvent extends EventBase<'rate-limited'> {
  /** How long the host pauses, in ms. */
  readonly delayMs: number;
  /** The status that asked for the wait (429 or 503). */
  readonly status?: number;
}

/** A request ended, with a response or an error. */
export interface SettledEvent extends EventBase<'settled'> {
  /** From `queued` to settled, in ms. */
  readonly durationMs: number;
  /** Where the answer came from. */
  readonly source: AnswerSource;
  /** The last HTTP status seen. */
  readonly status?: number;
  /** The error's kind, when it failed. */
  readonly error?: ErrorKind;
  /** Where its time went. */
  readonly timing: RequestTiming;
}

/** Where a settled request's answer came from. */
export type AnswerSource = 'network' | 'memory' | 'persistent' | 'dedupe' | 'revalidated';

/**
 * Where a settled request's time went ({@link SettledEvent.timing}). The network fields are
 * absent, never zero, for an answer that did not go through the network (a cache hit); a
 * dedupe join reports the request it joined.
 */
export interface RequestTiming {
  /** From the call to its answer or error, in ms (as `durationMs`). */
  readonly totalMs: number;
  /** Attempts started. */
  readonly attempts: number;
  /** Where the answer came from. */
  readonly source: AnswerSource;
  /**
   * From the call to its first attempt (rate-limit and host pauses included); for a request
   * that never started, its whole wait.
   */
  readonly queuedMs?: number;
  /** Between attempts: backoff, `Retry-After` and the queue again. */
  readonly retryWaitMs?: number;
  /**
   * On the network: each attempt from dispatch to the end of its body where fetchlane reads
   * it (to its head where the caller reads the body of a `fetch()` answer).
   */
  readonly networkMs?: number;
  /** Response body bytes: what was read, else `Content-Length`. */
  readonly bytes?: number;
  /** The trace id of its `traceparent` ({@link ClientOptions.propagate}). */
  readonly traceId?: string;
  /**
   * The browser's Resource Timing entry of its last attempt (DNS, connect, TTFB, download,
   * `transferSize`), looked up when read: `undefined` until the browser has it, where its
   * buffer is full, and where there is none (Node).
   */
  readonly resource?: PerformanceResourceTiming | undefined;
  /** The `Server-Timing` header's metrics (`duration` 0 where it has none). */
  readonly serverTiming?: ReadonlyArray<{ readonly name: string; readonly duration: number; readonly description: string }>;
}

/** A host's adaptive limit changed ({@link ClientOptions.adaptive}). */
export interface LimitEvent {
  /** What happened. */
  readonly type: 'limit';
  /** When, on the `performance.now()` clock (ms). */
  readonly time: number;
  /** The host (`host:port`). */
  readonly host: string;
  /** Its new limit. */
  readonly limit: number;
  /**
   * Why: `latency` rose above its floor, the server refused (`overload`: 429, 503 or a
   * timeout), latency stayed flat with the window full (`probe`), or a window at half the
   * limit re-measured the latency floor, and the limit went back after it (`remeasure`).
   */
  readonly reason: 'latency' | 'overload' | 'probe' | 'remeasure';
}

/** A request body went uncompressed: `CompressionStream` is missing here. */
export interface UncompressedEvent {
  /** What happened. */
  readonly type: 'uncompressed';
  /** When, on the `performance.now()` clock (ms). */
  readonly time: number;
  /** The request's URL. */
  readonly url: string;
  /** Its method. */
  readonly method: string;
}

/** Every event, discriminated on `type`. */
export type FetchlaneEvent =
  | QueuedEvent
  | StartEvent
  | RetryEvent
  | CacheHitEvent
  | CacheUpdateEvent
  | CacheErrorEvent
  | RateLimitedEvent
  | SettledEvent
  | LimitEvent
  | UncompressedEvent
  | OutboxSentEvent
  | OutboxRetryEvent
  | OutboxDropEvent;

/** Fields every outbox event has. */
export interface OutboxEventBase<E extends 'outbox-sent' | 'outbox-retry' | 'outbox-drop'> {
  /** What happened. */
  readonly type: E;
  /** When, on the `performance.now()` clock (ms). */
  readonly time: number;
  /** The outbox's name. */
  readonly outbox: string;
  /** The item's id ({@link OutboxTicket.id}). */
  readonly id: string;
  /** The item's idempotency key. */
  readonly idempotencyKey: string;
  /** The item's absolute URL. */
  readonly url: string;
  /** The item's method. */
  readonly method: string;
  /** Attempts at it in this page so far. */
  readonly attempt: number;
}

/** An outbox item was delivered (2xx) and removed. */
export interface OutboxSentEvent extends OutboxEventBase<'outbox-sent'> {
  /** The answer's status. */
  readonly status: number;
}

/** An attempt at an outbox item failed; it stays at the head and is tried again. */
export interface OutboxRetryEvent extends OutboxEventBase<'outbox-retry'> {
  /** Wait before the next attempt, in ms (`Retry-After`, else the backoff). */
  readonly delayMs: number;
  /** `network` (no answer), or `status` (408, 429 or 5xx). */
  readonly reason: 'network' | 'status';
  /** The answer's status, when there was one. */
  readonly status?: number;
}

/** An outbox item was dropped: a final 4xx, or older than `maxAgeMs`. */
export interface OutboxDropEvent extends OutboxEventBase<'outbox-drop'> {
  /** `status` (a 4xx other than 408 and 429) or `expired`. */
  readonly reason: 'status' | 'expired';
  /** The answer's status, for reason `status`. */
  readonly status?: number;
}

/** The event object of type `E`. */
export type EventOf<E extends EventType> = Extract<FetchlaneEvent, { type: E }>;

// ───────────────────────────── errors ─────────────────────────────

/**
 * Every rejection from a client once a request is under way. Not: a `schedule` task's own
 * error (passed on untouched), and a call the client refuses before sending anything, which
 * rejects with a plain `TypeError` or `RangeError` saying why: an input that is not a URL or
 * cannot be resolved (a relative URL with no page and no `baseUrl`), a method `fetch` cannot
 * send (`TRACE`, `CONNECT`), a bad `LaneInit` option.
 */
export declare class FetchlaneError extends Error {
  /**
   * Made by the client; construct one yourself only in test doubles.
   */
  constructor(
    kind: ErrorKind,
    message: string,
    url: string,
    status: number | undefined,
    attempts: number,
    cause?: unknown,
    response?: Response,
  );
  /** Always `'FetchlaneError'`. */
  name: 'FetchlaneError';
  /** Why it failed. */
  readonly kind: ErrorKind;
  /** The request's absolute URL. */
  readonly url: string;
  /** The HTTP status (kind `http`). */
  readonly status?: number;
  /** Attempts made. */
  readonly attempts: number;
  /** The underlying error, where there was one. */
  cause?: unknown;
  /** The non-2xx response (kind `http`), its body unread. */
  readonly response?: Response;
}

/** Type guard: true when `value` is a {@link FetchlaneError}. */
export declare function isFetchlaneError(value: unknown): value is FetchlaneError;

// ───────────────────────────── client ─────────────────────────────

/** A fetchlane client. Get one with `await createClient(options)`. */
export declare class Client {
  /** Use `await createClient(options)`. */
  private constructor();

  /** One request through the pipeline; every caller gets its own readable `Response`. */
  fetch(input: RequestInput, init?: LaneInit): Promise<Response>;
  /** Same as `fetch`, body parsed as JSON (a bad body rejects with kind `decode`). */
  json<T = unknown>(input: RequestInput, init?: LaneInit): Promise<T>;
  /** Same as `fetch`, body as text. */
  text(input: RequestInput, init?: LaneInit): Promise<string>;

  /**
   * Every request, results in input order. The first failure rejects and aborts the
   * siblings still queued or in flight (unless `abortOnFailure: false`).
   */
  all(requests: readonly RequestLike[], opts: GroupOptions & { as: 'response' }): Promise<Response[]>;
  all(requests: readonly RequestLike[], opts: GroupOptions & { as: 'text' }): Promise<string[]>;
  all<T = unknown>(requests: readonly RequestLike[], opts?: GroupOptions & { as?: 'json' | undefined }): Promise<T[]>;
  all<T = unknown>(requests: readonly RequestLike[], opts?: GroupOptions): Promise<T[]>;

  /** Every request's outcome in input order, shaped like `Promise.allSettled`; never rejects. */
  allSettled(
    requests: readonly RequestLike[],
    opts: GroupOptions & { as: 'response' },
  ): Promise<PromiseSettledResult<Response>[]>;
  allSettled(
    requests: readonly RequestLike[],
    opts: GroupOptions & { as: 'text' },
  ): Promise<PromiseSettledResult<string>[]>;
  allSettled<T = unknown>(
    requests: readonly RequestLike[],
    opts?: GroupOptions & { as?: 'json' | undefined },
  ): Promise<PromiseSettledResult<T>[]>;
  allSettled<T = unknown>(requests: readonly RequestLike[], opts?: GroupOptions): Promise<PromiseSettledResult<T>[]>;

  /** Runs `task(signal)` under the same limits as requests; its result or error passes through. */
  schedule<T>(task: (signal: AbortSignal) => T | PromiseLike<T>, opts?: ScheduleOptions): Promise<T>;

  /** A DataLoader-style batching loader. */
  loader<K, V>(opts: LoaderOptions<K, V>): Loader<K, V>;

  /** Each page's decoded body in order, following `Link: rel="next"` or `opts.next`. */
  paginate<T = unknown>(input: RequestInput, opts?: PaginateOptions<T>): AsyncIterable<T>;

  /**
   * The outbox `name`: requests stored in IndexedDB and delivered later (one outbox per name
   * and client; `opts` count the first time). A `TypeError` without IndexedDB (Node).
   */
  outbox(name: string, opts?: OutboxOptions): Outbox;

  /**
   * Drops matching entries from the memory and persistent cache; resolves to how many. A
   * string is one URL (absolute, or relative as a request's input is), matched exactly;
   * a trailing `*` makes it a prefix (`'/user/*'`; `'/user/'` alone matches only that URL).
   * A RegExp is tested against, and a function given, each entry's absolute URL.
   */
  invalidate(match: string | RegExp | ((url: string) => boolean)): Promise<number>;
  /** Drops every cached entry of this client's namespace. */
  clearCache(): Promise<void>;
  /** Rejects every queued (not yet started) request with kind `abort`. */
  clearQueue(): void;
  /** Resolves when nothing is queued or running. */
  onIdle(): Promise<void>;

  /** Requests and tasks running now. */
  readonly activeCount: number;
  /** Requests and tasks queued, not yet started. */
  readonly pendingCount: number;
  /** The global limit (`Infinity` when unlimited); settable at run time. */
  get concurrency(): number;
  set concurrency(value: number);

  /** Counters since creation. */
  stats(): ClientStats;
  /** Listens to one event type; returns a function that removes the listener. */
  on<E extends EventType>(type: E, listener: (event: EventOf<E>) => void): () => void;
  /** Aborts all work and frees the wasm side; later calls reject with kind `closed`. */
  close(): void;
}

// ───────────────────────────── entry ─────────────────────────────

/** What `init` loads the wasm from (wasm-bindgen's `--target web` init input). */
export type InitInput = RequestInfo | URL | Response | BufferSource | WebAssembly.Module;

/**
 * Loads the wasm module once (idempotent). `createClient` calls it when needed, so this is
 * only for preloading or for serving the wasm from elsewhere.
 * @param input - where to load the wasm from; default `fetchlane_bg.wasm` next to the entry
 *   (fetched; in Node, read from disk by the entry of the package's `node` export condition)
 */
export declare function init(input?: InitInput | Promise<InitInput>): Promise<void>;

/**
 * Creates a client (loading the wasm first when needed). Rejects with a `TypeError` or
 * `RangeError` naming a bad option.
 */
export declare function createClient(options?: ClientOptions): Promise<Client>;
