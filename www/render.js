// Panel renderers: turn the API server's payloads into the product page, the dashboard and
// the team grid. DOM built with `h` (textContent only: server data is never parsed as HTML).

export function h(tag, attrs = {}, ...children) {
  const svg = tag.startsWith('svg:');
  const el = svg ? document.createElementNS('http://www.w3.org/2000/svg', tag.slice(4)) : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v == null || v === false) continue;
    if (k === 'class') el.setAttribute('class', v);
    else if (k === 'text') el.textContent = v;
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat(Infinity)) {
    if (c == null || c === false) continue;
    el.append(c instanceof Node ? c : String(c));
  }
  return el;
}

const money = (n, currency = 'USD') => new Intl.NumberFormat('en-US', { style: 'currency', currency }).format(n);
const num = (n) => Number(n).toLocaleString('en-US');
const day = (iso) => new Date(iso).toLocaleDateString('en-US', { month: 'short', day: 'numeric', timeZone: 'UTC' });
const when = (iso) =>
  new Date(iso).toLocaleString('en-US', { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', timeZone: 'UTC' });

/** ★★★★☆ with an accessible label. */
function stars(rating, max = 5) {
  const full = Math.round(Number(rating));
  return h('span', { class: 'stars', role: 'img', 'aria-label': `${Number(rating).toFixed(1)} out of ${max} stars` },
    '★'.repeat(Math.max(0, Math.min(max, full))) + '☆'.repeat(Math.max(0, max - full)));
}

const STOCK = {
  in_stock: ['In stock', 'ok'],
  low_stock: ['Low stock', 'warn'],
  out_of_stock: ['Out of stock', 'bad'],
};

export const RENDER = {
  product(p) {
    return h('div', { class: 'product' },
      h('img', { src: p.images?.[0] ?? p.image, alt: `${p.name}, front view`, width: 240, height: 180, class: 'product-img' }),
      h('div', { class: 'product-info' },
        h('p', { class: 'muted small' }, `${p.brand} · ${p.category} · SKU for #${p.id}`),
        h('h4', { class: 'product-name' }, p.name),
        h('p', { class: 'rating' }, stars(p.rating), ` ${Number(p.rating).toFixed(1)} · ${num(p.reviewCount)} reviews`),
        h('p', { class: 'desc' }, p.description),
        h('ul', { class: 'tags', 'aria-label': 'Tags' }, (p.tags ?? []).map((t) => h('li', {}, t))),
        p.specs &&
          h('dl', { class: 'specs' },
            h('dt', {}, 'Weight'), h('dd', {}, `${num(p.specs.weightGrams)} g`),
            h('dt', {}, 'Colour'), h('dd', {}, p.specs.color),
            h('dt', {}, 'Warranty'), h('dd', {}, `${p.specs.warrantyYears} years`)),
      ),
    );
  },

  /** The price box: the product's `price` and `currency`. */
  price(p) {
    if (typeof p.price !== 'number') throw new Error('no price');
    return h('span', { class: 'price-box' }, money(p.price, p.currency));
  },

  /** The stock badge: the product's `stock` (the inventory's total), with the inventory's status rule. */
  stock(p) {
    if (typeof p.stock !== 'number') throw new Error('no stock');
    const status = p.stock === 0 ? 'out_of_stock' : p.stock < 20 ? 'low_stock' : 'in_stock';
    const [label, tone] = STOCK[status];
    return h('span', { class: `pill ${tone}` }, `${label}: ${num(p.stock)} available`);
  },

  reviews(r) {
    return h('div', {},
      h('p', { class: 'rating' }, stars(r.average), ` ${r.average} average · ${r.count} shown`),
      h('ul', { class: 'reviews' },
        r.reviews.map((v) =>
          h('li', {},
            h('p', { class: 'review-head' }, stars(v.rating), ' ', h('strong', {}, v.title)),
            h('p', {}, v.body),
            h('p', { class: 'muted small' }, `${v.author} · ${day(v.createdAt)} · ${v.helpful} found this helpful`),
          ),
        ),
      ),
    );
  },

  recommendations(r) {
    return h('div', {},
      h('p', { class: 'muted small' }, r.reason),
      h('ul', { class: 'recos' },
        r.items.map((p) =>
          h('li', {},
            h('img', { src: p.image, alt: '', width: 96, height: 72 }),
            h('span', { class: 'reco-name' }, p.name),
            h('span', { class: 'small' }, money(p.price, p.currency), ' · ', stars(p.rating)),
          ),
        ),
      ),
    );
  },

  inventory(inv) {
    const [label, tone] = STOCK[inv.status] ?? [inv.status, 'ok'];
    return h('div', {},
      h('p', {}, h('span', { class: `pill ${tone}` }, label), ` ${num(inv.totalStock)} units · ${inv.sku}`),
      h('table', { class: 'inv' },
        h('caption', { class: 'sr-only' }, 'Stock per warehouse'),
        h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Warehouse'), h('th', { scope: 'col' }, 'Stock'),
          h('th', { scope: 'col' }, 'Reserved'), h('th', { scope: 'col' }, 'Lead time'))),
        h('tbody', {},
          inv.warehouses.map((w) =>
            h('tr', {}, h('th', { scope: 'row' }, `${w.city} (${w.code})`), h('td', {}, num(w.stock)),
              h('td', {}, num(w.reserved)), h('td', {}, `${w.leadTimeDays} d`)),
          ),
        ),
      ),
      h('p', { class: 'muted small' }, `Updated ${when(inv.updatedAt)}${inv.restockDate ? ` · restock ${day(inv.restockDate)}` : ''}`),
    );
  },

  account(u) {
    return h('span', { class: 'account-chip' },
      h('img', { src: u.avatar, alt: '', width: 32, height: 32, class: 'avatar' }),
      h('span', {}, h('strong', {}, u.name), h('span', { class: 'small muted' }, ` ${u.plan} plan`)),
    );
  },

  user(u) {
    const s = u.stats ?? {};
    return h('div', { class: 'user' },
      h('div', { class: 'user-head' },
        h('img', { src: u.avatar, alt: '', width: 56, height: 56, class: 'avatar' }),
        h('div', {},
          h('h4', {}, u.name),
          h('p', { class: 'muted small' }, `${u.email} · ${u.role} · ${u.company}`),
          h('p', { class: 'muted small' }, `Member since ${day(u.joinedAt)} · last login ${when(u.lastLoginAt)} UTC`),
        ),
      ),
      h('ul', { class: 'kpis' },
        [['Projects', s.projects], ['Open tasks', s.openTasks], ['Teammates', s.teammates], ['Storage', `${(s.storageUsedMb / 1024).toFixed(1)} GB`]].map(
          ([k, v]) => h('li', {}, h('span', { class: 'kpi' }, typeof v === 'number' ? num(v) : v), h('span', { class: 'small muted' }, k)),
        ),
      ),
    );
  },

  notifications(n) {
    return h('div', {},
      h('p', { class: 'small' }, h('strong', {}, `${n.unread} unread`), ` of ${n.items.length}`),
      h('ul', { class: 'notes' },
        n.items.map((x) =>
          h('li', { class: x.read ? '' : 'unread' },
            h('img', { src: x.actor.avatar, alt: '', width: 24, height: 24, class: 'avatar' }),
            h('span', {}, x.read ? '' : h('span', { class: 'sr-only' }, 'Unread: '), x.title,
              h('span', { class: 'small muted' }, ` · ${when(x.createdAt)}`)),
          ),
        ),
      ),
    );
  },

  analytics(a) {
    const t = a.totals;
    const max = Math.max(...a.daily.map((d) => d.visitors));
    const W = 280;
    const H = 90;
    const bw = W / a.daily.length;
    const chart = h('svg:svg', { viewBox: `0 0 ${W} ${H + 16}`, class: 'spark', role: 'img',
      'aria-label': `Visitors per day: ${a.daily.map((d) => `${day(d.date)} ${d.visitors}`).join(', ')}` },
      a.daily.map((d, i) => {
        const bh = (d.visitors / max) * H;
        return [
          h('svg:rect', { x: i * bw + 4, y: H - bh, width: bw - 8, height: bh, rx: 2, fill: '#2563eb' }),
          h('svg:text', { x: i * bw + bw / 2, y: H + 12, 'text-anchor': 'middle', class: 'spark-label' }, day(d.date).split(' ')[1]),
        ];
      }),
    );
    return h('div', {},
      h('ul', { class: 'kpis' },
        [['Visitors', num(t.visitors)], ['Page views', num(t.pageViews)], ['Sign-ups', num(t.signups)],
          ['Bounce', `${Math.round(t.bounceRate * 100)} %`], ['Avg session', `${Math.floor(t.avgSessionSec / 60)}:${String(t.avgSessionSec % 60).padStart(2, '0')}`]].map(
          ([k, v]) => h('li', {}, h('span', { class: 'kpi' }, v), h('span', { class: 'small muted' }, k)),
        ),
      ),
      h('p', { class: 'small muted' }, `Visitors, last ${a.range}`),
      chart,
      h('div', { class: 'two' },
        h('div', {}, h('p', { class: 'small strong' }, 'Top pages'),
          h('ol', { class: 'small tight' }, a.topPages.map((p) => h('li', {}, `${p.path} — ${num(p.views)}`)))),
        h('div', {}, h('p', { class: 'small strong' }, 'Sources'),
          h('ul', { class: 'small tight' }, a.sources.map((s) => h('li', {}, `${s.name} ${Math.round(s.share * 100)} %`)))),
      ),
    );
  },
};

/** The team grid: 100 cells, each a user's avatar, a failure cross, or a placeholder. */
export function teamGrid(team) {
  return h('ul', { class: 'team-grid', 'aria-label': 'Team members' },
    team.map((m, i) => {
      if (m.state === 'ok') {
        return h('li', { class: 'ok', title: `${m.user.name} — ${m.user.role}` },
          h('img', { src: m.user.avatar, alt: `${m.user.name}, ${m.user.role}`, width: 32, height: 32 }));
      }
      if (m.state === 'error') {
        return h('li', { class: 'bad', title: `user ${i + 1}: ${m.error}` }, h('span', { class: 'sr-only' }, `user ${i + 1} failed: ${m.error}`), '×');
      }
      return h('li', { class: 'wait' }, h('span', { class: 'sr-only' }, `user ${i + 1} loading`));
    }),
  );
}
