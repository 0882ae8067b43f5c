// The test modules of the JS API suite, in the order they run: one list for the page
// (index.html) and for Node (node.mjs), so that neither runs a different suite.
export const modules = [
  './options.test.js',
  './adaptive.test.js',
  './fields.test.js',
  './compress.test.js',
  './scheduler.test.js',
  './lifecycle.test.js',
  './groups.test.js',
  './schedule.test.js',
  './errors.test.js',
  './events.test.js',
  './observe.test.js',
  './sketch.test.js',
  './resilience.test.js',
  './dedupe.test.js',
  './dedupe-scale.test.js',
  './cache.test.js',
  './persist.test.js',
  './outbox.test.js',
  './loader.test.js',
  './paginate.test.js',
];
