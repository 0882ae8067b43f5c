// The live waterfall: one row per request, queued → started → finished, coloured by outcome.
// Plain SVG, redrawn from the records; hover a row or move through the bars with the arrow
// keys (roving tabindex) to see a request's details.

/** Outcome → legend label and colour (every colour has at least 3:1 contrast on white). */
export const OUTCOMES = [
  { id: 'network', label: 'Network', color: '#2563eb' },
  { id: 'memory', label: 'Memory hit', color: '#15803d' },
  { id: 'persistent', label: 'Cache API hit', color: '#7c3aed' },
  { id: 'dedupe', label: 'De-duplicated', color: '#0e7490' },
  { id: 'batched', label: 'Batched', color: '#a16207' },
  { id: 'retried', label: 'Retried', color: '#c2410c' },
  { id: 'rate-limited', label: 'Rate-limited (429, host paused)', color: '#be185d' },
  { id: 'failed', label: 'Failed', color: '#b91c1c' },
  { id: 'outbox', label: 'Outbox delivery (analytics)', color: '#1f2937' },
  { id: 'inflight', label: 'In flight', color: '#64748b' },
];
const COLOR = Object.fromEntries(OUTCOMES.map((o) => [o.id, o.color]));
const LABEL = Object.fromEntries(OUTCOMES.map((o) => [o.id, o.label]));
const GROUP_ORDER = { product: 0, dashboard: 1, team: 2, outbox: 3, other: 4 };
const GROUP_NAME = { product: 'Product page', dashboard: 'Dashboard', team: 'Team', outbox: 'Outbox', other: 'Other' };

/** What colour a record gets: the most telling thing that happened to it. */
export function outcomeOf(r) {
  if (r.end == null) return 'inflight';
  if (r.error) return 'failed';
  if (r.outbox) return 'outbox';
  if (r.pauses.length) return 'rate-limited';
  if (r.retries.length) return 'retried';
  if (r.source === 'memory') return 'memory';
  if (r.source === 'persistent') return 'persistent';
  if (r.source === 'dedupe') return 'dedupe';
  if (r.source === 'batch' || r.batch) return 'batched';
  return 'network';
}

const esc = (s) =>
  String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
const ms = (x) => `${Math.round(x).toLocaleString('en-US')} ms`;
const kb = (n) => (n >= 1024 ? `${(n / 1024).toFixed(1)} kB` : `${n} B`);

/** The path with a long `fields=` list shortened: `fields=brand…tags (13 fields)`. */
const shortFields = (path) =>
  path.replace(/([?&]fields=)([^&]*)/, (all, head, list) => {
    const names = decodeURIComponent(list).split(',');
    return names.length <= 3 ? all : `${head}${names[0]}…${names[names.length - 1]} (${names.length} fields)`;
  });

/** A short label for a row: the path, with long id lists (and field lists) shortened. */
export function shortLabel(path) {
  path = shortFields(path);
  const m = path.match(/^(.*[?&]ids=)([^&]*)(.*)$/);
  if (!m) return path;
  const ids = decodeURIComponent(m[2]).split(',');
  if (ids.length <= 3) return path;
  return `${m[1]}${ids[0]}…${ids[ids.length - 1]} (${ids.length} ids)${m[3]}`;
}

/** A path without its `fields=` parameter. */
const withoutFields = (path) => path.replace(/([?&])fields=[^&]*&?/, '$1').replace(/[?&]$/, '');

/** `name, brand, rating…`: a field list, its first `max` names. */
const fieldList = (fields, max = Infinity) =>
  fields.length <= max ? fields.join(', ') : `${fields.slice(0, max).join(', ')}… (${fields.length})`;

/** One caller, `card (name, brand…)`. */
export const callerText = (c, max = 2) => (c.fields ? `${c.name} (${fieldList(c.fields, max)})` : c.name);

/** The callers a request answered (its own call, then the calls that joined it in flight). */
const callersOf = (r) => r.callers ?? [];

/** A row's label: the path; one request for several calls says how many, one panel's call names it. */
export function rowLabel(r) {
  const callers = callersOf(r);
  if (callers.length > 1) return `${withoutFields(r.label)} · ${callers.length} callers`;
  if (callers.length === 1 && (callers[0].fields || r.plain)) return `${withoutFields(r.label)} · ${callers[0].name}`;
  return shortLabel(r.label);
}

/** Every detail of one record, as one line of text per item. */
export function describe(r, t0) {
  const rel = (t) => `+${ms(t - t0)}`;
  const lines = [];
  // a long field list is shortened here: the "fields sent" line below has it whole
  lines.push(`${r.method} ${shortFields(r.label)}`);
  lines.push(`${r.who}${r.lane ? ` · lane ${r.lane}` : ''}`);
  const callers = callersOf(r);
  if (callers.length > 1) lines.push(`${callers.length} callers: ${callers.map((c) => callerText(c)).join(', ')}`);
  else if (callers.length === 1 && (callers[0].fields || r.plain)) lines.push(`caller: ${callerText(callers[0])}`);
  const fields = r.label.match(/[?&]fields=([^&]*)/);
  if (fields) lines.push(`fields sent: ${decodeURIComponent(fields[1]).split(',').join(', ')}`);
  const called = r.called ?? r.queued;
  const parts = [];
  if (r.queued - called >= 1) parts.push(`called ${rel(called)}`);
  parts.push(`${r.sawQueued === false ? 'called' : 'queued'} ${rel(r.queued)}`);
  if (r.start != null) parts.push(`started ${rel(r.start)}`);
  if (r.end != null) parts.push(`finished ${rel(r.end)}`);
  lines.push(parts.join(' → '));
  if (r.end != null) {
    const wait = (r.start ?? r.queued) - r.queued;
    const lookup = r.queued - called;
    const waits = [];
    if (lookup >= 1) waits.push(`${ms(lookup)} in the cache look-up`);
    if (wait >= 1) waits.push(`${ms(wait)} waiting ${r.plain ? 'for one of the browser\'s connections' : 'in the queue'}`);
    lines.push(`${ms(r.end - called)} in total${waits.length ? `: ${waits.join(', ')}` : ''}`);
  } else {
    lines.push('still in flight');
  }
  const outcome = outcomeOf(r);
  let result = `outcome: ${LABEL[outcome]}`;
  if (r.source && r.source !== 'network') result += ` (source ${r.source})`;
  if (r.status != null) result += ` · HTTP ${r.status}`;
  if (r.error) result += ` · error ${r.error}`;
  if (r.bytes) result += ` · ${kb(r.bytes)}`;
  lines.push(result);
  if (r.attempts > 1 || r.retries.length) lines.push(`attempts: ${Math.max(r.attempts, r.retries.length + 1)}`);
  for (const x of r.retries) {
    lines.push(`retry at ${rel(x.time)} after ${x.reason}${x.status ? ` ${x.status}` : ''}, waiting ${ms(x.delayMs)}`);
  }
  for (const p of r.pauses) lines.push(`429 at ${rel(p.time)}: host paused for ${ms(p.delayMs)}`);
  if (r.note) lines.push(r.note);
  return lines;
}

function niceStep(span, maxTicks) {
  const steps = [10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 2500, 5000, 10000, 20000, 30000, 60000];
  return steps.find((s) => span / s <= maxTicks) ?? 120000;
}

export class Waterfall {
  /**
   * @param {HTMLElement} host where the SVG goes
   * @param {HTMLElement} details the details box (text) under the chart
   * @param {HTMLElement} tooltip a floating box for hover and focus
   */
  constructor(host, details, tooltip) {
    this.host = host;
    this.details = details;
    this.tooltip = tooltip;
    this.records = [];
    this.t0 = 0;
    this.now = 0;
    this.active = 0; // index of the bar that holds tabindex 0
    this.rows = []; // records in drawing order
    this.layout = null;
    this.empty = 'No requests yet: load the scene.';
    host.addEventListener('pointermove', (e) => this.#hover(e));
    host.addEventListener('pointerleave', () => this.#hideTip(true));
    host.addEventListener('keydown', (e) => this.#key(e));
    host.addEventListener('focusin', (e) => {
      const row = e.target.closest?.('[data-row]');
      if (row) this.#select(Number(row.dataset.row), { focus: false, fromFocus: true });
    });
    host.addEventListener('focusout', () => this.#hideTip(false));
    new ResizeObserver(() => this.render()).observe(host);
  }

  set(records, t0, now) {
    this.records = records;
    this.t0 = t0;
    this.now = now;
    this.render();
  }

  render() {
    const width = Math.max(300, Math.floor(this.host.clientWidth || 800));
    const focusedKey = this.host.contains(document.activeElement) ? document.activeElement.dataset?.key : undefined;
    const rows = [...this.records].sort(
      (a, b) => GROUP_ORDER[a.group] - GROUP_ORDER[b.group] || (a.called ?? a.queued) - (b.called ?? b.queued) || a.seq - b.seq,
    );
    this.rows = rows;
    if (!rows.length) {
      this.host.innerHTML = `<p class="wf-empty">${esc(this.empty)}</p>`;
      this.layout = null;
      return;
    }
    const n = rows.length;
    const rowH = n <= 24 ? 18 : n <= 40 ? 12 : Math.max(4, Math.min(10, Math.floor(560 / n)));
    const showLabels = rowH >= 12;
    const labelW = width < 560 ? 118 : 210;
    const top = 24;
    const right = 14;
    const plotW = Math.max(80, width - labelW - right);
    const end = Math.max(
      ...rows.map((r) => r.end ?? this.now),
      ...rows.flatMap((r) => r.pauses.map((p) => Math.min(p.time + p.delayMs, r.end ?? this.now))),
      this.t0 + 50,
    );
    const span = end - this.t0;
    const x = (t) => labelW + (Math.max(0, t - this.t0) / span) * plotW;
    const height = top + n * rowH + 6;
    this.layout = { top, rowH, labelW, plotW, width, height, x };

    const out = [];
    out.push(
      `<svg width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="list" aria-label="Request waterfall: ${n} requests over ${esc(ms(span))}. Use the arrow keys to move between bars.">`,
      `<defs><pattern id="wf-hatch" width="5" height="5" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="5" height="5" fill="#fdf2f8"/><rect width="2.2" height="5" fill="#be185d"/></pattern>`,
      `<pattern id="wf-fail" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(-45)"><rect width="6" height="6" fill="#b91c1c"/><rect width="1.6" height="6" fill="#fecaca"/></pattern></defs>`,
    );
    // time axis
    const step = niceStep(span, Math.max(2, Math.floor(plotW / 90)));
    for (let t = 0; t <= span + 0.1; t += step) {
      const xx = x(this.t0 + t).toFixed(1);
      out.push(`<line x1="${xx}" x2="${xx}" y1="${top - 4}" y2="${height - 4}" class="wf-grid"/>`);
      out.push(`<text x="${xx}" y="${top - 9}" class="wf-tick" text-anchor="middle">${t >= 1000 ? `${t / 1000} s` : `${t} ms`}</text>`);
    }
    // group labels (when rows are too thin for their own labels) and separators, drawn last
    const overlay = [];
    let gStart = 0;
    for (let i = 1; i <= n; i++) {
      if (i < n && rows[i].group === rows[gStart].group) continue;
      const g = rows[gStart].group;
      const y0 = top + gStart * rowH;
      const y1 = top + i * rowH;
      if (gStart > 0) overlay.push(`<line x1="0" x2="${width}" y1="${y0}" y2="${y0}" class="wf-sep"/>`);
      if (!showLabels) {
        const count = i - gStart;
        overlay.push(
          `<line x1="${labelW - 8}" x2="${labelW - 8}" y1="${y0 + 1}" y2="${y1 - 1}" class="wf-bracket"/>`,
          `<text x="${labelW - 14}" y="${(y0 + y1) / 2}" class="wf-group" text-anchor="end" dominant-baseline="middle">${esc(GROUP_NAME[g])} · ${count} request${count === 1 ? '' : 's'}</text>`,
        );
      }
      gStart = i;
    }
    const maxChars = Math.floor((labelW - 10) / 6.3);
    rows.forEach((r, i) => {
      const y = top + i * rowH;
      const outcome = outcomeOf(r);
      const barH = Math.max(2, Math.round(rowH * 0.72));
      const by = y + (rowH - barH) / 2;
      const xq = x(r.queued);
      const xs = x(r.start ?? r.end ?? this.now);
      const xe = Math.max(x(r.end ?? this.now), xs + 2);
      const aria = describe(r, this.t0).join('. ');
      const callers = callersOf(r);
      const coalesced = callers.length > 1
        ? ` data-testid="wf-coalesced" data-callers="${callers.length}" data-caller-names="${esc(callers.map((c) => c.name).join(','))}"`
        : '';
      out.push(
        `<g class="wf-row${i === this.active ? ' wf-active' : ''}" data-row="${i}" data-key="${esc(r.key)}" data-outcome="${outcome}" data-label="${esc(r.label)}"${coalesced} role="listitem" tabindex="${i === this.active ? 0 : -1}" aria-label="${esc(aria)}">`,
        `<rect class="wf-band" x="0" y="${y}" width="${width}" height="${rowH}"/>`,
      );
      if (showLabels) {
        let label = rowLabel(r);
        if (label.length > maxChars) label = `${label.slice(0, maxChars - 1)}…`;
        out.push(`<text x="6" y="${y + rowH / 2}" class="wf-label" dominant-baseline="middle">${esc(label)}</text>`);
      }
      const xc = x(r.called ?? r.queued);
      if (xq - xc >= 1) {
        out.push(`<line class="wf-lookup" x1="${xc.toFixed(1)}" x2="${xq.toFixed(1)}" y1="${(y + rowH / 2).toFixed(1)}" y2="${(y + rowH / 2).toFixed(1)}"/>`);
      }
      if (xs - xq >= 0.5) {
        const qh = Math.max(1, Math.round(barH * 0.3));
        out.push(`<rect class="wf-queued" x="${xq.toFixed(1)}" y="${(y + (rowH - qh) / 2).toFixed(1)}" width="${(xs - xq).toFixed(1)}" height="${qh}"/>`);
      }
      const fill = outcome === 'failed' ? 'url(#wf-fail)' : COLOR[outcome];
      out.push(`<rect class="wf-bar${r.end == null ? ' wf-live' : ''}" x="${xs.toFixed(1)}" y="${by.toFixed(1)}" width="${(xe - xs).toFixed(1)}" height="${barH}" fill="${fill}" rx="${barH > 6 ? 2 : 0}"/>`);
      for (const p of r.pauses) {
        const p0 = x(p.time);
        const p1 = x(Math.min(p.time + p.delayMs, r.end ?? this.now));
        if (p1 - p0 > 1) out.push(`<rect x="${p0.toFixed(1)}" y="${by.toFixed(1)}" width="${(p1 - p0).toFixed(1)}" height="${barH}" fill="url(#wf-hatch)"/>`);
      }
      if (barH >= 6) {
        for (const t of r.retries) {
          const xt = x(t.time).toFixed(1);
          out.push(`<line x1="${xt}" x2="${xt}" y1="${by}" y2="${by + barH}" class="wf-retry"/>`);
        }
      }
      out.push('</g>');
    });
    out.push(`<g aria-hidden="true">${overlay.join('')}</g>`, '</svg>');
    this.host.innerHTML = out.join('');
    if (this.active >= n) this.active = n - 1;
    if (focusedKey !== undefined) {
      const el = [...this.host.querySelectorAll('[data-row]')].find((g) => g.dataset.key === focusedKey);
      if (el) {
        this.#setRoving(Number(el.dataset.row));
        el.focus({ preventScroll: true });
      }
    }
    if (this.selectedKey !== undefined) {
      const i = rows.findIndex((r) => r.key === this.selectedKey);
      if (i >= 0) this.#showDetails(rows[i]);
    }
  }

  #setRoving(i) {
    this.active = i;
    for (const g of this.host.querySelectorAll('[data-row]')) {
      const on = Number(g.dataset.row) === i;
      g.setAttribute('tabindex', on ? '0' : '-1');
      g.classList.toggle('wf-active', on);
    }
  }

  #showDetails(r) {
    this.details.replaceChildren(
      ...describe(r, this.t0).map((line, i) => {
        const el = document.createElement(i === 0 ? 'strong' : 'span');
        el.textContent = line;
        return el;
      }),
    );
    const sw = document.createElement('i');
    sw.className = 'swatch';
    sw.style.background = COLOR[outcomeOf(r)];
    this.details.firstChild.prepend(sw);
    const callers = callersOf(r);
    if (callers.length > 1) {
      // one request, several calls: each caller with its own fields and when it got its answer
      const ul = document.createElement('ul');
      ul.className = 'wf-callers';
      ul.dataset.testid = 'wf-callers';
      ul.setAttribute('aria-label', `${callers.length} callers of this request`);
      for (const c of callers) {
        const li = document.createElement('li');
        li.dataset.testid = 'wf-caller';
        li.dataset.caller = c.name;
        li.dataset.fields = c.fields ? c.fields.join(',') : '';
        const how = c.source === 'dedupe' ? 'joined in flight' : c.source ? `made the request (${c.source})` : 'made the request';
        li.textContent = `${c.name}: ${c.fields ? `fields ${c.fields.join(', ')}` : 'the whole resource'} · #${c.id} ${how}` +
          `${c.end != null ? ` · answered at +${ms(c.end - this.t0)}` : ''}${c.error ? ` · error ${c.error}` : ''}`;
        ul.append(li);
      }
      this.details.append(ul);
    }
  }

  #select(i, { focus, fromFocus, clientX, clientY } = {}) {
    const r = this.rows[i];
    if (!r || !this.layout) return;
    this.selectedKey = r.key;
    this.#setRoving(i);
    this.#showDetails(r);
    const g = this.host.querySelector(`[data-row="${i}"]`);
    if (focus && g) g.focus({ preventScroll: false });
    // tooltip: near the pointer, or near the bar's end for keyboard focus
    const box = this.host.getBoundingClientRect();
    let left;
    let topPx;
    if (clientX != null) {
      left = clientX - box.left + 14;
      topPx = clientY - box.top + 14;
    } else {
      const { x, top, rowH } = this.layout;
      left = x(r.end ?? this.now) + 10;
      topPx = top + (i + 1) * rowH + 4;
      if (!fromFocus && !focus) return;
    }
    this.tooltip.replaceChildren(
      ...describe(r, this.t0).slice(0, 6).map((line) => {
        const d = document.createElement('div');
        d.textContent = line;
        return d;
      }),
    );
    this.tooltip.hidden = false;
    const tw = this.tooltip.offsetWidth;
    const th = this.tooltip.offsetHeight;
    const maxLeft = this.host.clientWidth - tw - 4;
    if (left > maxLeft) left = Math.max(4, clientX != null ? clientX - box.left - tw - 14 : maxLeft);
    if (topPx + th > this.host.scrollHeight - 2 && topPx - th - 30 > 0) topPx = topPx - th - 30;
    this.tooltip.style.left = `${left}px`;
    this.tooltip.style.top = `${topPx}px`;
  }

  #hideTip(pointer) {
    if (pointer && this.host.contains(document.activeElement) && document.activeElement.dataset?.row) {
      this.#select(Number(document.activeElement.dataset.row), { fromFocus: true });
      return;
    }
    this.tooltip.hidden = true;
  }

  #hover(e) {
    if (!this.layout) return;
    const svg = this.host.querySelector('svg');
    if (!svg) return;
    const rect = svg.getBoundingClientRect();
    const y = e.clientY - rect.top;
    const i = Math.floor((y - this.layout.top) / this.layout.rowH);
    if (i < 0 || i >= this.rows.length) {
      this.tooltip.hidden = true;
      return;
    }
    for (const g of this.host.querySelectorAll('.wf-hover')) g.classList.remove('wf-hover');
    this.host.querySelector(`[data-row="${i}"]`)?.classList.add('wf-hover');
    this.#select(i, { clientX: e.clientX, clientY: e.clientY });
  }

  #key(e) {
    const row = e.target.closest?.('[data-row]');
    if (!row) return;
    const i = Number(row.dataset.row);
    const n = this.rows.length;
    const to = {
      ArrowDown: i + 1, ArrowRight: i + 1, ArrowUp: i - 1, ArrowLeft: i - 1,
      Home: 0, End: n - 1, PageDown: i + 10, PageUp: i - 10,
    }[e.key];
    if (to === undefined) {
      if (e.key === 'Escape') this.tooltip.hidden = true;
      return;
    }
    e.preventDefault();
    this.#select(Math.max(0, Math.min(n - 1, to)), { focus: true });
  }
}
