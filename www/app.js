// The seed's dashboard: three API calls in parallel through one fetchlane client.
import { createClient, isFetchlaneError } from '/pkg/index.js';

const $ = (id) => document.getElementById(id);
const client = await createClient({ concurrency: 6, retry: { limit: 2, backoffMs: 100 } });

function show(id, render, result) {
  const el = $(id);
  el.classList.toggle('error', result.status === 'rejected');
  if (result.status === 'rejected') {
    const e = result.reason;
    el.textContent = isFetchlaneError(e) ? `${e.kind}${e.status ? ` ${e.status}` : ''}: ${e.message}` : String(e);
  } else {
    el.replaceChildren(render(result.value));
  }
}

const text = (s) => document.createTextNode(s);
const list = (items) => {
  const ul = document.createElement('ul');
  for (const item of items) {
    const li = document.createElement('li');
    li.textContent = item;
    ul.append(li);
  }
  return ul;
};

async function load() {
  $('status').textContent = 'Loading…';
  const t0 = performance.now();
  const [user, notifications, analytics] = await client.allSettled(['/api/user', '/api/notifications', '/api/analytics']);
  show('user', (u) => text(`${u.name ?? u.id} <${u.email ?? ''}>`), user);
  show('notifications', (n) => list((n.items ?? n).slice(0, 5).map((x) => x.title ?? x.message ?? JSON.stringify(x))), notifications);
  show('analytics', (a) => list(Object.entries(a.totals ?? {}).map(([k, v]) => `${k}: ${v}`)), analytics);
  $('stats').textContent = JSON.stringify(client.stats(), null, 2);
  $('status').textContent = `Loaded in ${Math.round(performance.now() - t0)} ms.`;
}

$('load').addEventListener('click', load);
load();
