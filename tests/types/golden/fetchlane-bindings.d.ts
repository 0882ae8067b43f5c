/* tslint:disable */
/* eslint-disable */

/**
 * A fetchlane client: `createClient(options)` resolves to one.
 */
export class Client {
    free(): void;
    [Symbol.dispose](): void;
    /**
     * Every request's outcome, in input order, shaped like `Promise.allSettled`.
     */
    allSettled(requests: any, opts: any): Promise<any>;
    /**
     * Every request; results in input order; the first failure rejects and aborts the rest.
     */
    all(requests: any, opts: any): Promise<any>;
    /**
     * Drops every cached entry of this client's namespace.
     */
    clearCache(): Promise<any>;
    /**
     * Rejects every queued request and task with kind `abort`.
     */
    clearQueue(): void;
    /**
     * Aborts all work; later calls reject with kind `closed`.
     */
    close(): void;
    /**
     * One request through the pipeline; resolves to a readable `Response`.
     */
    fetch(input: any, init: any): Promise<any>;
    /**
     * Drops matching cached entries; resolves to how many. `match` is a URL (absolute or
     * relative to `baseUrl`; a trailing `*` makes it a prefix), a RegExp tested against the
     * absolute URL, or a function of the URL.
     */
    invalidate(matcher: any): Promise<any>;
    /**
     * Like `fetch`, with the body parsed as JSON.
     */
    json(input: any, init: any): Promise<any>;
    /**
     * A DataLoader-style loader; throws a `TypeError` or `RangeError` naming a bad option.
     */
    loader(opts: any): Loader;
    /**
     * Builds a client; throws a `TypeError` or `RangeError` naming a bad option.
     */
    constructor(options: any);
    /**
     * Resolves when nothing is queued or running.
     */
    onIdle(): Promise<any>;
    /**
     * Listens to `type`; returns a function that removes the listener.
     */
    on(kind: any, listener: any): Function;
    /**
     * The pages starting at `input`, an async iterable of each page's JSON body; throws a
     * `TypeError` or `RangeError` naming a bad option.
     */
    paginate(input: any, opts: any): Pages;
    /**
     * Runs `task(signal)` under the same limits; its own result or error passes through.
     */
    schedule(task: any, opts: any): Promise<any>;
    /**
     * Counters since creation.
     */
    stats(): any;
    /**
     * Like `fetch`, with the body read as text.
     */
    text(input: any, init: any): Promise<any>;
    /**
     * Requests and tasks running now.
     */
    readonly activeCount: number;
    /**
     * The global limit (`Infinity` when unlimited).
     */
    get concurrency(): number;
    /**
     * Changes the global limit at run time; throws a `RangeError` or `TypeError` for a value
     * that is not a positive integer or `Infinity`.
     */
    set concurrency(value: any);
    /**
     * Requests and tasks waiting in the queue.
     */
    readonly pendingCount: number;
}

/**
 * A DataLoader-style loader: `client.loader(opts)` makes one.
 */
export class Loader {
    private constructor();
    free(): void;
    [Symbol.dispose](): void;
    /**
     * Forgets every memoised value.
     */
    clearAll(): void;
    /**
     * Forgets the memoised value of `key`.
     */
    clear(key: any): void;
    /**
     * The items for `keys`, in order; a failed key gives its error in place. Never rejects
     * (but for `keys` that is not an array).
     */
    loadMany(keys: any): Promise<any>;
    /**
     * The item for `key`; rejects alone (kind `missing`) when the batch response lacks it.
     */
    load(key: any): Promise<any>;
    /**
     * Stores `value` for `key` (no request) unless the key is already memoised.
     */
    prime(key: any, value: any): void;
}

/**
 * The pages of `client.paginate(input, opts)`, an async iterator of page bodies.
 */
export class Pages {
    private constructor();
    free(): void;
    [Symbol.dispose](): void;
    /**
     * The next page: `{ done: false, value: body }`, or `{ done: true }` after the last one.
     * A failed page rejects (with the pages before it already handed out); after that the
     * iterator is done.
     */
    next(): Promise<any>;
    /**
     * Ends the iteration (what `break` in `for await` calls): aborts the pages fetched
     * ahead; resolves to `{ done: true, value }`.
     */
    return(value: any): Promise<any>;
}

export type InitInput = RequestInfo | URL | Response | BufferSource | WebAssembly.Module;

export interface InitOutput {
    readonly memory: WebAssembly.Memory;
    readonly __wbg_client_free: (a: number, b: number) => void;
    readonly __wbg_loader_free: (a: number, b: number) => void;
    readonly __wbg_pages_free: (a: number, b: number) => void;
    readonly client_activeCount: (a: number) => number;
    readonly client_all: (a: number, b: any, c: any) => any;
    readonly client_allSettled: (a: number, b: any, c: any) => any;
    readonly client_clearCache: (a: number) => any;
    readonly client_clearQueue: (a: number) => void;
    readonly client_close: (a: number) => void;
    readonly client_concurrency: (a: number) => number;
    readonly client_fetch: (a: number, b: any, c: any) => any;
    readonly client_invalidate: (a: number, b: any) => any;
    readonly client_json: (a: number, b: any, c: any) => any;
    readonly client_loader: (a: number, b: any) => [number, number, number];
    readonly client_new: (a: any) => [number, number, number];
    readonly client_on: (a: number, b: any, c: any) => [number, number, number];
    readonly client_onIdle: (a: number) => any;
    readonly client_paginate: (a: number, b: any, c: any) => [number, number, number];
    readonly client_pendingCount: (a: number) => number;
    readonly client_schedule: (a: number, b: any, c: any) => any;
    readonly client_set_concurrency: (a: number, b: any) => [number, number];
    readonly client_stats: (a: number) => any;
    readonly client_text: (a: number, b: any, c: any) => any;
    readonly loader_clear: (a: number, b: any) => void;
    readonly loader_clearAll: (a: number) => void;
    readonly loader_load: (a: number, b: any) => any;
    readonly loader_loadMany: (a: number, b: any) => any;
    readonly loader_prime: (a: number, b: any, c: any) => void;
    readonly pages_next: (a: number) => any;
    readonly pages_return: (a: number, b: any) => any;
    readonly wasm_bindgen__convert__closures_____invoke__h…: (a: number, b: number, c: any, d: any) => void;
    readonly wasm_bindgen__convert__closures_____invoke__h…: (a: number, b: number, c: any) => [number, number];
    readonly wasm_bindgen__convert__closures_____invoke__h…: (a: number, b: number) => void;
    readonly __wbindgen_malloc: (a: number, b: number) => number;
    readonly __wbindgen_realloc: (a: number, b: number, c: number, d: number) => number;
    readonly __wbindgen_free: (a: number, b: number, c: number) => void;
    readonly __wbindgen_exn_store: (a: number) => void;
    readonly __externref_table_alloc: () => number;
    readonly __wbindgen_externrefs: WebAssembly.Table;
    readonly __wbindgen_destroy_closure: (a: number, b: number) => void;
    readonly __externref_table_dealloc: (a: number) => void;
    readonly __wbindgen_start: () => void;
}

export type SyncInitInput = BufferSource | WebAssembly.Module;

/**
 * Instantiates the given `module`, which can either be bytes or
 * a precompiled `WebAssembly.Module`.
 *
 * @param {{ module: SyncInitInput }} module - Passing `SyncInitInput` directly is deprecated.
 *
 * @returns {InitOutput}
 */
export function initSync(module: { module: SyncInitInput } | SyncInitInput): InitOutput;

/**
 * If `module_or_path` is {RequestInfo} or {URL}, makes a request and
 * for everything else, calls `WebAssembly.instantiate` directly.
 *
 * @param {{ module_or_path: InitInput | Promise<InitInput> }} module_or_path - Passing `InitInput` directly is deprecated.
 *
 * @returns {Promise<InitOutput>}
 */
export default function __wbg_init (module_or_path?: { module_or_path: InitInput | Promise<InitInput> } | InitInput | Promise<InitInput>): Promise<InitOutput>;
