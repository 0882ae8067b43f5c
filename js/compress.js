// Compressed request bodies (`LaneInit.compress`, `ClientOptions.compressOver`): the body
// read once, piped through the platform's CompressionStream, sent with `Content-Encoding`.

/**
 * `request` with its body compressed as `format`, or `request` itself when the body is not
 * over `over` bytes (`compressOver`; 0 for `compress`, so that only an empty body is left as
 * it is). Where CompressionStream is missing, `skipped()` is told and the body goes as it is.
 * @param {Request} request with a body
 * @param {'gzip' | 'deflate'} format
 * @param {number} over
 * @param {() => void} skipped
 * @returns {Promise<Request>}
 */
export async function compressed(request, format, over, skipped) {
  const bytes = await request.clone().arrayBuffer();
  if (bytes.byteLength <= over) return request;
  if (typeof CompressionStream !== 'function') {
    skipped();
    return request;
  }
  const stream = new Blob([bytes]).stream().pipeThrough(new CompressionStream(format));
  const headers = new Headers(request.headers);
  headers.set('content-encoding', format);
  return new Request(request, { body: await new Response(stream).arrayBuffer(), headers });
}

/**
 * At most the byte size of a `RequestInit.body`, known without reading it (a string: 3 bytes
 * per UTF-16 unit at most; 0 for `null`), or `Infinity` (anything else): a body surely not
 * over `compressOver` is sent at once, in call order.
 * @param {unknown} body
 * @returns {number}
 */
export const knownSize = (body) => (body == null ? 0 : typeof body === 'string' ? 3 * body.length : Infinity);
