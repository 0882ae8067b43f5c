#!/usr/bin/env node
// Keeps the option declaration and the types in step: `node tests/types/options-sync.mjs`.
// Every options interface of js/index.d.ts must have exactly the keys of its table in
// `OPTIONS` (js/options.js), which is what the package checks at run time: a key only in the
// types would be refused as unknown, a key only in the table would be untyped. Exits 1 and
// prints each difference otherwise. Run by tests/types/check.mjs.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { OPTIONS } from '../../js/options.js';
import { withoutComments } from './source.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * Each interface of index.d.ts and the table that declares its keys. `inherits` is what the
 * interface must extend as a whole (the run-time check takes those keys too); a `Pick<…>` in
 * its `extends` counts as keys of its own.
 */
const PAIRS = [
  { type: 'ClientOptions', table: 'client' },
  { type: 'RateLimitRule', table: 'rateLimit' },
  { type: 'RetryOptions', table: 'retry' },
  { type: 'CacheOptions', table: 'cache' },
  { type: 'PersistOptions', table: 'persist' },
  { type: 'LaneInit', table: 'laneInit', inherits: ['RequestInit'] },
  { type: 'GroupOptions', table: 'group' },
  { type: 'ScheduleOptions', table: 'schedule' },
  { type: 'LoaderOptions', table: 'loader' },
  { type: 'PaginateOptions', table: 'paginate', inherits: ['LaneInit'] },
];


/**
 * The text between the brace at `open` and its match.
 * @param {string} text
 * @param {number} open
 */
function block(text, open) {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    if (text[i] === '{') depth++;
    else if (text[i] === '}' && --depth === 0) return text.slice(open + 1, i);
  }
  throw new Error('unbalanced braces');
}

/**
 * The members of an interface body: split at `;` and newlines outside brackets.
 * @param {string} body
 */
function members(body) {
  /** @type {string[]} */
  const out = [];
  let depth = 0;
  let current = '';
  for (const c of body) {
    if ('({['.includes(c)) depth++;
    if (')}]'.includes(c)) depth--;
    if (depth === 0 && (c === ';' || c === '\n')) {
      if (current.trim() !== '') out.push(current.trim());
      current = '';
    } else {
      current += c;
    }
  }
  if (current.trim() !== '') out.push(current.trim());
  return out;
}

/**
 * Every `export interface` of the d.ts: its own property names and what it extends
 * (`names`: whole interfaces; `picked`: keys taken with `Pick<X, '…'>`).
 * @param {string} source
 */
function interfaces(source) {
  const text = withoutComments(source);
  /** @type {Map<string, { own: string[], names: string[], picked: string[] }>} */
  const found = new Map();
  const header = /export\s+interface\s+([A-Za-z_$][\w$]*)\s*(?:<[^{]*?>)?\s*(?:extends\s+([^{]+))?\{/g;
  for (let m; (m = header.exec(text)); ) {
    const [, name = '', heritage = ''] = m;
    /** @type {string[]} */
    const own = [];
    for (const member of members(block(text, m.index + m[0].length - 1))) {
      const prop = /^(?:readonly\s+)?([A-Za-z_$][\w$]*|'[^']*'|"[^"]*")\??\s*:/.exec(member);
      if (prop?.[1]) own.push(prop[1].replace(/^['"]|['"]$/g, ''));
    }
    /** @type {string[]} */
    const names = [];
    /** @type {string[]} */
    const picked = [];
    let rest = heritage;
    for (let p; (p = /Pick<\s*([\w$]+)\s*,([^>]*)>/.exec(rest)); ) {
      picked.push(...[...(p[2] ?? '').matchAll(/'([^']*)'|"([^"]*)"/g)].map((k) => k[1] ?? k[2] ?? ''));
      rest = rest.replace(p[0], '');
    }
    for (const n of rest.split(',')) if (n.trim() !== '') names.push(n.trim().replace(/<.*$/, ''));
    found.set(name, { own, names, picked });
  }
  return found;
}

const dts = readFileSync(join(root, 'js/index.d.ts'), 'utf8');
const found = interfaces(dts);
/** @type {string[]} */
const problems = [];

for (const { type, table, inherits = [] } of PAIRS) {
  const declared = /** @type {Record<string, object | undefined>} */ (OPTIONS)[table];
  const shape = found.get(type);
  if (declared === undefined) {
    problems.push(`js/options.js: OPTIONS.${table} is missing (it declares the keys of ${type})`);
    continue;
  }
  if (shape === undefined) {
    problems.push(`js/index.d.ts: interface ${type} is missing (OPTIONS.${table} declares its keys)`);
    continue;
  }
  const typed = new Set([...shape.own, ...shape.picked]);
  const keys = new Set(Object.keys(declared));
  const onlyTyped = [...typed].filter((k) => !keys.has(k));
  const onlyDeclared = [...keys].filter((k) => !typed.has(k));
  if (onlyTyped.length > 0) problems.push(`${type} has ${onlyTyped.join(', ')}, which OPTIONS.${table} does not declare`);
  if (onlyDeclared.length > 0) problems.push(`OPTIONS.${table} declares ${onlyDeclared.join(', ')}, which ${type} does not have`);
  const extraNames = shape.names.filter((n) => !inherits.includes(n));
  const missingNames = inherits.filter((n) => !shape.names.includes(n));
  if (extraNames.length > 0) problems.push(`${type} extends ${extraNames.join(', ')}, whose keys the run-time check does not take`);
  if (missingNames.length > 0) problems.push(`${type} does not extend ${missingNames.join(', ')}, whose keys the run-time check takes`);
}

if (problems.length > 0) {
  console.error(`options-sync: js/options.js and js/index.d.ts differ:\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
console.log(`options-sync: ok (${PAIRS.length} options objects)`);
