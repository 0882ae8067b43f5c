#!/usr/bin/env node
// npm start: serves the demo page (www/), the built package (pkg/) and the local API server
// on 127.0.0.1, and prints the address. Ctrl-C stops it.
import { freePort, root, startServer } from './server.mjs';

const port = await freePort(Number(process.env.PORT) || 8080);
const server = await startServer({ port, statics: [`/=${root}/www`, `/pkg=${root}/pkg`], quiet: false });
console.log(`\nfetchlane demo: ${server.origin}/\n(the API is served by the same server; Ctrl-C to stop)\n`);
const stop = async () => {
  await server.stop();
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
server.child.on('exit', (code) => process.exit(code ?? 0));
