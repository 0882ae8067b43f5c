// Starts the local API server (tests/server) and hands back its address; shared by the test
// harness, `npm start` and the benchmarks.
import { execFileSync, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Resolves to `port` when it is free on 127.0.0.1, else to a free one. */
export function freePort(port) {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => {
      const any = createServer();
      any.listen(0, '127.0.0.1', () => {
        const p = any.address().port;
        any.close(() => resolve(p));
      });
    });
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(port)));
  });
}

/**
 * Builds and starts the server. `statics` are `PREFIX=DIR` mounts. Resolves to
 * `{ port, origin, stop() }`; the server also exits when this process does (stdin EOF).
 */
export async function startServer({ port = 0, statics = [], release = false, quiet = true } = {}) {
  const profile = release ? ['--release'] : [];
  execFileSync('cargo', ['build', '-q', '-p', 'fetchlane-test-server', ...profile], { cwd: root, stdio: 'inherit' });
  const bin = join(root, 'target', release ? 'release' : 'debug', 'fetchlane-test-server');
  const args = ['--port', String(port), '--exit-on-stdin-eof'];
  for (const s of statics) args.push('--static', s);
  const child = spawn(bin, args, { cwd: root, stdio: ['pipe', 'pipe', quiet ? 'ignore' : 'inherit'] });
  const origin = await new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error('server: no address printed within 30 s')), 30000);
    child.once('exit', (code) => reject(new Error(`server: exited early with code ${code}`)));
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const m = out.match(/listening on (http:\/\/[\d.]+:(\d+))/);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
  });
  const stop = () =>
    new Promise((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.stdin.end();
      setTimeout(() => child.kill('SIGKILL'), 5000).unref();
    });
  return { port: Number(new URL(origin).port), origin, stop, child };
}
