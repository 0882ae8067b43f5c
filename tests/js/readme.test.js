// The README's first ten minutes: every ```js and ```ts snippet of README.md runs as written
// in a fresh Node app that installed the package (loaded by tests/js/node.mjs alone). The one
// change is the address: the README's `http://127.0.0.1:8080` (what `npm start` serves) is
// the test server's. A snippet passes when node exits 0 with nothing on stderr (an unhandled
// rejection ends node with one) and its stdout holds, in order, what its `// → …` comments
// say it prints. A ts snippet is first type-checked (tsc --strict against the package's
// types) and then run as the JS that TypeScript emits.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { assert, test } from './harness.js';
import { origin } from './lib.js';
import { inApp } from './node-consumer.js';

const README = new URL('../../README.md', import.meta.url);
const ADDRESS = 'http://127.0.0.1:8080';

/**
 * The snippets of `markdown`: `{ lang, code, title }`, titled by the heading above them.
 * @param {string} markdown
 */
function snippets(markdown) {
  const out = [];
  let title = '';
  let block = null;
  for (const line of markdown.split('\n')) {
    if (block === null) {
      const heading = line.match(/^#{2,4} (.*)/);
      if (heading) title = heading[1];
      const fence = line.match(/^```(js|ts)\s*$/);
      if (fence) block = { lang: fence[1], lines: [], title };
    } else if (line.startsWith('```')) {
      out.push({ lang: block.lang, code: block.lines.join('\n') + '\n', title: block.title });
      block = null;
    } else {
      block.lines.push(line);
    }
  }
  return out;
}

/**
 * Type-checks `file` (strict, as an ES module in Node, against the installed package's
 * types); throws with tsc's messages.
 * @param {typeof import('typescript')} ts
 * @param {string} file
 */
function typeCheck(ts, file) {
  const program = ts.createProgram([file], {
    strict: true,
    noEmit: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    lib: ['lib.es2022.d.ts', 'lib.dom.d.ts', 'lib.dom.iterable.d.ts', 'lib.dom.asynciterable.d.ts'],
    types: [],
  });
  const diagnostics = ts.getPreEmitDiagnostics(program);
  if (diagnostics.length > 0) {
    const host = { getCanonicalFileName: (f) => f, getCurrentDirectory: () => '', getNewLine: () => '\n' };
    throw new Error(`tsc: ${ts.formatDiagnostics(diagnostics, host)}`);
  }
}

const all = snippets(readFileSync(README, 'utf8'));
assert(all.length >= 5, `README.md has its snippets (found ${all.length})`);
const counts = new Map();
for (const { lang, code, title } of all) {
  const n = (counts.get(title) ?? 0) + 1;
  counts.set(title, n);
  test(`README: the ${lang} snippet ${n} of "${title}" runs as written`, async () => {
    const source = code.replaceAll(ADDRESS, origin);
    const expected = [...source.matchAll(/\/\/ → (.*)$/gm)].map((m) => m[1].trim());
    const { stdout, stderr } = await inApp(async (dir, run) => {
      if (lang === 'ts') {
        const ts = (await import('typescript')).default;
        writeFileSync(join(dir, 'app.mts'), source);
        typeCheck(ts, join(dir, 'app.mts'));
        const js = ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } });
        writeFileSync(join(dir, 'app.mjs'), js.outputText);
      } else {
        writeFileSync(join(dir, 'app.mjs'), source);
      }
      return run('app.mjs');
    }, 20_000);
    assert(stderr === '', `nothing on stderr, got:\n${stderr}`);
    let from = 0;
    for (const text of expected) {
      const at = stdout.indexOf(text, from);
      assert(at >= 0, `prints \`${text}\` (after what came before); stdout:\n${stdout}`);
      from = at + text.length;
    }
  }, { timeoutMs: 30_000 });
}
