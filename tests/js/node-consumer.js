// A Node app that installed the package, for the Node-only tests (node.test.js,
// readme.test.js): a temporary directory with node_modules/fetchlane linked to the package
// under test, where modules run in a fresh `node` process.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const exec = promisify(execFile);

/** The package under test: the directory 'fetchlane' resolves to (node-hooks.mjs). */
export const pkgDir = dirname(fileURLToPath(import.meta.resolve('fetchlane')));

/**
 * Calls `body(dir, run)` with a fresh app directory, removed afterwards. `run(file)` runs
 * `dir/file` with node and resolves to `{ stdout, stderr }`; it rejects when node exits
 * non-zero (an uncaught error, an unhandled rejection) or takes over `timeoutMs`.
 * @template T
 * @param {(dir: string, run: (file: string) => Promise<{ stdout: string, stderr: string }>) => Promise<T>} body
 * @param {number} [timeoutMs]
 * @returns {Promise<T>}
 */
export async function inApp(body, timeoutMs = 10_000) {
  const dir = mkdtempSync(join(tmpdir(), 'fetchlane-node-'));
  try {
    mkdirSync(join(dir, 'node_modules'));
    symlinkSync(pkgDir, join(dir, 'node_modules', 'fetchlane'), 'dir');
    return await body(dir, (file) =>
      exec(process.execPath, [file], { cwd: dir, timeout: timeoutMs }).catch((e) => {
        throw new Error(`node ${file} failed (code ${e.code}${e.signal ? `, ${e.signal}` : ''}):\n${e.stderr || e.stdout}`, { cause: e });
      }),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Runs `source` as app.mjs in a fresh app directory.
 * @param {string} source
 */
export function consumer(source) {
  return inApp((dir, run) => {
    writeFileSync(join(dir, 'app.mjs'), source);
    return run('app.mjs');
  });
}
