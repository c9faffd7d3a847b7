#!/usr/bin/env node
// Headless-Chromium check of the hub's dashboard (core/admin/dashboard/)
// against the reporting API it reads. See README.md beside this file.
//
//   node tests/browser/dashboard_check.mjs --url http://127.0.0.1:PORT --token TOKEN --out DIR
//        [--chromium /usr/bin/chromium] [--timeout 15000]
//
// Stops at the first mismatch with a message on stderr and exit code 1;
// otherwise prints one JSON summary line on stdout and exits 0. Exit code 2
// means bad usage.
import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';

const MODELS = ['first_touch', 'last_touch', 'linear', 'position_based', 'time_decay', 'treatment'];
const LOCALE_TAGS = { en: 'en-US', de: 'de-DE' };
const REPORTS = ['campaigns', 'channels', 'attribution', 'control', 'quality', 'pipelines'];
// data-report of the page -> the API report it shows.
const SOURCE = { campaigns: 'campaigns', channels: 'channels', control: 'control', attribution: 'attribution', quality: 'quality', hub: 'pipelines' };
const CAMPAIGN_FIELDS = ['requested', 'suppressed', 'holdout', 'sent', 'delivered', 'bounced', 'opened', 'clicked', 'responded',
  'converted', 'converted_target', 'revenue', 'rates.conversion'];
const UPLIFT_FIELDS = ['treated', 'treated_rate', 'control', 'control_rate', 'uplift'];

class CheckError extends Error {}
const fail = (msg) => { throw new CheckError(msg); };
const log = (msg) => process.stderr.write(`dashboard_check: ${msg}\n`);

// ------------------------------------------------------------------ arguments

function parseArgs(argv) {
  const opts = { chromium: process.env.CHROMIUM || '/usr/bin/chromium', timeout: 15000 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const m = a.match(/^--(url|token|out|chromium|timeout)(?:=(.*))?$/);
    if (!m) usage(`unknown argument ${a}`);
    const v = m[2] !== undefined ? m[2] : argv[++i];
    if (v === undefined) usage(`${a} needs a value`);
    opts[m[1]] = v;
  }
  for (const k of ['url', 'token', 'out']) if (!opts[k]) usage(`--${k} is required`);
  opts.url = opts.url.replace(/\/+$/, '');
  opts.timeout = Number(opts.timeout);
  if (!(opts.timeout > 0)) usage('--timeout must be a number of milliseconds');
  return opts;
}

function usage(msg) {
  process.stderr.write(`dashboard_check: ${msg}\nusage: node dashboard_check.mjs --url http://127.0.0.1:PORT --token TOKEN --out DIR [--chromium /usr/bin/chromium] [--timeout MS]\n`);
  process.exit(2);
}

// ------------------------------------------------------------------ API

async function apiGet(opts, report, params = {}, token = opts.token) {
  const q = new URLSearchParams(Object.entries(params).filter(([, v]) => v));
  const url = `${opts.url}/v1/reports/${report}${q.toString() ? '?' + q : ''}`;
  const headers = token === null ? {} : { Authorization: `Bearer ${token}` };
  let res;
  try {
    res = await getting(url, { headers }, opts);
  } catch (e) {
    fail(`GET ${url}: ${e.message}`);
  }
  const text = await res.text();
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    fail(`GET ${url}: HTTP ${res.status}, body is not JSON: ${text.slice(0, 200)}`);
  }
  return { status: res.status, body };
}

/**
 * A GET, tried again (twice at most) when the connection fails rather than
 * the server answering: Node reuses an idle keep-alive connection that the
 * hub may be closing at that moment (its keep-alive timeout is 2 s), and a
 * browser would retry such a GET too. A timeout is not retried.
 */
async function getting(url, init, opts) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fetch(url, { ...init, signal: AbortSignal.timeout(opts.timeout) });
    } catch (e) {
      if (attempt >= 3 || e.name === 'TimeoutError' || e.name === 'AbortError') throw e;
    }
  }
}

async function fetchReport(opts, report, params) {
  const { status, body } = await apiGet(opts, report, params);
  if (status !== 200) fail(`GET /v1/reports/${report}: expected HTTP 200, got ${status} ${JSON.stringify(body).slice(0, 200)}`);
  if (body.report !== report) fail(`GET /v1/reports/${report}: "report" is ${JSON.stringify(body.report)}`);
  return body;
}

async function fetchAll(opts, controls) {
  const params = {
    campaigns: { from: controls.from, to: controls.to },
    channels: { from: controls.from, to: controls.to, campaign: controls.campaign },
    attribution: { from: controls.from, to: controls.to, campaign: controls.campaign, model: controls.model },
    control: { from: controls.from, to: controls.to, campaign: controls.campaign },
    quality: {},
    pipelines: {},
  };
  const out = {};
  await Promise.all(REPORTS.map(async (r) => { out[r] = await fetchReport(opts, r, params[r]); }));
  return out;
}

// ------------------------------------------------------------------ keys

const own = (o, k) => o !== null && typeof o === 'object' && Object.prototype.hasOwnProperty.call(o, k);

/** A field path ("rates.conversion", "any.ci95.0", a metric's label set) in obj. */
function resolve(obj, field) {
  if (own(obj, field)) return obj[field];
  for (let i = field.indexOf('.'); i >= 0; i = field.indexOf('.', i + 1)) {
    const head = field.slice(0, i);
    if (own(obj, head)) {
      const v = resolve(obj[head], field.slice(i + 1));
      if (v !== undefined) return v;
    }
  }
  return undefined;
}

/** data-report -> (data-key -> the API object its fields are read from). */
function buildIndex(api) {
  const idx = Object.fromEntries(Object.keys(SOURCE).map((r) => [r, new Map()]));
  const put = (report, key, obj) => {
    if (idx[report].has(key)) fail(`the ${SOURCE[report]} report has two entries for key ${JSON.stringify(key)}`);
    idx[report].set(key, obj);
  };
  for (const c of api.campaigns.campaigns || []) {
    put('campaigns', c.campaign, c.funnel);
    for (const ch of c.channels || []) put('campaigns', `${c.campaign}|${ch.channel}`, ch.funnel);
  }
  for (const ch of api.channels.channels || []) put('channels', ch.channel, ch.funnel);
  for (const c of api.control.campaigns || []) put('control', c.campaign, c);
  for (const r of api.attribution.rows || []) put('attribution', `${r.campaign}|${r.channel}`, r);
  put('attribution', 'total', api.attribution.total);
  const q = api.quality;
  put('quality', 'report', q);
  for (const group of ['completeness', 'validity', 'consent_marketing'])
    for (const [k, v] of Object.entries(q[group] || {})) put('quality', `${group}|${k}`, v);
  put('quality', 'merges', q.merges || {});
  put('quality', 'conflicts', q.conflicts || {});
  put('quality', 'dead_letters', q.dead_letters || {});
  for (const d of (q.dead_letters && q.dead_letters.by_step) || []) put('quality', `dead_letters|${d.pipeline}|${d.step}|${d.error_class}`, d);
  for (const s of q.sources || []) put('quality', `sources|${s.source}|${s.pipeline}`, s);
  const p = api.pipelines;
  const st = p.status || {};
  for (const k of ['journal', 'applier', 'store']) put('hub', k, st[k] || {});
  put('hub', 'outbox', p.outbox || {});
  for (const pl of st.pipelines || []) {
    put('hub', `pipelines|${pl.name}`, pl);
    for (const s of pl.sinks || []) put('hub', `pipelines|${pl.name}|sinks|${s.name}`, s);
  }
  for (const [name, series] of Object.entries(p.metrics || {})) put('hub', `metrics|${name}`, series);
  return idx;
}

// ------------------------------------------------------------------ formats

/** How the page promises to write a figure, decided from where it comes from. */
function kindOf(report, key, field) {
  switch (report) {
    case 'campaigns':
    case 'channels':
      return field.startsWith('rates.') ? 'pct' : field === 'revenue' ? 'money' : 'int';
    case 'control':
      if (/_rate$/.test(field)) return 'pct';
      if (/\.uplift$/.test(field) || /\.ci95\.[01]$/.test(field)) return 'pp';
      if (/\.p_value$/.test(field)) return 'p';
      if (/\.z$/.test(field)) return 'dec2';
      return 'int';
    case 'attribution':
      return field === 'revenue' ? 'money' : 'dec2';
    case 'quality':
      if (/share$/.test(field)) return 'pct';
      if (/_s$/.test(field)) return 'sec';
      return 'int';
    case 'hub':
      return key.startsWith('metrics|') ? 'metric' : 'int';
    default:
      return fail(`unknown data-report ${JSON.stringify(report)}`);
  }
}

function formatter(tag) {
  const nf = (o) => new Intl.NumberFormat(tag, o);
  const f3 = nf({ minimumFractionDigits: 3, maximumFractionDigits: 3 });
  const k = {
    int: nf({ maximumFractionDigits: 0 }),
    dec2: nf({ maximumFractionDigits: 2 }),
    money: nf({ minimumFractionDigits: 2, maximumFractionDigits: 2 }),
    pct: nf({ style: 'percent', minimumFractionDigits: 1, maximumFractionDigits: 1 }),
    pp: nf({ minimumFractionDigits: 1, maximumFractionDigits: 1, signDisplay: 'exceptZero' }),
    sec: nf({ minimumFractionDigits: 1, maximumFractionDigits: 1 }),
    metric: nf({ maximumFractionDigits: 3 }),
  };
  return (kind, v) => {
    if (kind === 'pp') return k.pp.format(v * 100);
    if (kind === 'p') return v < 0.001 ? `< ${f3.format(0.001)}` : f3.format(v);
    return k[kind].format(v);
  };
}

const norm = (s) => String(s).replace(/[\s\u00a0\u202f]+/g, ' ').trim();
const close = (a, b) => a === b || Math.abs(a - b) <= 1e-9 * Math.max(Math.abs(a), Math.abs(b));
const where = (e) => `[data-report=${e.report}][data-key=${JSON.stringify(e.key)}][data-field=${JSON.stringify(e.field)}]`;

// ------------------------------------------------------------------ page

async function figures(page, report) {
  return page.$$eval(report ? `[data-report="${report}"]` : '[data-report]', (els) => els.map((e) => ({
    report: e.dataset.report, key: e.dataset.key, field: e.dataset.field, value: e.dataset.value, text: e.textContent,
  })));
}

/** Every figure on the page (or of one data-report) against the API. */
function compareFigures(figs, api, tag, what) {
  const idx = buildIndex(api);
  const format = formatter(tag);
  for (const e of figs) {
    if (e.key === undefined || e.field === undefined || e.value === undefined) fail(`${what}: a figure lacks data-key, data-field or data-value: ${JSON.stringify(e)}`);
    if (!idx[e.report]) fail(`${what}: unknown data-report ${JSON.stringify(e.report)} on ${where(e)}`);
    if (!idx[e.report].has(e.key)) fail(`${what}: ${where(e)}: no such key in the ${SOURCE[e.report]} report`);
    const want = resolve(idx[e.report].get(e.key), e.field);
    if (typeof want !== 'number') fail(`${what}: ${where(e)}: the API has no number there (${JSON.stringify(want)})`);
    const got = Number(e.value);
    if (e.value.trim() === '' || !Number.isFinite(got)) fail(`${what}: ${where(e)}: data-value ${JSON.stringify(e.value)} is not a number`);
    // A running hub's counters (its metrics, the journal) only grow: read
    // after the page, the API may be ahead of it, never behind.
    const live = e.report === 'hub' && (e.key.startsWith('metrics|') || e.key === 'journal');
    if (live ? !(got >= 0 && got <= want) : !close(got, want))
      fail(`${what}: ${where(e)}: data-value ${e.value}, the API says ${want}${live ? ' (a counter read later must not be smaller)' : ''}`);
    const text = format(kindOf(e.report, e.key, e.field), live ? got : want);
    if (norm(e.text) !== norm(text)) fail(`${what}: ${where(e)}: shows ${JSON.stringify(e.text)}, expected ${JSON.stringify(text)} (${tag})`);
  }
}

/** The figures the page must show at least, with the default filters. */
function requireCoverage(figs, api, campaignFilter) {
  const have = new Set(figs.map((e) => `${e.report}\u0000${e.key}\u0000${e.field}`));
  const need = (report, key, field, why) => {
    if (!have.has(`${report}\u0000${key}\u0000${field}`)) fail(`coverage: missing ${where({ report, key, field })} (${why})`);
  };
  for (const c of api.campaigns.campaigns || []) {
    if (campaignFilter && c.campaign !== campaignFilter) continue;
    for (const f of CAMPAIGN_FIELDS) need('campaigns', c.campaign, f, `campaign ${JSON.stringify(c.campaign)} in the campaigns table`);
    for (const r of Object.keys((c.funnel && c.funnel.suppressed_by_reason) || {}))
      need('campaigns', c.campaign, `suppressed_by_reason.${r}`, 'suppression reason');
    for (const ch of c.channels || []) need('campaigns', `${c.campaign}|${ch.channel}`, 'requested', 'channel row of a campaign');
  }
  for (const ch of api.channels.channels || []) need('channels', ch.channel, 'sent', 'per-channel table');
  for (const c of api.control.campaigns || []) {
    for (const g of ['target', 'any']) {
      if (!c[g]) continue;
      for (const f of UPLIFT_FIELDS) need('control', c.campaign, `${g}.${f}`, 'uplift table');
      if (c[g].verdict !== 'too_small') for (const f of ['ci95.0', 'ci95.1', 'p_value']) need('control', c.campaign, `${g}.${f}`, 'uplift table');
    }
  }
  requireAttributionCoverage(have, api.attribution, need);
  const q = api.quality;
  for (const k of Object.keys(q.completeness || {})) need('quality', `completeness|${k}`, 'share', 'completeness table');
  for (const k of Object.keys(q.validity || {})) need('quality', `validity|${k}`, 'valid_share', 'validity table');
  for (const k of Object.keys(q.consent_marketing || {})) need('quality', `consent_marketing|${k}`, 'share', 'consent table');
  for (const k of Object.keys(q.merges || {})) need('quality', 'merges', k, 'merges');
  for (const k of Object.keys(q.conflicts || {})) need('quality', 'conflicts', k, 'conflicts');
  need('quality', 'dead_letters', 'total', 'dead letters');
  for (const d of (q.dead_letters && q.dead_letters.by_step) || []) need('quality', `dead_letters|${d.pipeline}|${d.step}|${d.error_class}`, 'count', 'dead letters by step');
  for (const s of q.sources || []) for (const f of ['records', 'age_s', 'lag_s']) need('quality', `sources|${s.source}|${s.pipeline}`, f, 'freshness table');
  const st = api.pipelines.status || {};
  need('hub', 'journal', 'durable_seq', 'journal');
  need('hub', 'applier', 'lag_entries', 'applier lag');
  for (const f of ['profiles', 'records', 'dead_letters', 'outbox']) need('hub', 'store', f, 'store counts');
  for (const p of st.pipelines || []) {
    need('hub', `pipelines|${p.name}`, 'source.restarts', 'pipelines table');
    for (const s of p.sinks || []) for (const f of ['restarts', 'failed_writes']) need('hub', `pipelines|${p.name}|sinks|${s.name}`, f, 'sinks table');
  }
  for (const k of Object.keys(api.pipelines.outbox || {})) need('hub', 'outbox', k, 'outbox backlog');
}

function requireAttributionCoverage(have, attribution, need) {
  for (const r of attribution.rows || []) {
    need('attribution', `${r.campaign}|${r.channel}`, 'conversions', 'attribution row');
    need('attribution', `${r.campaign}|${r.channel}`, 'revenue', 'attribution row');
  }
  need('attribution', 'total', 'conversions', 'attribution total row');
  need('attribution', 'total', 'revenue', 'attribution total row');
}

async function chartState(page) {
  return page.evaluate(() => {
    const out = {};
    for (const id of ['chart-funnel', 'chart-attribution', 'chart-quality']) {
      const canvas = document.getElementById(id);
      const chart = canvas && typeof Chart !== 'undefined' ? Chart.getChart(canvas) : undefined;
      if (!chart) { out[id] = null; continue; }
      const o = chart.options;
      const scales = {};
      for (const [k, s] of Object.entries(o.scales || {})) scales[k] = s.title && s.title.display ? String(s.title.text || '') : '';
      out[id] = {
        labels: chart.data.labels.map(String),
        data: chart.data.datasets[0] ? Array.from(chart.data.datasets[0].data, Number) : [],
        keys: canvas.dataset.keys ? JSON.parse(canvas.dataset.keys) : null,
        campaign: canvas.dataset.campaign,
        title: o.plugins && o.plugins.title && o.plugins.title.display ? String(o.plugins.title.text || '') : '',
        scales,
        animation: o.animation,
        responsive: o.responsive,
        maintainAspectRatio: o.maintainAspectRatio,
        width: chart.width,
        height: chart.height,
      };
    }
    return out;
  });
}

function checkChartBasics(id, c) {
  if (!c) fail(`chart ${id}: no Chart.js chart on <canvas id="${id}"> (Chart.getChart returned nothing)`);
  if (!c.title.trim()) fail(`chart ${id}: no title`);
  const axes = Object.entries(c.scales);
  if (axes.length < 2 || axes.some(([, t]) => !t.trim())) fail(`chart ${id}: every axis needs a title, got ${JSON.stringify(c.scales)}`);
  if (!axes.some(([, t]) => /\(.+\)/.test(t))) fail(`chart ${id}: no axis title names a unit in parentheses: ${JSON.stringify(c.scales)}`);
  if (c.animation !== false) fail(`chart ${id}: animation must be false`);
  if (c.responsive !== true || c.maintainAspectRatio !== false) fail(`chart ${id}: must be responsive without a fixed aspect ratio`);
  if (!(c.width > 0 && c.height > 0)) fail(`chart ${id}: has no size (${c.width}×${c.height})`);
  if (!Array.isArray(c.keys) || c.keys.length !== c.data.length || c.labels.length !== c.data.length)
    fail(`chart ${id}: data-keys, labels and data differ in length`);
}

function checkAttributionChart(c, attribution, what) {
  const chans = attribution.channels || [];
  if (chans.length === 0 && c === null) return;  // nothing to chart: the page says so in words
  checkChartBasics('chart-attribution', c);
  if (c.data.length !== chans.length) fail(`${what}: chart-attribution has ${c.data.length} bars, the API ${chans.length} channels`);
  chans.forEach((ch, i) => {
    if (c.keys[i] !== ch.channel) fail(`${what}: chart-attribution bar ${i} is ${JSON.stringify(c.keys[i])}, the API's channel ${JSON.stringify(ch.channel)}`);
    if (!close(c.data[i], ch.conversions)) fail(`${what}: chart-attribution ${JSON.stringify(ch.channel)}: ${c.data[i]}, the API says ${ch.conversions}`);
    const label = ch.channel === '(unattributed)' ? 'unattributed' : ch.channel;
    if (ch.channel && c.labels[i] !== label) fail(`${what}: chart-attribution label ${i} is ${JSON.stringify(c.labels[i])}, expected ${JSON.stringify(label)}`);
  });
}

function checkCharts(charts, api, what) {
  const f = charts['chart-funnel'];
  if (f !== null || (api.campaigns.campaigns || []).length) checkFunnelChart(f, api, what);
  checkAttributionChart(charts['chart-attribution'], api.attribution, what);
  const q = charts['chart-quality'];
  const comp = api.quality.completeness || {};
  if (q === null && Object.keys(comp).length === 0) return;
  checkChartBasics('chart-quality', q);
  if ([...q.keys].sort().join() !== Object.keys(comp).sort().join())
    fail(`${what}: chart-quality shows ${JSON.stringify(q.keys)}, the API has ${JSON.stringify(Object.keys(comp))}`);
  if (!Object.values(q.scales).some((t) => t.includes('%'))) fail(`${what}: chart-quality must say its values are in %`);
  q.keys.forEach((k, i) => {
    // The quality chart holds shares as percent numbers (share × 100).
    if (!close(q.data[i], comp[k].share * 100)) fail(`${what}: chart-quality ${k}: ${q.data[i]}, the API's share is ${comp[k].share} (× 100)`);
  });
}

function checkFunnelChart(f, api, what) {
  checkChartBasics('chart-funnel', f);
  if (f.keys[0] !== 'requested' || f.keys[f.keys.length - 1] !== 'converted')
    fail(`${what}: the funnel chart must go from requested to converted, has ${JSON.stringify(f.keys)}`);
  const shown = (api.campaigns.campaigns || []).filter((c) => !f.campaign || c.campaign === f.campaign);
  f.keys.forEach((k, i) => {
    const want = shown.reduce((s, c) => s + c.funnel[k], 0);
    if (typeof want !== 'number' || !close(f.data[i], want))
      fail(`${what}: chart-funnel ${k} (${f.campaign ? JSON.stringify(f.campaign) : 'all campaigns'}): ${f.data[i]}, the API says ${want}`);
  });
}

async function controls(page) {
  return page.evaluate(() => ({
    from: document.getElementById('from').value,
    to: document.getElementById('to').value,
    campaign: document.getElementById('campaign').value,
    model: document.getElementById('model').value,
    locale: document.getElementById('locale').value,
  }));
}

const renders = (page) => page.evaluate(() => Number(document.body.dataset.renders || 0));

async function waitRender(page, before, opts, what) {
  try {
    await page.waitForFunction((b) => document.body.dataset.ready === '1' && Number(document.body.dataset.renders || 0) > b, before, { timeout: opts.timeout });
  } catch (e) {
    fail(`${what}: the page did not set body[data-ready="1"] within ${opts.timeout} ms`);
  }
}

async function noSectionErrors(page, what) {
  const errs = await page.$$eval('#dashboard [role="alert"]:not([hidden])', (els) => els.map((e) => e.textContent.trim()).filter(Boolean));
  if (errs.length) fail(`${what}: the page shows errors: ${errs.join(' | ')}`);
}

async function dataCount(page) {
  return page.locator('[data-report]').count();
}

/** Checks figures, coverage and charts of the whole page against `api`. */
async function checkPage(page, api, what, opts) {
  // The hub's live counters are read again now, after the page read them.
  api = { ...api, pipelines: await fetchReport(opts, 'pipelines', {}) };
  const c = await controls(page);
  const tag = LOCALE_TAGS[c.locale];
  if (!tag) fail(`${what}: #locale is ${JSON.stringify(c.locale)}`);
  await noSectionErrors(page, what);
  // The quality report is a snapshot the hub refreshes now and then: if it
  // changed between the page's read and ours, say so rather than list
  // mismatching figures.
  const shownMs = await page.$eval('#quality', (s) => s.dataset.computedMs);
  if (shownMs !== undefined && Number(shownMs) !== api.quality.computed_ms)
    fail(`${what}: the page shows the quality snapshot of computed_ms ${shownMs}, the API now has ${api.quality.computed_ms}; run the check against an idle hub`);
  const figs = await figures(page);
  if (figs.length === 0) fail(`${what}: no figure with data-report on the page`);
  compareFigures(figs, api, tag, what);
  requireCoverage(figs, api, c.campaign);
  // Campaign names are user data: they must come out as text, unchanged.
  const names = await page.$$eval('#campaigns .name', (els) => els.map((e) => e.textContent));
  for (const cmp of api.campaigns.campaigns || [])
    if (!names.includes(cmp.campaign || '(unnamed)')) fail(`${what}: campaign ${JSON.stringify(cmp.campaign)} is not shown as text in #campaigns`);
  checkCharts(await chartState(page), api, what);
  return figs.length;
}

async function login(page, opts, what) {
  await page.goto(`${opts.url}/dashboard`, { waitUntil: 'domcontentloaded' });
  await page.locator('#token').waitFor({ state: 'visible', timeout: opts.timeout });
  if (!(await page.locator('#login').isVisible())) fail(`${what}: the login button #login is not visible`);
  if ((await page.locator('#token').getAttribute('type')) !== 'password') fail(`${what}: #token is not a password input`);
  if (await dataCount(page)) fail(`${what}: report figures are in the DOM before login`);
  const before = await renders(page);
  await page.fill('#token', opts.token);
  await page.click('#login');
  await waitRender(page, before, opts, `${what}: login`);
}

// ------------------------------------------------------------------ main

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  fs.mkdirSync(opts.out, { recursive: true });
  const summary = { ok: false, url: opts.url };

  // 1. The API from Node.
  for (const token of [null, `${opts.token}-wrong`]) {
    const { status, body } = await apiGet(opts, 'campaigns', {}, token);
    if (status !== 401) fail(`GET /v1/reports/campaigns ${token === null ? 'without a token' : 'with a wrong token'}: expected HTTP 401, got ${status}`);
    if (typeof body.error !== 'string') fail(`GET /v1/reports/campaigns without a token: no "error" text in ${JSON.stringify(body)}`);
  }
  // The page and its scripts are public, under the hub's strict CSP.
  for (const [file, type] of [['', 'text/html'], ['/app.js', 'javascript'], ['/style.css', 'text/css'], ['/chart.js', 'javascript']]) {
    const url = `${opts.url}/dashboard${file}`;
    let res;
    try {
      res = await getting(url, {}, opts);
    } catch (e) {
      fail(`GET ${url}: ${e.message}`);
    }
    await res.arrayBuffer();
    if (res.status !== 200) fail(`GET ${url} without a token: expected HTTP 200, got ${res.status}`);
    if (!(res.headers.get('content-type') || '').includes(type)) fail(`GET ${url}: Content-Type ${res.headers.get('content-type')}, expected ${type}`);
    if (file === '') {
      const csp = res.headers.get('content-security-policy') || '';
      for (const d of ["script-src 'self'", "style-src 'self'", "connect-src 'self'"])
        if (!csp.includes(d)) fail(`GET ${url}: Content-Security-Policy ${JSON.stringify(csp)} lacks ${d}`);
    }
  }
  const defaults = { from: '', to: '', campaign: '', model: 'last_touch' };
  let api = await fetchAll(opts, defaults);
  if (JSON.stringify(api.attribution.models) !== JSON.stringify(MODELS)) fail(`attribution "models" is ${JSON.stringify(api.attribution.models)}, expected ${JSON.stringify(MODELS)}`);
  // A check of nothing proves nothing: the hub must hold some campaign data.
  if (!(api.campaigns.campaigns || []).length) fail('the campaigns report is empty: seed the hub with campaign activity before running the check');
  if (!(api.attribution.rows || []).length) fail('the attribution report has no rows: seed the hub with conversions before running the check');
  const bad = await apiGet(opts, 'attribution', { model: 'no_such_model' });
  if (bad.status !== 400 || typeof bad.body.error !== 'string') fail(`attribution with an unknown model: expected HTTP 400 with an error, got ${bad.status}`);

  const browser = await chromium.launch({ executablePath: opts.chromium, args: ['--no-sandbox'] });
  const problems = [];
  const origin = new URL(opts.url).origin;
  const watch = async (context) => {
    // Nothing may leave the hub's origin (no CDN, no fonts).
    await context.route('**/*', (route) => {
      const u = route.request().url();
      if (u.startsWith('data:') || u.startsWith('blob:') || new URL(u).origin === origin) return route.continue();
      problems.push(`request outside the hub: ${u}`);
      return route.abort();
    });
  };
  const watchPage = (page, name) => {
    page.on('pageerror', (e) => problems.push(`${name}: uncaught ${e.message}`));
    page.on('console', (m) => {
      const t = m.text();
      // The browser logs the 401 of the wrong-token login as a failed load.
      if (m.type() === 'error' && !/status of 401/.test(t)) problems.push(`${name}: console error: ${t}`);
      if (/Content Security Policy|Refused to/i.test(t)) problems.push(`${name}: CSP violation: ${t}`);
    });
  };
  const checkProblems = (what) => { if (problems.length) fail(`${what}: ${problems.join(' | ')}`); };

  try {
    // 2. Login at desktop size.
    const desk = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'en-US', timezoneId: 'UTC' });
    await watch(desk);
    const page = await desk.newPage();
    page.setDefaultTimeout(opts.timeout);
    watchPage(page, 'desktop');
    const apiCalls = [];
    page.on('request', (r) => { const m = new URL(r.url()).pathname.match(/^\/v1\/reports\/(\w+)/); if (m) apiCalls.push(m[1]); });

    await page.goto(`${opts.url}/dashboard`, { waitUntil: 'domcontentloaded' });
    await page.locator('#token').waitFor({ state: 'visible' });
    if (!(await page.locator('#login').isVisible())) fail('login: #login is not visible');
    if (await dataCount(page)) fail('before login: elements with data-report are in the DOM');
    const leaked = await page.evaluate((names) => names.filter((n) => n && document.body.textContent.includes(n)), (api.campaigns.campaigns || []).map((c) => c.campaign));
    if (leaked.length) fail(`before login: campaign names are in the DOM: ${leaked.join(', ')}`);

    await page.fill('#token', `${opts.token}-wrong`);
    await page.click('#login');
    try {
      await page.locator('#login-error').waitFor({ state: 'visible' });
    } catch {
      fail('wrong token: #login-error did not become visible');
    }
    if (!(await page.locator('#login-error').textContent()).trim()) fail('wrong token: #login-error is empty');
    if (await dataCount(page)) fail('wrong token: elements with data-report are in the DOM');
    if (!(await page.locator('#token').isVisible())) fail('wrong token: the login form is gone');

    let before = await renders(page);
    await page.fill('#token', opts.token);
    await page.click('#login');
    await waitRender(page, before, opts, 'login');
    if (await page.locator('#login-error').isVisible()) fail('login: #login-error is still visible');
    if (!(await page.locator('#logout').isVisible())) fail('login: no #logout button');
    checkProblems('after login');

    // 3 + 4. Figures and charts against a fresh fetch (reports of a live hub
    // are read again right after the page rendered).
    const c0 = await controls(page);
    if (c0.locale !== 'en') fail(`the page starts in locale ${c0.locale}, expected en for an en-US browser`);
    api = await fetchAll(opts, c0);
    summary.figures_checked = await checkPage(page, api, 'desktop/en', opts);
    summary.campaigns = (api.campaigns.campaigns || []).length;
    summary.attribution_rows = (api.attribution.rows || []).length;
    const options = await page.$$eval('#campaign option', (os) => os.map((o) => o.value));
    for (const cmp of api.campaigns.campaigns || []) if (!options.includes(cmp.campaign)) fail(`#campaign has no option for ${JSON.stringify(cmp.campaign)}`);
    const localeOptions = await page.$$eval('#locale option', (os) => os.map((o) => o.value).sort());
    if (localeOptions.join() !== 'de,en') fail(`#locale offers ${localeOptions}, expected en and de`);

    // 5. Every attribution model.
    const modelOptions = await page.$$eval('#model option', (os) => os.map((o) => o.value));
    if ([...modelOptions].sort().join() !== [...MODELS].sort().join()) fail(`#model offers ${JSON.stringify(modelOptions)}`);
    const modelTotals = {};
    for (const model of [...MODELS.filter((m) => m !== c0.model), c0.model]) {
      const what = `model ${model}`;
      before = await renders(page);
      apiCalls.length = 0;
      await page.selectOption('#model', model);
      await waitRender(page, before, opts, what);
      if (apiCalls.some((r) => r !== 'attribution') || !apiCalls.includes('attribution'))
        fail(`${what}: changing the model must reload only the attribution report, the page asked for ${JSON.stringify(apiCalls)}`);
      const shown = await page.$eval('#attribution', (s) => s.dataset.model);
      if (shown !== model) fail(`${what}: #attribution shows model ${JSON.stringify(shown)}`);
      const fresh = await fetchReport(opts, 'attribution', { from: c0.from, to: c0.to, campaign: c0.campaign, model });
      if ((fresh.query || {}).model !== model) fail(`${what}: the API answered for model ${JSON.stringify((fresh.query || {}).model)}`);
      const figs = await figures(page, 'attribution');
      compareFigures(figs, { ...api, attribution: fresh }, 'en-US', what);
      const have = new Set(figs.map((e) => `${e.report}\u0000${e.key}\u0000${e.field}`));
      requireAttributionCoverage(have, fresh, (report, key, field, why) => {
        if (!have.has(`${report}\u0000${key}\u0000${field}`)) fail(`${what}: missing ${where({ report, key, field })} (${why})`);
      });
      const total = figs.find((e) => e.key === 'total' && e.field === 'conversions');
      if (!close(Number(total.value), fresh.total.conversions)) fail(`${what}: total ${total.value}, the API's total.conversions is ${fresh.total.conversions}`);
      const rowSum = figs.filter((e) => e.key !== 'total' && e.field === 'conversions')
        .reduce((m, e) => m.set(e.key, Number(e.value)), new Map());
      const sum = [...rowSum.values()].reduce((a, b) => a + b, 0);
      if (Math.abs(sum - fresh.total.conversions) > 1e-6 * Math.max(1, Math.abs(sum))) fail(`${what}: the rows add up to ${sum}, the total is ${fresh.total.conversions}`);
      checkAttributionChart((await chartState(page))['chart-attribution'], fresh, what);
      await noSectionErrors(page, what);
      modelTotals[model] = fresh.total.conversions;
    }
    summary.models_checked = Object.keys(modelTotals).length;
    summary.model_totals = modelTotals;
    checkProblems('attribution models');

    // 6. German number format, re-rendered without refetching.
    before = await renders(page);
    apiCalls.length = 0;
    await page.selectOption('#locale', 'de');
    await waitRender(page, before, opts, 'locale de');
    if (apiCalls.length) fail(`locale de: switching the locale must not refetch, the page asked for ${JSON.stringify(apiCalls)}`);
    summary.figures_checked_de = await checkPage(page, api, 'desktop/de', opts);
    const deFigs = await figures(page);
    const big = deFigs.find((e) => kindOf(e.report, e.key, e.field) === 'int' && Math.abs(Number(e.value)) >= 1000);
    if (!big) fail('locale de: no integer figure ≥ 1000 on the page to check the German grouping with (seed more data)');
    if (!/^-?\d{1,3}(\.\d{3})+$/.test(norm(big.text))) fail(`locale de: ${where(big)} shows ${JSON.stringify(big.text)}, expected German grouping like 1.234`);
    const money = deFigs.find((e) => kindOf(e.report, e.key, e.field) === 'money');
    if (!money || !/^-?\d{1,3}(\.\d{3})*,\d{2}$/.test(norm(money.text))) fail(`locale de: money ${money ? JSON.stringify(money.text) : 'missing'} is not written like 1.234,50`);
    const pct = deFigs.find((e) => kindOf(e.report, e.key, e.field) === 'pct');
    if (!pct || !/^-?\d+,\d %$/.test(norm(pct.text))) fail(`locale de: percentage ${pct ? JSON.stringify(pct.text) : 'missing'} is not written like 12,3 %`);
    summary.de_samples = { [big.field]: norm(big.text), [money.field]: norm(money.text), [pct.field]: norm(pct.text) };
    before = await renders(page);
    await page.selectOption('#locale', 'en');
    await waitRender(page, before, opts, 'locale en');

    // 7. Screenshots. Desktop with the first campaign's channels open.
    const expander = page.locator('#campaigns .expander').first();
    if (await expander.count()) {
      await expander.click();
      await page.locator('#campaigns tr.sub-row:not([hidden])').first().waitFor({ state: 'visible' });
    }
    const deskShot = path.join(opts.out, 'dashboard-desktop.png');
    await page.screenshot({ path: deskShot, fullPage: true });
    // The first screenful (campaigns, control groups, attribution), as the README shows it.
    const deskTop = path.join(opts.out, 'dashboard-desktop-top.png');
    await page.screenshot({ path: deskTop, fullPage: true, clip: { x: 0, y: 0, width: 1280, height: 1880 } });

    const phoneCtx = await browser.newContext({
      viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true, locale: 'en-US', timezoneId: 'UTC',
    });
    await watch(phoneCtx);
    const phone = await phoneCtx.newPage();
    phone.setDefaultTimeout(opts.timeout);
    watchPage(phone, 'phone');
    await login(phone, opts, 'phone');
    await checkPage(phone, api, 'phone/en', opts);
    // With a mobile viewport Chromium widens window.innerWidth to a page
    // that is too wide (it zooms out), so the layout viewport's width
    // (documentElement.clientWidth) is the bound that matters; both are checked.
    const sideways = (w, px) => {
      if (w.scroll > w.inner || w.scroll > w.client || w.inner > px)
        fail(`phone ${px} px: the page scrolls sideways (scrollWidth ${w.scroll}, innerWidth ${w.inner}, clientWidth ${w.client})`);
    };
    const measure = () => phone.evaluate(() => ({
      scroll: document.documentElement.scrollWidth, inner: window.innerWidth, client: document.documentElement.clientWidth,
    }));
    const widths = await measure();
    sideways(widths, 390);
    const phoneShot = path.join(opts.out, 'dashboard-phone.png');
    await phone.screenshot({ path: phoneShot, fullPage: true });
    const phoneTop = path.join(opts.out, 'dashboard-phone-top.png');
    await phone.screenshot({ path: phoneTop, scale: 'css' });
    await phone.setViewportSize({ width: 360, height: 780 });
    try {
      await phone.waitForFunction(() => document.documentElement.clientWidth === 360);
    } catch {
      fail('phone 360 px: the layout viewport did not become 360 px wide');
    }
    await phone.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
    const narrow = await measure();
    sideways(narrow, 360);
    summary.phone_scroll_width = { 390: widths.scroll, 360: narrow.scroll };
    summary.screenshots = [deskShot, phoneShot, deskTop, phoneTop];
    await phoneCtx.close();

    // 8. First paint and time to ready, reloading with the token in the session.
    await page.reload({ waitUntil: 'domcontentloaded' });
    try {
      await page.waitForFunction(() => document.body.dataset.ready === '1', null, { timeout: opts.timeout });
    } catch {
      fail(`reload: the page did not become ready within ${opts.timeout} ms`);
    }
    const timing = await page.evaluate(() => {
      const fcp = performance.getEntriesByName('first-contentful-paint')[0];
      const ready = performance.getEntriesByName('dashboard-ready')[0];
      return { fcp: fcp ? fcp.startTime : null, ready: ready ? ready.startTime : null };
    });
    if (timing.fcp === null) fail('reload: no first-contentful-paint entry');
    if (timing.ready === null) fail('reload: no "dashboard-ready" performance mark');
    summary.first_paint_ms = Math.round(timing.fcp);
    summary.ready_ms = Math.round(timing.ready);
    summary.figures_checked_reload = await checkPage(page, await fetchAll(opts, await controls(page)), 'reload', opts);

    // 9. Logging out removes the data.
    await page.click('#logout');
    await page.locator('#token').waitFor({ state: 'visible' });
    if (await dataCount(page)) fail('logout: elements with data-report are still in the DOM');
    if (await page.evaluate(() => sessionStorage.length)) fail('logout: the token is still in sessionStorage');
    checkProblems('end');
    await desk.close();
  } finally {
    await browser.close();
  }
  summary.ok = true;
  process.stdout.write(JSON.stringify(summary) + '\n');
}

main().catch((e) => {
  if (e instanceof CheckError) log(`FAIL: ${e.message}`);
  else log(`FAIL (error): ${e.stack || e}`);
  process.exit(1);
});
