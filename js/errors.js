// The error class of every rejection from a fetchlane client. It lives in JS so that it can
// extend Error (and so `instanceof` works); the wasm side constructs it through an import.

/** A failed request: `kind` says why; `url`, `status`, `attempts` and `cause` say more. */
export class FetchlaneError extends Error {
  constructor(kind, message, url, status, attempts, cause, response) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'FetchlaneError';
    this.kind = kind;
    this.url = url;
    if (status !== undefined) this.status = status;
    this.attempts = attempts;
    if (response !== undefined) this.response = response;
  }
}

/** Type guard: true when `value` is a FetchlaneError. */
export function isFetchlaneError(value) {
  return value instanceof FetchlaneError;
}
