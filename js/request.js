// Making Requests from what callers pass, shared by the client (js/client.js), the loader
// (js/loader.js) and paginate (js/paginate.js): the page's URL, resolving against `baseUrl`,
// the client's headers, and the errors of an input or URL that cannot be used. A caller's
// own input that cannot be used is a TypeError; a URL fetchlane makes itself (a loader
// batch, a later page) is a FetchlaneError of kind `network`, as a failed fetch of it is.

import { badArgument, failure, fetchlaneError } from './errors.js';

/** The page's (or worker's) own URL, what a relative `fetch` resolves against. */
export function pageUrl() {
  try {
    const href = globalThis.location?.href;
    return typeof href === 'string' ? href : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The URL a string or URL input names; `null` for anything else (a Request, or a mistake).
 * @param {unknown} input
 * @returns {string | null}
 */
export const urlOf = (input) => (typeof input === 'string' ? input : input instanceof URL ? input.href : null);

/**
 * The TypeError of an input that is neither a string, a URL nor a Request.
 * @param {string} what how the message names it
 * @param {unknown} input
 */
export const notAnInput = (what, input) => badArgument(`${what} must be a string, a URL or a Request`, input);

/**
 * `url` resolved against `base`; unchanged without one (the Request constructor resolves
 * it). When it cannot be resolved: a TypeError, or with `own` a FetchlaneError of kind
 * `network`.
 * @param {string} url
 * @param {string | undefined} base
 * @param {boolean} [own] a URL fetchlane makes itself
 * @returns {string}
 */
export function against(url, base, own) {
  if (base === undefined) return url;
  try {
    return new URL(url, base).href;
  } catch {
    const m = `fetchlane: cannot resolve the URL \`${url}\` against baseUrl \`${base}\``;
    throw own ? failure('network', m, url) : new TypeError(m);
  }
}

/**
 * The TypeError of a Request the constructor refused.
 * @param {string} url
 * @param {unknown} cause
 */
export function cannotBuild(url, cause) {
  let m = `fetchlane: cannot make a request for \`${url}\`: `;
  m += cause instanceof Error && typeof cause.message === 'string' ? cause.message : 'the Request constructor refused it';
  if (!url.includes('://')) m += ' (a relative URL needs a page to resolve against, or the `baseUrl` option)';
  return new TypeError(m, { cause });
}

/**
 * A Request for a caller's input: `new Request(url, init)`, or a copy of a Request (with
 * `init` applied, if any). A TypeError saying why when the constructor refuses it (or the
 * Request cannot be copied).
 * @param {string | Request} input
 * @param {RequestInit} [init]
 * @returns {Request}
 */
export function callerRequest(input, init) {
  try {
    if (typeof input === 'string') return new Request(input, init);
    const copy = input.clone();
    return init === undefined ? copy : new Request(copy, init);
  } catch (cause) {
    throw cannotBuild(typeof input === 'string' ? input : input.url, cause);
  }
}

/**
 * `new Request(url, init)` for a request fetchlane makes itself; a FetchlaneError of kind
 * `network` when the constructor refuses it.
 * @param {string} url
 * @param {RequestInit} [init]
 * @returns {Request}
 */
export function ownRequest(url, init) {
  try {
    return new Request(url, init);
  } catch (cause) {
    throw fetchlaneError('network', url, undefined, 0, cause);
  }
}

/**
 * Adds the client's headers to `headers` where it has none of that name.
 * @param {Headers} headers
 * @param {[string, string][]} pairs
 */
export function addHeaders(headers, pairs) {
  for (const [name, value] of pairs) {
    try {
      if (!headers.has(name)) headers.set(name, value);
    } catch {
      // Only a forbidden name (or a no-cors request's guard) refuses; the browser drops it anyway.
    }
  }
}
