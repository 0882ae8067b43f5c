// A consumer app: imports fetchlane by its package name, as an app installed from npm does,
// and loads the dashboard (user, notifications, analytics) through one client.
import { createClient, isFetchlaneError } from 'fetchlane';

const run = new URLSearchParams(location.search).get('run') ?? 'vite-app';
const tagged = (path) => `${path}?run=${encodeURIComponent(run)}`;

const PANELS = {
  user: (u) => `${u.name} <${u.email}>`,
  notifications: (n) => `${n.unread} unread of ${n.items.length}`,
  analytics: (a) => `${a.totals.visitors} visitors, ${a.totals.pageViews} page views (${a.range})`,
};

function show(id, text, state) {
  const panel = document.getElementById(id);
  panel.dataset.state = state;
  panel.querySelector('.body').textContent = text;
}

async function main() {
  const client = await createClient({ concurrency: 4, retry: 1 });
  try {
    const settled = await client.allSettled([
      { input: tagged('/api/user'), init: { lane: 'critical' } },
      tagged('/api/notifications'),
      { input: tagged('/api/analytics'), init: { lane: 'background' } },
    ]);
    const ids = Object.keys(PANELS);
    settled.forEach((result, i) => {
      const id = ids[i];
      if (result.status === 'fulfilled') show(id, PANELS[id](result.value), 'ok');
      else show(id, `failed: ${isFetchlaneError(result.reason) ? result.reason.kind : ''} ${result.reason}`, 'error');
    });
    window.__dashboard = { settled, stats: client.stats() };
    document.body.dataset.status = settled.every((r) => r.status === 'fulfilled') ? 'done' : 'failed';
  } finally {
    client.close();
  }
}

main().catch((error) => {
  document.getElementById('error').textContent = String(error?.stack ?? error);
  document.body.dataset.status = 'error';
});
