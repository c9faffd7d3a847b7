// Touchpoint reporting dashboard: plain ES2020, no build step, no framework.
// Served by the hub at /dashboard with a strict CSP (script-src 'self',
// style-src 'self'), so nothing here uses inline scripts or style
// attributes; styling is by class (style.css). Text from the API is user
// data and only ever reaches the DOM through textContent.
//
// Testability contract (tests/browser/dashboard_check.mjs relies on it):
// every figure is an element with data-report / data-key / data-field /
// data-value (the raw API number) whose text is that number formatted for the
// current locale. data-key joins the parts of a compound key with "|":
//   campaigns    "<campaign>" (campaign row), "<campaign>|<channel>" (its
//                channel rows); data-field is a path in the funnel object
//                ("sent", "revenue", "rates.conversion",
//                "suppressed_by_reason.<reason>")
//   channels     "<channel>"; data-field as for campaigns
//   control      "<campaign>"; data-field "any.uplift", "target.ci95.0", ...
//   attribution  "<campaign>|<channel>" (the unattributed row is "|"),
//                "total" for the total row; data-field conversions|revenue
//   quality      "report" (field profiles), "completeness|<attribute>",
//                "validity|<channel>", "consent_marketing|<channel>",
//                "merges", "conflicts", "dead_letters" (field total),
//                "dead_letters|<pipeline>|<step>|<error_class>",
//                "sources|<source>|<pipeline>"
//   hub          "journal", "applier", "store", "outbox" (field = outbox
//                key), "pipelines|<name>" (field source.restarts),
//                "pipelines|<name>|sinks|<sink>", "metrics|<metric>" (field =
//                the label set; ".count"/".sum" appended for a histogram
//                given as an object)
// Charts carry data-keys (JSON list of the API keys of their bars) and
// body[data-ready="1"] / body[data-renders] tell when a render is complete.
'use strict';

(() => {
  const TOKEN_KEY = 'touchpoint.dashboard.token';
  const LOCALE_TAGS = { en: 'en-US', de: 'de-DE' };
  const MODEL_NAMES = {
    first_touch: 'first touch',
    last_touch: 'last touch',
    linear: 'linear',
    position_based: 'position based',
    time_decay: 'time decay',
    treatment: 'treatment',
  };
  const FUNNEL_STEPS = [
    ['requested', 'Requested'],
    ['contacted', 'Contacted'],
    ['sent', 'Sent'],
    ['delivered', 'Delivered'],
    ['opened', 'Opened'],
    ['clicked', 'Clicked'],
    ['responded', 'Responded'],
    ['converted', 'Converted'],
  ];
  const ATTRIBUTE_ORDER = ['email', 'phone', 'address', 'first_name', 'last_name', 'birth_date'];
  const METRICS_SHOWN = [
    ['touchpoint_records_in_total', 'Records in'],
    ['touchpoint_records_out_total', 'Records out'],
    ['touchpoint_dead_letters_total', 'Dead letters'],
    ['touchpoint_sink_delivered_total', 'Sink deliveries'],
    ['touchpoint_sink_retries_total', 'Sink retries'],
    ['touchpoint_sink_write_failures_total', 'Sink write failures'],
    ['touchpoint_plugin_errors_total', 'Plugin errors'],
    ['touchpoint_plugin_call_seconds', 'Plugin call latency (s)'],
    ['touchpoint_plugin_call_seconds_count', 'Plugin calls'],
    ['touchpoint_plugin_call_seconds_sum', 'Plugin call time (s, total)'],
  ];
  const COLORS = {
    primary: '#2563eb',
    primarySoft: 'rgba(37, 99, 235, 0.85)',
    teal: 'rgba(13, 148, 136, 0.85)',
    violet: 'rgba(124, 58, 237, 0.8)',
    grey: 'rgba(100, 116, 139, 0.7)',
    grid: 'rgba(15, 23, 42, 0.08)',
    text: '#1e293b',
    muted: '#64748b',
  };

  // Which reports each section shows, and with which query parameters.
  const SECTIONS = {
    campaigns: { reports: ['campaigns', 'channels'], render: renderCampaigns },
    control: { reports: ['control'], render: renderControl },
    attribution: { reports: ['attribution'], render: renderAttribution },
    quality: { reports: ['quality'], render: renderQuality },
    hub: { reports: ['pipelines'], render: renderHub },
  };
  const REPORT_PARAMS = {
    // The campaigns report is read for every campaign of the date range (it
    // fills the campaign select); the campaign filter is applied on the page.
    campaigns: ['from', 'to'],
    channels: ['from', 'to', 'campaign'],
    attribution: ['from', 'to', 'campaign', 'model'],
    control: ['from', 'to', 'campaign'],
    quality: [],
    pipelines: [],
  };

  const $ = (sel) => document.querySelector(sel);
  const state = {
    token: null,
    data: {},
    errors: {},
    gen: {},
    pending: new Set(),
    charts: {},
    renders: 0,
    session: 0,
  };

  class ApiError extends Error {
    constructor(status, message) {
      super(message);
      this.status = status;
    }
  }

  // ---------------------------------------------------------------- formats

  function localeTag() {
    return LOCALE_TAGS[$('#locale').value] || 'en-US';
  }

  const formatterCache = new Map();
  function nf(options) {
    const key = localeTag() + JSON.stringify(options);
    let f = formatterCache.get(key);
    if (!f) {
      f = new Intl.NumberFormat(localeTag(), options);
      formatterCache.set(key, f);
    }
    return f;
  }

  // The kinds of figures and how they are written (the check script has the
  // same rules): counts with grouping; fractional conversion credits with up
  // to 2 decimals; money with 2 decimals, no currency; shares and rates as
  // percentages with 1 decimal; uplift and its interval in signed percentage
  // points with 1 decimal; p-values with 3 decimals ("< 0.001" below);
  // durations in seconds with 1 decimal; other metrics with up to 3 decimals.
  const FORMATS = {
    int: (v) => nf({ maximumFractionDigits: 0 }).format(v),
    dec2: (v) => nf({ maximumFractionDigits: 2 }).format(v),
    money: (v) => nf({ minimumFractionDigits: 2, maximumFractionDigits: 2 }).format(v),
    pct: (v) => nf({ style: 'percent', minimumFractionDigits: 1, maximumFractionDigits: 1 }).format(v),
    pp: (v) => nf({ minimumFractionDigits: 1, maximumFractionDigits: 1, signDisplay: 'exceptZero' }).format(v * 100),
    p: (v) => {
      const f = nf({ minimumFractionDigits: 3, maximumFractionDigits: 3 });
      return v < 0.001 ? '< ' + f.format(0.001) : f.format(v);
    },
    sec: (v) => nf({ minimumFractionDigits: 1, maximumFractionDigits: 1 }).format(v),
    metric: (v) => nf({ maximumFractionDigits: 3 }).format(v),
  };

  function fmt(kind, v) {
    return FORMATS[kind](v);
  }

  function fmtDateTime(iso) {
    if (!iso) return '—';
    const d = new Date(iso);
    if (Number.isNaN(d.getTime())) return String(iso);
    if (d.getTime() <= 0) return 'never';
    return new Intl.DateTimeFormat(localeTag(), { dateStyle: 'medium', timeStyle: 'medium', timeZone: 'UTC' }).format(d) + ' UTC';
  }

  function fmtTime(ms) {
    if (typeof ms !== 'number' || !Number.isFinite(ms)) return '';
    return new Intl.DateTimeFormat(localeTag(), { timeStyle: 'medium', timeZone: 'UTC' }).format(new Date(ms)) + ' UTC';
  }

  function humanDuration(seconds) {
    if (typeof seconds !== 'number' || !Number.isFinite(seconds)) return '';
    const s = Math.abs(seconds);
    if (s < 60) return `${Math.round(s)} s`;
    if (s < 3600) return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
    if (s < 86400) return `${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} min`;
    return `${Math.floor(s / 86400)} d ${Math.round((s % 86400) / 3600)} h`;
  }

  function humanize(name) {
    return String(name).replace(/_/g, ' ');
  }

  // ---------------------------------------------------------------- DOM

  function h(tag, props, ...children) {
    const e = document.createElement(tag);
    if (props) {
      for (const [k, v] of Object.entries(props)) {
        if (v === undefined || v === null || v === false) continue;
        if (k === 'class') e.className = v;
        else if (k === 'text') e.textContent = v;
        else if (k === 'data') for (const [dk, dv] of Object.entries(v)) e.dataset[dk] = dv;
        else e.setAttribute(k, v === true ? '' : v);
      }
    }
    for (const c of children.flat()) {
      if (c === null || c === undefined || c === false) continue;
      e.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return e;
  }

  /** A figure: the raw API number in data-value, the formatted one as text. */
  function fig(report, key, field, value, kind) {
    if (typeof value !== 'number' || !Number.isFinite(value)) return h('span', { class: 'na', text: '—' });
    return h('span', {
      class: 'num',
      text: fmt(kind, value),
      data: { report, key, field, value: String(value) },
    });
  }

  /** A name (user data) as text; short ones are kept on one line. */
  function nameSpan(text) {
    const t = String(text);
    return h('span', { class: t.length <= 18 ? 'name nowrap' : 'name', text: t });
  }

  function td(content, cls) {
    return h('td', { class: cls }, content);
  }

  function numTd(report, key, field, value, kind, unit) {
    return h('td', { class: 'n' }, fig(report, key, field, value, kind), unit ? h('span', { class: 'unit', text: unit }) : null);
  }

  /** A table inside its own horizontally scrolling container. */
  function table(caption, head, rows, foot, extraClass) {
    const thead = h('thead', null, h('tr', null, head.map((c) => {
      const [label, cls, title] = Array.isArray(c) ? c : [c];
      return h('th', { scope: 'col', class: cls, title }, label);
    })));
    const t = h('table', { class: 'data' + (extraClass ? ' ' + extraClass : '') },
      caption ? h('caption', { class: 'sr-only', text: caption }) : null,
      thead, h('tbody', null, rows), foot ? h('tfoot', null, foot) : null);
    return h('div', { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': caption || 'table' }, t);
  }

  function block(title, ...children) {
    return h('div', { class: 'block' }, title ? h('h3', { text: title }) : null, ...children);
  }

  function empty(text) {
    return h('p', { class: 'empty', text });
  }

  function badge(text, kind) {
    return h('span', { class: `badge badge-${kind}`, text });
  }

  function sectionParts(name) {
    const s = document.getElementById(name);
    return {
      section: s,
      body: s.querySelector('[data-role="body"]'),
      meta: s.querySelector('[data-role="meta"]'),
      error: s.querySelector('[data-role="error"]'),
    };
  }

  // ---------------------------------------------------------------- charts

  function destroyChart(id) {
    const c = state.charts[id];
    if (c) c.destroy();
    delete state.charts[id];
  }

  function destroyCharts() {
    for (const id of Object.keys(state.charts)) destroyChart(id);
  }

  /**
   * A one-dataset bar chart. `keys` are the API keys of the bars (stored on
   * the canvas as data-keys); `values` go unchanged into datasets[0].data.
   */
  function barChart(id, { keys, labels, values, title, valueAxis, categoryAxis, horizontal, color, kind, max, datasetLabel }) {
    destroyChart(id);
    const canvas = h('canvas', {
      id,
      role: 'img',
      'aria-label': `${title}: ` + labels.map((l, i) => `${l} ${fmt(kind, kind === 'pct' ? values[i] / 100 : values[i])}`).join(', '),
      data: { keys: JSON.stringify(keys) },
    });
    const box = h('div', { class: 'chart-box' + (horizontal ? ' chart-h' : '') }, canvas);
    // Axis ticks: percent numbers, or counts in compact notation (20K) so
    // that they fit a phone's width.
    const tick = (v) => (kind === 'pct' ? fmt('int', v) + ' %'
      : Math.abs(v) >= 10000 ? nf({ notation: 'compact', maximumFractionDigits: 1 }).format(v) : fmt(kind === 'dec2' ? 'dec2' : 'int', v));
    const valueScale = {
      beginAtZero: true,
      max,
      title: { display: true, text: valueAxis, color: COLORS.muted, font: { weight: '600' } },
      ticks: { callback: tick, color: COLORS.muted, precision: kind === 'int' ? 0 : undefined, maxRotation: 0, autoSkipPadding: 12 },
      grid: { color: COLORS.grid },
    };
    const categoryScale = {
      title: { display: true, text: categoryAxis, color: COLORS.muted, font: { weight: '600' } },
      ticks: { color: COLORS.text, autoSkip: false },
      grid: { display: false },
    };
    // Chart.js needs the canvas in the document to size it: the caller
    // appends `box` first, then calls create().
    const create = () => {
      if (typeof Chart === 'undefined') {  // the tables still carry every figure
        box.replaceChildren(empty('The chart library did not load.'));
        return;
      }
      state.charts[id] = new Chart(canvas, {
        type: 'bar',
        data: {
          labels,
          datasets: [{
            label: datasetLabel || valueAxis,
            data: values,
            backgroundColor: color || COLORS.primarySoft,
            borderRadius: 4,
            maxBarThickness: horizontal ? 26 : 56,
          }],
        },
        options: {
          animation: false,
          responsive: true,
          maintainAspectRatio: false,
          locale: localeTag(),
          indexAxis: horizontal ? 'y' : 'x',
          layout: { padding: { right: 8 } },
          plugins: {
            title: { display: true, text: title, color: COLORS.text, font: { size: 14, weight: '600' }, padding: { bottom: 12 } },
            legend: { display: false },
            tooltip: {
              callbacks: {
                label: (ctx) => {
                  const v = horizontal ? ctx.parsed.x : ctx.parsed.y;
                  return ` ${datasetLabel || valueAxis}: ${kind === 'pct' ? fmt('pct', v / 100) : fmt(kind, v)}`;
                },
              },
            },
          },
          scales: horizontal ? { x: valueScale, y: categoryScale } : { x: categoryScale, y: valueScale },
        },
      });
    };
    return { box, create };
  }

  // ---------------------------------------------------------------- API

  function params(report) {
    const p = new URLSearchParams();
    const values = {
      from: $('#from').value,
      to: $('#to').value,
      campaign: $('#campaign').value,
      model: $('#model').value,
    };
    for (const k of REPORT_PARAMS[report]) if (values[k]) p.set(k, values[k]);
    return p;
  }

  async function api(report, token, query) {
    const q = query ? query.toString() : '';
    let res;
    try {
      res = await fetch(`/v1/reports/${report}${q ? '?' + q : ''}`, {
        headers: { Authorization: `Bearer ${token}`, Accept: 'application/json' },
        cache: 'no-store',
        credentials: 'same-origin',
      });
    } catch (e) {
      throw new ApiError(0, `the hub could not be reached (${e.message})`);
    }
    let body = null;
    try {
      body = await res.json();
    } catch (e) {
      if (res.ok) throw new ApiError(res.status, 'the answer was not JSON');
    }
    if (!res.ok) {
      const why = body && typeof body.error === 'string' ? body.error : res.statusText || 'request failed';
      throw new ApiError(res.status, `HTTP ${res.status}: ${why}`);
    }
    if (!body || typeof body !== 'object') throw new ApiError(res.status, 'the answer was empty');
    return body;
  }

  // ---------------------------------------------------------------- loading

  function setReady(ready) {
    if (ready) {
      state.renders += 1;
      document.body.dataset.renders = String(state.renders);
      document.body.dataset.ready = '1';
      try {
        performance.mark('dashboard-ready');
      } catch (e) { /* marks are a nicety */ }
    } else {
      document.body.dataset.ready = '0';
    }
  }

  function load(sectionNames) {
    setReady(false);
    const session = state.session;
    for (const name of sectionNames) {
      const gen = (state.gen[name] || 0) + 1;
      state.gen[name] = gen;
      state.pending.add(name);
      const { section } = sectionParts(name);
      section.setAttribute('aria-busy', 'true');
      const reports = SECTIONS[name].reports;
      Promise.all(reports.map((r) => api(r, state.token, params(r)).then(
        (body) => ({ r, body }),
        (error) => ({ r, error }),
      ))).then((results) => {
        if (session !== state.session || gen !== state.gen[name]) return;  // superseded
        if (results.some((x) => x.error && x.error.status === 401)) {
          logout('The hub no longer accepts this token (HTTP 401). Sign in again.');
          return;
        }
        for (const { r, body, error } of results) {
          state.data[r] = error ? null : body;
          state.errors[r] = error ? error.message : null;
        }
        if (name === 'campaigns') fillCampaignSelect();
        renderSection(name);
        section.removeAttribute('aria-busy');
        state.pending.delete(name);
        if (state.pending.size === 0) setReady(true);
      });
    }
  }

  function loadAll() {
    load(Object.keys(SECTIONS));
  }

  function renderSection(name) {
    const { body, meta, error } = sectionParts(name);
    const reports = SECTIONS[name].reports;
    const errors = reports.filter((r) => state.errors[r]).map((r) => `Could not load the ${r} report: ${state.errors[r]}`);
    error.textContent = errors.join(' ');
    error.hidden = errors.length === 0;
    body.replaceChildren();
    meta.replaceChildren();
    // Charts of the content just removed go with it.
    for (const [id, chart] of Object.entries(state.charts)) if (!chart.canvas || !chart.canvas.isConnected) destroyChart(id);
    const primary = state.data[reports[0]];
    if (!primary) return;
    try {
      SECTIONS[name].render(primary, body, meta);
    } catch (e) {
      body.replaceChildren();
      error.textContent = `Could not show the ${reports[0]} report: ${e.message}`;
      error.hidden = false;
    }
  }

  function renderAll() {
    setReady(false);
    for (const name of Object.keys(SECTIONS)) renderSection(name);
    if (state.pending.size === 0) setReady(true);
  }

  function fillCampaignSelect() {
    const sel = $('#campaign');
    const current = sel.value;
    const names = new Set(((state.data.campaigns && state.data.campaigns.campaigns) || []).map((c) => c.campaign));
    if (current) names.add(current);
    const opts = [h('option', { value: '', text: 'All campaigns' })];
    for (const n of [...names].sort((a, b) => a.localeCompare(b))) opts.push(h('option', { value: n, text: n || '(unnamed)' }));
    sel.replaceChildren(...opts);
    sel.value = current;
  }

  function computedMeta(meta, report, extra) {
    const parts = [];
    if (extra) parts.push(extra);
    const q = report.query || {};
    if (q.from || q.to) parts.push(`${q.from || '…'} – ${q.to || '…'} (UTC days)`);
    else parts.push('all dates');
    if (typeof report.computed_ms === 'number') parts.push(`computed ${fmtTime(report.computed_ms)}`);
    meta.textContent = parts.join(' · ');
  }

  // ---------------------------------------------------------------- campaigns

  function renderCampaigns(report, body, meta) {
    const selected = $('#campaign').value;
    const all = Array.isArray(report.campaigns) ? report.campaigns : [];
    const shown = selected ? all.filter((c) => c.campaign === selected) : all;
    computedMeta(meta, report, `${fmt('int', shown.length)} ${shown.length === 1 ? 'campaign' : 'campaigns'}`);
    document.getElementById('campaigns').dataset.computedMs = String(report.computed_ms);

    if (shown.length === 0) {
      destroyChart('chart-funnel');
      body.append(empty(selected ? `No activity for campaign “${selected}” in this range.` : 'No campaign activity in this range.'));
    } else {
      // Funnel of the selected campaign, or of all campaigns summed.
      const values = FUNNEL_STEPS.map(([f]) => shown.reduce((s, c) => s + (Number(c.funnel && c.funnel[f]) || 0), 0));
      const chart = barChart('chart-funnel', {
        keys: FUNNEL_STEPS.map(([f]) => f),
        labels: FUNNEL_STEPS.map(([, l]) => l),
        values,
        title: `Contact funnel — ${selected ? selected : 'all campaigns'}`,
        valueAxis: 'Contacts (count)',
        categoryAxis: 'Funnel step',
        horizontal: true,
        kind: 'int',
        datasetLabel: 'Contacts',
      });
      chart.box.querySelector('canvas').dataset.campaign = selected;
      body.append(h('div', { class: 'chart-card' }, chart.box));
      chart.create();
    }

    if (shown.length > 0) {
      const head = [
        ['Campaign', 'sticky'], ['Requested', 'n'], ['Suppressed', 'n'], ['Holdout', 'n'], ['Sent', 'n'],
        ['Delivered', 'n'], ['Bounced', 'n'], ['Opened', 'n'], ['Clicked', 'n'], ['Responded', 'n'],
        ['Converted', 'n'], ['Conv. (target)', 'n', 'converted to what the campaign offered'],
        ['Revenue', 'n'], ['Conv. rate', 'n', 'converted ÷ contacted'],
      ];
      const rows = [];
      for (const c of shown) {
        const channels = Array.isArray(c.channels) ? c.channels : [];
        const subRows = channels.map((ch) => funnelRow('campaigns', `${c.campaign}|${ch.channel}`, ch.funnel,
          h('span', { class: 'sub-label' }, h('span', { class: 'sub-mark', 'aria-hidden': 'true', text: '↳ ' }), ch.channel || '(no channel)'), true));
        let label = nameSpan(c.campaign || '(unnamed)');
        if (subRows.length > 0) {
          const btn = h('button', { type: 'button', class: 'expander', 'aria-expanded': 'false', title: 'Show channels' },
            h('span', { class: 'chev', 'aria-hidden': 'true' }), label);
          btn.addEventListener('click', () => {
            const open = btn.getAttribute('aria-expanded') !== 'true';
            btn.setAttribute('aria-expanded', String(open));
            for (const r of subRows) r.hidden = !open;
          });
          label = btn;
        }
        rows.push(funnelRow('campaigns', c.campaign, c.funnel, label, false));
        for (const r of subRows) {
          r.hidden = true;
          rows.push(r);
        }
      }
      body.append(block('Per campaign', h('p', { class: 'hint', text: 'Select a campaign name to show its channels.' }),
        table('Campaign funnels', head, rows, null, 'campaign-table')));

      // Suppression reasons: one column per reason, most frequent first.
      const totals = new Map();
      for (const c of shown) for (const [r, n] of Object.entries((c.funnel && c.funnel.suppressed_by_reason) || {})) totals.set(r, (totals.get(r) || 0) + n);
      const reasons = [...totals.keys()].sort((a, b) => totals.get(b) - totals.get(a) || a.localeCompare(b));
      if (reasons.length) {
        const rrows = shown.map((c) => {
          const f = c.funnel || {};
          const by = f.suppressed_by_reason || {};
          return h('tr', null, td(nameSpan(c.campaign || '(unnamed)'), 'sticky'),
            numTd('campaigns', c.campaign, 'suppressed', f.suppressed, 'int'),
            ...reasons.map((r) => (r in by ? numTd('campaigns', c.campaign, `suppressed_by_reason.${r}`, by[r], 'int') : td(h('span', { class: 'na', text: '—' }), 'n'))));
        });
        body.append(block('Suppression reasons', table('Suppressed contacts by reason',
          [['Campaign', 'sticky'], ['Suppressed', 'n'], ...reasons.map((r) => [humanize(r), 'n'])], rrows)));
      }
    }

    const channels = state.data.channels;
    if (channels && Array.isArray(channels.channels)) {
      const head = [['Channel', 'sticky'], ['Sent', 'n'], ['Delivered', 'n'], ['Bounced', 'n'], ['Opened', 'n'],
        ['Clicked', 'n'], ['Responded', 'n'], ['Converted', 'n'], ['Revenue', 'n'], ['Delivery', 'n', 'delivered ÷ sent'],
        ['Open rate', 'n', 'opened ÷ delivered'], ['Click rate', 'n', 'clicked ÷ delivered'], ['Conv. rate', 'n', 'converted ÷ contacted']];
      const rows = channels.channels.map((ch) => {
        const f = ch.funnel || {};
        const k = ch.channel;
        return h('tr', null, td(nameSpan(k || '(no channel)'), 'sticky'),
          ...['sent', 'delivered', 'bounced', 'opened', 'clicked', 'responded', 'converted'].map((x) => numTd('channels', k, x, f[x], 'int')),
          numTd('channels', k, 'revenue', f.revenue, 'money'),
          ...['delivery', 'open', 'click', 'conversion'].map((x) => numTd('channels', k, `rates.${x}`, f.rates && f.rates[x], 'pct')));
      });
      body.append(block(selected ? `Per channel — ${selected}` : 'Per channel',
        rows.length ? table('Channel funnels', head, rows) : empty('No channel activity in this range.')));
    }
  }

  function funnelRow(report, key, f, label, sub) {
    f = f || {};
    const ints = ['requested', 'suppressed', 'holdout', 'sent', 'delivered', 'bounced', 'opened', 'clicked', 'responded', 'converted', 'converted_target'];
    return h('tr', { class: sub ? 'sub-row' : null },
      td(label, 'sticky'),
      ...ints.map((x) => numTd(report, key, x, f[x], 'int')),
      numTd(report, key, 'revenue', f.revenue, 'money'),
      numTd(report, key, 'rates.conversion', f.rates && f.rates.conversion, 'pct'));
  }

  // ---------------------------------------------------------------- control

  const VERDICTS = {
    significant: 'significant',
    not_significant: 'not significant',
    too_small: 'too small to tell',
  };

  function renderControl(report, body, meta) {
    const rows = Array.isArray(report.campaigns) ? report.campaigns : [];
    computedMeta(meta, report, `${fmt('int', rows.length)} with a control group`);
    if (rows.length === 0) {
      body.append(empty('No campaign in this range has a holdout (control) group.'));
      return;
    }
    // What matters most comes first (uplift, interval, verdict), the group
    // sizes behind, so that a phone shows the verdict without scrolling far.
    const head = [['Campaign', 'sticky'], ['Conversion', null, 'target: bought what the campaign offered; any: any purchase'],
      ['Treated rate', 'n', 'conversion rate of the contacted members'], ['Control rate', 'n', 'conversion rate of the held-out members'],
      ['Uplift (pp)', 'n', 'treated rate − control rate, percentage points'], ['95 % CI (pp)', 'n'], ['Verdict'], ['p-value', 'n'],
      ['Treated n', 'n', 'contacted members'], ['Treated conv.', 'n'], ['Control n', 'n', 'held-out members'], ['Control conv.', 'n']];
    const trs = [];
    for (const c of rows) {
      const k = c.campaign;
      const goals = [['target', 'target'], ['any', 'any']].filter(([g]) => c[g]);
      goals.forEach(([g, label], i) => {
        const u = c[g];
        const small = u.verdict === 'too_small';
        const ci = Array.isArray(u.ci95) ? u.ci95 : [];
        const tone = u.verdict === 'significant' ? (u.uplift >= 0 ? 'good' : 'bad') : u.verdict === 'too_small' ? 'muted' : 'neutral';
        const cells = [];
        if (i === 0) cells.push(h('th', { scope: 'row', class: 'sticky', rowspan: String(goals.length) }, nameSpan(k || '(unnamed)')));
        cells.push(td(label, 'goal'),
          numTd('control', k, `${g}.treated_rate`, u.treated_rate, 'pct'),
          numTd('control', k, `${g}.control_rate`, u.control_rate, 'pct'),
          h('td', { class: `n uplift uplift-${tone}` }, fig('control', k, `${g}.uplift`, u.uplift, 'pp')),
          small || ci.length !== 2 ? h('td', { class: 'n', title: 'not computed for groups this small' }, h('span', { class: 'na', text: '—' }))
            : h('td', { class: 'n nowrap' }, fig('control', k, `${g}.ci95.0`, ci[0], 'pp'), ' … ', fig('control', k, `${g}.ci95.1`, ci[1], 'pp')),
          td(badge(VERDICTS[u.verdict] || humanize(u.verdict || 'unknown'), tone)),
          small ? h('td', { class: 'n' }, h('span', { class: 'na', text: '—' })) : numTd('control', k, `${g}.p_value`, u.p_value, 'p'),
          numTd('control', k, `${g}.treated`, u.treated, 'int'),
          numTd('control', k, `${g}.treated_converted`, u.treated_converted, 'int'),
          numTd('control', k, `${g}.control`, u.control, 'int'),
          numTd('control', k, `${g}.control_converted`, u.control_converted, 'int'));
        trs.push(h('tr', { class: i === 0 ? 'group-start' : null }, cells));
      });
    }
    body.append(
      table('Uplift against the control group', head, trs, null, 'control-table'),
      h('p', { class: 'hint', text: '“Target” counts conversions to what the campaign offered, “any” every purchase. Treated: members contacted; control: members held out. Uplift is the treated conversion rate minus the control rate, in percentage points, with a 95 % interval; the verdict comes from a two-sided two-proportion z-test at 5 %. “Too small to tell” means a group has fewer than 30 members or too few conversions for the test.' }));
  }

  // ---------------------------------------------------------------- attribution

  function renderAttribution(report, body, meta) {
    const model = (report.query && report.query.model) || $('#model').value;
    const section = document.getElementById('attribution');
    section.dataset.model = model;
    const halfLife = typeof report.half_life_days === 'number' ? ` · time-decay half-life ${fmt('dec2', report.half_life_days)} days` : '';
    computedMeta(meta, report, `Model: ${MODEL_NAMES[model] || model}${halfLife}`);

    const channels = Array.isArray(report.channels) ? report.channels : [];
    const rows = Array.isArray(report.rows) ? report.rows.slice() : [];
    const grid = h('div', { class: 'split' });
    body.append(grid);
    if (channels.length === 0) {
      destroyChart('chart-attribution');
      grid.append(empty('No conversions in this range.'));
    } else {
      const chart = barChart('chart-attribution', {
        keys: channels.map((c) => c.channel),
        labels: channels.map((c) => (c.channel === '(unattributed)' ? 'unattributed' : c.channel || '(no channel)')),
        values: channels.map((c) => c.conversions),
        title: `Conversions by channel — ${MODEL_NAMES[model] || model}`,
        valueAxis: 'Conversions (credited)',
        categoryAxis: 'Channel',
        kind: 'dec2',
        color: COLORS.teal,
        datasetLabel: 'Conversions',
      });
      grid.append(h('div', { class: 'chart-card' }, chart.box));
      chart.create();
    }

    // Unattributed conversions last.
    rows.sort((a, b) => (a.campaign === '' ? 1 : 0) - (b.campaign === '' ? 1 : 0));
    const trs = rows.map((r) => {
      const k = `${r.campaign}|${r.channel}`;
      const un = r.campaign === '';
      return h('tr', { class: un ? 'unattributed' : null },
        td(un ? h('em', { text: 'unattributed' }) : nameSpan(r.campaign), 'sticky'),
        td(un ? h('span', { class: 'na', text: '—' }) : r.channel),
        numTd('attribution', k, 'conversions', r.conversions, 'dec2'),
        numTd('attribution', k, 'revenue', r.revenue, 'money'));
    });
    const total = report.total || {};
    const foot = h('tr', null, h('th', { scope: 'row', class: 'sticky', colspan: '2' }, 'Total'),
      numTd('attribution', 'total', 'conversions', total.conversions, 'dec2'),
      numTd('attribution', 'total', 'revenue', total.revenue, 'money'));
    grid.append(h('div', { class: 'block' },
      trs.length ? table('Attributed conversions', [['Campaign', 'sticky'], ['Channel'], ['Conversions', 'n', 'credited, may be fractional'], ['Revenue', 'n']], trs, foot, 'attribution-table')
        : empty('Nothing attributed in this range.'),
      h('p', { class: 'hint', text: 'Each conversion\u2019s credit is shared among the contacts before it according to the model, so counts can be fractional. “Unattributed” conversions had no credited contact.' })));
  }

  // ---------------------------------------------------------------- quality

  function orderedEntries(obj, order) {
    if (!obj || typeof obj !== 'object') return [];
    const keys = Object.keys(obj);
    keys.sort((a, b) => {
      const ia = order.indexOf(a), ib = order.indexOf(b);
      return (ia < 0 ? 1e9 : ia) - (ib < 0 ? 1e9 : ib) || a.localeCompare(b);
    });
    return keys.map((k) => [k, obj[k]]);
  }

  function stat(label, node, cls) {
    return h('div', { class: 'stat' + (cls ? ' ' + cls : '') }, h('div', { class: 'stat-label', text: label }), h('div', { class: 'stat-value' }, node));
  }

  function renderQuality(report, body, meta) {
    const section = document.getElementById('quality');
    section.dataset.computedMs = String(report.computed_ms);
    const ago = typeof report.age_s === 'number' ? ` (${humanDuration(report.age_s)} ago)` : '';
    meta.replaceChildren(h('span', null, 'Computed at ', h('time', { datetime: report.computed_at || '', text: fmtDateTime(report.computed_at) }), ago));

    const dead = report.dead_letters || {};
    const merges = report.merges || {};
    const conflicts = report.conflicts && typeof report.conflicts === 'object' ? report.conflicts : {};
    const conflictTotal = Object.values(conflicts).reduce((s, v) => s + (Number(v) || 0), 0);
    body.append(h('div', { class: 'stats' },
      stat('Profiles', fig('quality', 'report', 'profiles', report.profiles, 'int')),
      stat('Merged', fig('quality', 'merges', 'merged', merges.merged, 'int')),
      stat('Split', fig('quality', 'merges', 'split', merges.split, 'int')),
      stat('Identity conflicts', h('span', { text: fmt('int', conflictTotal) }), conflictTotal > 0 ? 'warn' : null),
      stat('Dead letters', fig('quality', 'dead_letters', 'total', dead.total, 'int'), dead.total > 0 ? 'warn' : null)));

    // Completeness: chart of shares (in percent) + table.
    const comp = orderedEntries(report.completeness, ATTRIBUTE_ORDER);
    const grid = h('div', { class: 'split' });
    body.append(grid);
    if (comp.length) {
      // datasets[0].data holds the shares as percent numbers (share × 100).
      const chart = barChart('chart-quality', {
        keys: comp.map(([k]) => k),
        labels: comp.map(([k]) => humanize(k)),
        values: comp.map(([, v]) => (v && typeof v.share === 'number' ? v.share * 100 : 0)),
        title: 'Completeness of key attributes',
        valueAxis: 'Profiles with a value (%)',
        categoryAxis: 'Attribute',
        horizontal: true,
        kind: 'pct',
        max: 100,
        color: COLORS.violet,
        datasetLabel: 'Profiles with a value',
      });
      grid.append(h('div', { class: 'chart-card' }, chart.box));
      chart.create();
      grid.append(block('Completeness', table('Completeness', [['Attribute', 'sticky'], ['Profiles', 'n'], ['Share', 'n']],
        comp.map(([k, v]) => h('tr', null, td(humanize(k), 'sticky'),
          numTd('quality', `completeness|${k}`, 'profiles', v && v.profiles, 'int'),
          numTd('quality', `completeness|${k}`, 'share', v && v.share, 'pct'))))));
    } else {
      destroyChart('chart-quality');
      grid.append(empty('No profiles yet.'));
    }

    const grid2 = h('div', { class: 'grid3' });
    body.append(grid2);
    const validity = orderedEntries(report.validity, ATTRIBUTE_ORDER);
    grid2.append(block('Validity per channel', validity.length ? table('Validity per channel', [['Channel', 'sticky'], ['With value', 'n'], ['Invalid', 'n'], ['Valid', 'n']],
      validity.map(([k, v]) => h('tr', null, td(k, 'sticky'),
        numTd('quality', `validity|${k}`, 'with_value', v && v.with_value, 'int'),
        numTd('quality', `validity|${k}`, 'invalid', v && v.invalid, 'int'),
        numTd('quality', `validity|${k}`, 'valid_share', v && v.valid_share, 'pct')))) : empty('No contact data.')));

    const consent = orderedEntries(report.consent_marketing, ['email', 'phone', 'sms', 'post']);
    grid2.append(block('Marketing consent', consent.length ? table('Marketing consent per channel', [['Channel', 'sticky'], ['Granted', 'n'], ['Of profiles', 'n']],
      consent.map(([k, v]) => h('tr', null, td(k, 'sticky'),
        numTd('quality', `consent_marketing|${k}`, 'granted', v && v.granted, 'int'),
        numTd('quality', `consent_marketing|${k}`, 'share', v && v.share, 'pct')))) : empty('No consent recorded.')));

    const conflictRows = Object.entries(conflicts).sort((a, b) => b[1] - a[1]);
    grid2.append(block('Identity conflicts', conflictRows.length ? table('Identity conflicts per attribute', [['Attribute', 'sticky'], ['Conflicts', 'n']],
      conflictRows.map(([k, v]) => h('tr', null, td(humanize(k), 'sticky'), numTd('quality', 'conflicts', k, v, 'int')))) : empty('No conflicts.')));

    const steps = Array.isArray(dead.by_step) ? dead.by_step : [];
    body.append(block('Dead letters by step', steps.length ? table('Dead letters by pipeline and step', [['Pipeline', 'sticky'], ['Step'], ['Error class'], ['Count', 'n']],
      steps.map((d) => h('tr', null, td(d.pipeline, 'sticky'), td(h('code', { text: d.step })), td(humanize(d.error_class || '')),
        numTd('quality', `dead_letters|${d.pipeline}|${d.step}|${d.error_class}`, 'count', d.count, 'int')))) : empty('No dead letters.')));

    const sources = Array.isArray(report.sources) ? report.sources : [];
    body.append(block('Freshness per source', sources.length ? table('Freshness per source', [['Source', 'sticky'], ['Pipeline'], ['Records', 'n'],
      ['Last record'], ['Last applied'], ['Age (s)', 'n', 'time since the last record was applied'], ['Lag (s)', 'n', 'record time to applied time']],
    sources.map((s) => {
      const k = `sources|${s.source}|${s.pipeline}`;
      const stale = typeof s.age_s === 'number' && s.age_s > 86400;
      return h('tr', { class: stale ? 'stale' : null }, td(s.source, 'sticky'), td(s.pipeline), numTd('quality', k, 'records', s.records, 'int'),
        td(fmtDateTime(s.last_record), 'nowrap'), td(fmtDateTime(s.last_applied), 'nowrap'),
        durationTd(k, 'age_s', s.age_s), durationTd(k, 'lag_s', s.lag_s));
    })) : empty('No source has delivered records yet.')));
  }

  /** Seconds as a figure, with a readable duration beside it when long. */
  function durationTd(key, field, seconds) {
    const long = typeof seconds === 'number' && Math.abs(seconds) >= 120;
    return h('td', { class: 'n', title: humanDuration(seconds) }, fig('quality', key, field, seconds, 'sec'),
      long ? h('span', { class: 'unit', text: ` (${humanDuration(seconds)})` }) : null);
  }

  // ---------------------------------------------------------------- hub

  function renderHub(report, body, meta) {
    const status = report.status && typeof report.status === 'object' ? report.status : {};
    const journal = status.journal || {};
    const applier = status.applier || {};
    const store = status.store || {};
    const outbox = report.outbox && typeof report.outbox === 'object' ? report.outbox : {};
    meta.replaceChildren(status.ready ? badge('ready', 'good') : badge('not ready', 'bad'),
      typeof report.computed_ms === 'number' ? ` · computed ${fmtTime(report.computed_ms)}` : '');

    body.append(h('div', { class: 'stats stats-4' },
      stat('Journal durable seq', fig('hub', 'journal', 'durable_seq', journal.durable_seq, 'int')),
      stat('Journal size (bytes)', fig('hub', 'journal', 'bytes', journal.bytes, 'int')),
      stat('Applied seq', fig('hub', 'applier', 'applied_seq', applier.applied_seq, 'int')),
      stat('Applier lag (entries)', fig('hub', 'applier', 'lag_entries', applier.lag_entries, 'int'), applier.lag_entries > 0 ? 'warn' : null),
      stat('Profiles', fig('hub', 'store', 'profiles', store.profiles, 'int')),
      stat('Records', fig('hub', 'store', 'records', store.records, 'int')),
      stat('Dead letters', fig('hub', 'store', 'dead_letters', store.dead_letters, 'int'), store.dead_letters > 0 ? 'warn' : null),
      stat('Outbox (entries)', fig('hub', 'store', 'outbox', store.outbox, 'int'), store.outbox > 0 ? 'warn' : null)));
    if (journal.failed) body.append(h('p', { class: 'error', text: `Journal failure: ${journal.failed}` }));
    if (applier.stalled) body.append(h('p', { class: 'error', text: `Applier stalled for ${fmt('int', applier.stalled.ms)} ms` }));

    const pipelines = Array.isArray(status.pipelines) ? status.pipelines : [];
    body.append(block('Pipelines', pipelines.length ? table('Pipelines', [['Pipeline', 'sticky'], ['Source'], ['State'], ['Restarts', 'n'], ['Steps'], ['Store']],
      pipelines.map((p) => {
        const src = p.source || {};
        const steps = Array.isArray(p.steps) ? p.steps : [];
        return h('tr', null, td(nameSpan(p.name), 'sticky'), td(h('code', { text: src.plugin || '' })),
          td([src.running ? badge('running', 'good') : badge('stopped', 'bad'), src.error ? h('div', { class: 'cell-note', text: src.error }) : null,
            src.busy ? h('div', { class: 'cell-note', text: `busy in ${src.busy.call} for ${fmt('int', src.busy.ms)} ms` }) : null]),
          numTd('hub', `pipelines|${p.name}`, 'source.restarts', src.restarts, 'int'),
          td(steps.length ? h('span', { class: 'steps' }, steps.map((s) => h('code', { class: 'step', text: s }))) : h('span', { class: 'na', text: 'none' })),
          td(p.store ? 'yes' : 'no'));
      })) : empty('No pipeline is running.')));

    const sinkRows = [];
    const seenOutbox = new Set();
    for (const p of pipelines) {
      for (const s of Array.isArray(p.sinks) ? p.sinks : []) {
        const ob = `${p.name}.${s.name}`;
        if (ob in outbox) seenOutbox.add(ob);
        const k = `pipelines|${p.name}|sinks|${s.name}`;
        sinkRows.push(h('tr', { class: s.failed_writes > 0 || s.last_error ? 'stale' : null }, td(p.name, 'sticky'), td(nameSpan(s.name)),
          td(h('code', { text: s.plugin || '' })),
          numTd('hub', k, 'restarts', s.restarts, 'int'),
          numTd('hub', k, 'failed_writes', s.failed_writes, 'int'),
          ob in outbox ? numTd('hub', 'outbox', ob, outbox[ob], 'int') : td(h('span', { class: 'na', text: '—' }), 'n'),
          td(s.last_error ? h('div', { class: 'cell-note', text: s.last_error }) : h('span', { class: 'na', text: '—' }))));
      }
    }
    for (const [ob, n] of Object.entries(outbox)) {
      if (seenOutbox.has(ob)) continue;
      sinkRows.push(h('tr', null, td(h('code', { text: ob }), 'sticky'), td(h('span', { class: 'na', text: '(not running)' })), td(''),
        td('', 'n'), td('', 'n'), numTd('hub', 'outbox', ob, n, 'int'), td('')));
    }
    body.append(block('Sinks and outbox backlog', sinkRows.length ? table('Sinks', [['Pipeline', 'sticky'], ['Sink'], ['Plugin'], ['Restarts', 'n'],
      ['Failed writes', 'n'], ['Outbox backlog', 'n'], ['Last error']], sinkRows) : empty('No sinks configured.')));

    // Metrics: an opaque map name -> {labels -> number}; a few are shown.
    const metrics = report.metrics && typeof report.metrics === 'object' ? report.metrics : {};
    const mRows = [];
    for (const [name, label] of METRICS_SHOWN) {
      const series = metrics[name];
      if (!series || typeof series !== 'object') continue;
      for (const [labels, v] of Object.entries(series)) {
        const key = `metrics|${name}`;
        const labelCell = td(labels ? h('code', { class: 'labels', text: labels.replace(/"/g, '') }) : h('span', { class: 'na', text: '(none)' }));
        if (typeof v === 'number') {
          mRows.push(h('tr', null, td(h('span', { title: name, text: label }), 'sticky'), numTd('hub', key, labels, v, 'metric'), labelCell));
        } else if (v && typeof v === 'object' && (typeof v.count === 'number' || typeof v.sum === 'number')) {
          mRows.push(h('tr', null, td(h('span', { title: name, text: label }), 'sticky'),
            h('td', { class: 'n nowrap' }, 'count ', fig('hub', key, `${labels}.count`, v.count, 'metric'), ' · sum ', fig('hub', key, `${labels}.sum`, v.sum, 'metric')),
            labelCell));
        }
      }
    }
    body.append(block('Metrics', mRows.length ? table('Selected metrics', [['Metric', 'sticky'], ['Value', 'n'], ['Labels']], mRows, null, 'metrics-table')
      : empty('No metrics reported.')));
  }

  // ---------------------------------------------------------------- session

  function showLogin(message) {
    $('#dashboard').hidden = true;
    $('#logout').hidden = true;
    $('#login-view').hidden = false;
    const err = $('#login-error');
    err.textContent = message || '';
    err.hidden = !message;
    $('#token').value = '';
    $('#token').focus();
  }

  function clearDashboard() {
    state.session += 1;  // results of requests still in flight are dropped
    state.pending.clear();
    state.data = {};
    state.errors = {};
    destroyCharts();
    for (const name of Object.keys(SECTIONS)) {
      const { body, meta, error, section } = sectionParts(name);
      body.replaceChildren();
      meta.replaceChildren();
      error.textContent = '';
      error.hidden = true;
      section.removeAttribute('aria-busy');
      delete section.dataset.computedMs;
      delete section.dataset.model;
    }
    $('#campaign').replaceChildren(h('option', { value: '', text: 'All campaigns' }));
    delete document.body.dataset.ready;
  }

  function logout(message) {
    sessionStorage.removeItem(TOKEN_KEY);
    state.token = null;
    clearDashboard();
    showLogin(message);
  }

  function showDashboard() {
    $('#login-view').hidden = true;
    $('#login-error').hidden = true;
    $('#dashboard').hidden = false;
    $('#logout').hidden = false;
    loadAll();
  }

  async function onLogin(ev) {
    ev.preventDefault();
    const token = $('#token').value.trim();
    const err = $('#login-error');
    const button = $('#login');
    if (!token || !/^[\x21-\x7e]+$/.test(token)) {
      err.textContent = token ? 'A token has only printable ASCII characters and no spaces.' : 'Enter the admin token.';
      err.hidden = false;
      return;
    }
    button.disabled = true;
    err.hidden = true;
    try {
      await api('campaigns', token, params('campaigns'));
      sessionStorage.setItem(TOKEN_KEY, token);
      state.token = token;
      $('#token').value = '';
      showDashboard();
    } catch (e) {
      err.textContent = e.status === 401
        ? 'That token was not accepted (HTTP 401). Check it and try again.'
        : `Could not sign in: ${e.message}`;
      err.hidden = false;
      $('#token').select();
    } finally {
      button.disabled = false;
    }
  }

  function validRange() {
    const from = $('#from').value, to = $('#to').value;
    const err = $('#controls-error');
    const bad = from && to && from > to;
    err.textContent = bad ? '“From” must not be after “To”.' : '';
    err.hidden = !bad;
    return !bad;
  }

  function init() {
    if (typeof Chart !== 'undefined') {
      Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
      Chart.defaults.color = COLORS.text;
    }
    const lang = (navigator.language || 'en').toLowerCase();
    $('#locale').value = lang.startsWith('de') ? 'de' : 'en';
    $('#login-form').addEventListener('submit', onLogin);
    $('#logout').addEventListener('click', () => logout());
    $('#controls').addEventListener('submit', (ev) => {
      ev.preventDefault();
      if (validRange()) loadAll();
    });
    for (const id of ['#from', '#to']) $(id).addEventListener('change', () => {
      if (validRange()) load(['campaigns', 'control', 'attribution']);
    });
    $('#campaign').addEventListener('change', () => load(['campaigns', 'control', 'attribution']));
    $('#model').addEventListener('change', () => load(['attribution']));
    $('#locale').addEventListener('change', () => {
      document.documentElement.lang = $('#locale').value;
      renderAll();
    });
    document.documentElement.lang = $('#locale').value;

    const token = sessionStorage.getItem(TOKEN_KEY);
    if (token) {
      state.token = token;
      showDashboard();
    } else {
      showLogin();
    }
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
  else init();
})();
