// Module resolution hook of the Node run (tests/js/node.mjs): the bare name `fetchlane` is
// resolved by Node itself as the package's own name from inside the built package (a self-
// reference), so that pkg/package.json's `exports` and its `node` condition pick the entry,
// exactly as for an app that installed the package.

/** file: URL of the package's package.json (its directory is the package under test). */
let manifest;

/** @param {{ manifest: string }} data */
export function initialize(data) {
  manifest = data.manifest;
}

export function resolve(specifier, context, next) {
  if (specifier === 'fetchlane' || specifier.startsWith('fetchlane/')) {
    return next(specifier, { ...context, parentURL: manifest });
  }
  return next(specifier, context);
}
