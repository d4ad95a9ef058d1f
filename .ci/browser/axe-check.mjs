#!/usr/bin/env node
// Civitas browser accessibility check (run by CI).
//
// Usage: node axe-check.mjs BASE_URL        e.g. http://127.0.0.1:18080
//
// For an anonymous visitor and for each demo role (logged in through the real
// /login form) it crawls same-origin pages breadth-first, plus any extra paths
// listed per role in pages.json beside this file, and checks every page in
// three display modes (default Chinese, elder mode, English) with axe-core and
// a few structural rules, saving a screenshot of each into artifacts/.
// Pages reached only by submitting a form (POST) are checked through the
// per-role FLOWS below: open a page, fill a form, submit it, and check the
// resulting document exactly like a crawled page, in every mode.
// One line per page check, then a closing line "N passed, M failed".
// Exit 1 if anything failed or nothing was checked.
//
// Environment (optional):
//   CHROMIUM_PATH        browser binary      (default /usr/bin/chromium)
//   AXE_CHECK_BUDGET_S   whole-run time cap  (default 1800 seconds: about 1,500 page checks
//                        take 800 s on this 2-core machine, and CI machines run slower)

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import axe from 'axe-core';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ARTIFACTS = path.join(HERE, 'artifacts');
const PAGES_FILE = path.join(HERE, 'pages.json');

const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];
const NAV_TIMEOUT_MS = 20_000;      // per navigation / action
const AXE_TIMEOUT_MS = 60_000;      // per axe.run
const MAX_PAGES = 50;               // crawled pages per role and per mode
const BUDGET_MS = (Number(process.env.AXE_CHECK_BUDGET_S) || 1800) * 1000;

const PASSWORD = 'civitas-demo';
// 'demo-relative:acting' signs in as demo-relative and then acts for demo-elder (代办).
const ROLES = ['anonymous', 'demo-admin', 'demo-orgadmin', 'demo-clerk', 'demo-citizen', 'demo-elder', 'demo-relative', 'demo-relative:acting', 'demo-driver', 'demo-reviewer', 'demo-carer'];
const RESET = '/prefs?elder=off&lang=zh-CN&back=/';
// Each mode: the /prefs URL visited after RESET (null = none) and the
// primary language the page's <html lang> must then declare.
const MODES = [
  { name: 'default', set: null, lang: 'zh' },
  { name: 'elder', set: '/prefs?elder=on&back=/', lang: 'zh' },
  { name: 'en', set: '/prefs?lang=en&back=/', lang: 'en' },
];
const SKIP_PREFIXES = ['/logout', '/prefs', '/api/', '/metrics', '/static/'];
// Pages that share one template with many siblings (the service catalogue's items, its
// filters, the messages the demo's warnings fill inboxes and outboxes with, alerts,
// stations, applications): at most `max` of those matching each pattern are crawled per
// role and mode.
const ID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
const SAMPLED = [
  { pattern: /^\/services\/items\//, max: 3 },
  { pattern: /^\/services\?/, max: 2 },
  { pattern: new RegExp(`^/messages/${ID}$`), max: 3 },
  { pattern: new RegExp(`^/me/inbox/${ID}$`), max: 3 },
  { pattern: /^\/me\/inbox\?/, max: 2 },
  { pattern: new RegExp(`^/safety/alerts/${ID}$`), max: 3 },
  { pattern: new RegExp(`^/safety/alerts/${ID}/people/${ID}$`), max: 2 },
  { pattern: /^\/safety\/stations\/(?!new$)/, max: 3 },
  { pattern: new RegExp(`^/me/applications/${ID}$`), max: 3 },
  { pattern: /^\/safety\/supplies\/depots\/(?!new$)/, max: 2 },
  { pattern: new RegExp(`^/safety/supplies/plans/${ID}$`), max: 2 },
  { pattern: new RegExp(`^/care/services/${ID}/order$`), max: 2 },
  { pattern: new RegExp(`^/care/orders/${ID}$`), max: 3 },
];

// Form flows: pages reached only by a POST, which the crawler cannot find.
// Per role, a list of steps, each run once per mode after that mode's crawl:
//   name    short name, used in the report line and the screenshot's name
//   page    the GET page holding the form
//   submit  selector of the submit button (the first match is clicked)
//   fill    optional { fieldName: value } for fields of that button's form;
//           a value may be an async function ({ base }) returning the string
//   expect  optional selector the resulting page must contain (proves that
//           the intended page was reached, not e.g. the form again with an error)
// The resulting document then gets the same checks as a crawled page.
const showPass = (name, code) => ({
  name, page: '/me/passes', submit: `form[action="/me/passes/${code}"] button[type="submit"]`, expect: '.pass .qr svg',
});
const SCAN_SUBMIT = 'form[action="/passes/scan"] button[type="submit"]';
const FLOWS = {
  'demo-elder': [showPass('show-senior-transit', 'senior-transit')],
  'demo-relative:acting': [showPass('show-senior-transit', 'senior-transit')],
  'demo-citizen': [showPass('show-venue-entry', 'venue-entry')],
  'demo-driver': [
    { name: 'scan-refused', page: '/passes/scan', submit: SCAN_SUBMIT,
      fill: { token: 'not-a-pass', checkpoint: '12 路公交' }, expect: '.pass.pass-red' },
    // Each pass scans once only: mint a fresh one (as the elder, over the API) per run.
    { name: 'scan-accepted', page: '/passes/scan', submit: SCAN_SUBMIT,
      fill: { token: ({ base }) => freshPassToken(base, 'demo-elder', 'senior-transit'), checkpoint: '12 路公交' },
      expect: '.pass:not(.pass-red)' },
  ],
};

// ---------------------------------------------------------------- tallies

let passed = 0;
let failed = 0;
const usedShotNames = new Set();
let active = null;   // { launch, profile } of the role being checked, for cleanup
let exiting = false;  // set once the closing summary is being printed

function reportOk(role, mode, label) {
  if (exiting) return;
  passed++;
  console.log(`ok   ${role} ${mode} ${label}`);
}

function reportFail(role, mode, label, problems) {
  if (exiting) return;
  failed++;
  console.log(`FAIL ${role} ${mode} ${label}`);
  for (const p of problems) console.log(`     - ${p}`);
}

// ---------------------------------------------------------------- helpers

function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function errMsg(e) {
  return String(e && e.message ? e.message : e).split('\n')[0];
}

/** Extra paths per role from pages.json ({"demo-admin": ["/x", ...], ...}). */
function loadExtraPages() {
  if (!fs.existsSync(PAGES_FILE)) return {};
  const data = JSON.parse(fs.readFileSync(PAGES_FILE, 'utf8'));
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    throw new Error(`${PAGES_FILE}: expected an object of role -> [paths]`);
  }
  return data;
}

/**
 * Returns the crawl key (path + query, no fragment) for a same-origin page
 * link worth visiting, or null if the link is to be skipped.
 */
function crawlKey(href, origin) {
  let u;
  try { u = new URL(href); } catch { return null; }
  if (u.origin !== origin) return null;                  // also drops mailto:, javascript:
  const p = u.pathname;
  if (SKIP_PREFIXES.some((s) => p.startsWith(s))) return null;
  const last = p.slice(p.lastIndexOf('/') + 1);
  const ext = /\.([A-Za-z0-9]+)$/.exec(last);
  if (ext && ext[1].toLowerCase() !== 'html') return null;
  return p + u.search;
}

/** File-safe, unique screenshot path for role/mode/page. */
function shotPath(role, mode, key) {
  const slug = key.replace(/^\//, '').replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 100) || 'index';
  let name = `${role}__${mode}__${slug}`;
  for (let i = 2; usedShotNames.has(name); i++) name = `${role}__${mode}__${slug}-${i}`;
  usedShotNames.add(name);
  return path.join(ARTIFACTS, `${name}.png`);
}

async function goto(page, base, key) {
  return page.goto(base + key, { waitUntil: 'load', timeout: NAV_TIMEOUT_MS });
}

/** POSTs JSON to the API; returns the parsed reply or throws with the status and body. */
async function apiPost(base, apiPath, body, bearer) {
  const headers = { 'content-type': 'application/json' };
  if (bearer) headers.authorization = `Bearer ${bearer}`;
  const resp = await fetch(base + apiPath, {
    method: 'POST', headers, body: JSON.stringify(body), signal: AbortSignal.timeout(NAV_TIMEOUT_MS),
  });
  const text = await resp.text();
  if (!resp.ok) throw new Error(`POST ${apiPath}: HTTP ${resp.status} ${text.slice(0, 200)}`);
  try { return JSON.parse(text); } catch { throw new Error(`POST ${apiPath}: reply is not JSON`); }
}

/** A fresh, unscanned pass token of `type` for `username`, minted over the JSON API. */
async function freshPassToken(base, username, type) {
  const login = await apiPost(base, '/api/v1/auth/login', { username, password: PASSWORD });
  if (!login || typeof login.token !== 'string') throw new Error(`API login as ${username} returned no token`);
  const pass = await apiPost(base, '/api/v1/me/passes', { type }, login.token);
  if (!pass || typeof pass.token !== 'string') throw new Error(`POST /api/v1/me/passes (${type}) returned no token`);
  return pass.token;
}

// ---------------------------------------------------------------- per page

/**
 * Visits one page, checks it, screenshots it and returns the crawlable links
 * found on it. Reports exactly one ok/FAIL line, or a "skip" line for
 * responses that are not HTML pages (downloads etc.).
 */
async function checkPage(page, base, role, mode, key) {
  let response;
  try {
    response = await goto(page, base, key);
  } catch (e) {
    if (/download is starting/i.test(errMsg(e))) {
      console.log(`skip ${role} ${mode.name} ${key} (download, not a page)`);
      return [];
    }
    reportFail(role, mode.name, key, [`navigation failed: ${errMsg(e)}`]);
    return [];
  }

  const finalUrl = new URL(page.url());
  const finalKey = finalUrl.pathname + finalUrl.search;
  const label = finalKey === key ? key : `${key} -> ${finalKey}`;
  if (finalUrl.origin !== new URL(base).origin) {
    console.log(`skip ${role} ${mode.name} ${label} (left the site: ${finalUrl.origin})`);
    return [];
  }
  const ctype = response ? (response.headers()['content-type'] || '') : 'text/html';
  if (!/html/i.test(ctype)) {
    console.log(`skip ${role} ${mode.name} ${label} (content-type ${ctype || 'none'})`);
    return [];
  }
  return checkDocument(page, role, mode, label, finalKey, response);
}

/**
 * Checks the document now loaded in `page` (lang, main, h1, axe-core),
 * screenshots it under `shotKey`, reports one ok/FAIL line for `label`
 * (plus `problems` found earlier) and returns the document's links.
 */
async function checkDocument(page, role, mode, label, shotKey, response, problems = [], expect = null) {
  let links = [];
  try {
    const status = response ? response.status() : 0;
    if (status >= 500) problems.push(`HTTP status ${status}`);

    const info = await page.evaluate((expectSel) => ({
      lang: (document.documentElement.lang || '').trim(),
      hasMain: !!document.querySelector('main'),
      hasH1: !!document.querySelector('h1'),
      hasExpected: expectSel ? !!document.querySelector(expectSel) : true,
      links: Array.from(document.querySelectorAll('a[href]'), (a) => a.href),
    }), expect);
    links = info.links;
    if (!info.lang) problems.push('<html> has no lang attribute');
    else if (info.lang.toLowerCase().split('-')[0] !== mode.lang) {
      problems.push(`<html lang="${info.lang}"> but mode ${mode.name} expects "${mode.lang}*"`);
    }
    if (!info.hasMain) problems.push('page has no <main> element');
    if (!info.hasH1) problems.push('page has no <h1>');
    if (!info.hasExpected) problems.push(`expected "${expect}" on the resulting page (HTTP ${status}), not found`);

    // axe-core with its default rule set; any violation of any impact fails.
    await page.addScriptTag({ content: axe.source });
    const violations = await withTimeout(
      page.evaluate(async () => {
        const r = await window.axe.run(document, { resultTypes: ['violations'] });
        return r.violations.map((v) => ({
          id: v.id,
          impact: v.impact,
          help: v.help,
          targets: v.nodes.slice(0, 3).map((n) => n.target.join(' ')),
          count: v.nodes.length,
        }));
      }),
      AXE_TIMEOUT_MS, 'axe.run',
    );
    for (const v of violations) {
      const more = v.count > 3 ? ` (+${v.count - 3} more)` : '';
      problems.push(`${v.id} [${v.impact}] ${v.help} :: ${v.targets.join(' | ')}${more}`);
    }

    await page.screenshot({ path: shotPath(role, mode.name, shotKey), fullPage: true, timeout: NAV_TIMEOUT_MS });
  } catch (e) {
    problems.push(`check error: ${errMsg(e)}`);
  }

  if (problems.length) reportFail(role, mode.name, label, problems);
  else reportOk(role, mode.name, label);
  return links;
}

/**
 * Runs one form flow (see FLOWS): opens flow.page, fills the submit button's
 * form, submits it and checks the resulting document like a crawled page.
 * Reports exactly one ok/FAIL line; never throws.
 */
async function checkFlow(page, base, role, mode, flow) {
  let label = `flow ${flow.name}: ${flow.page}`;
  let response = null;
  try {
    await goto(page, base, flow.page);
    const where = new URL(page.url()).pathname;
    if (where !== flow.page) throw new Error(`GET ${flow.page} ended at ${where}`);

    const button = page.locator(flow.submit).first();
    if ((await button.count()) === 0) {
      throw new Error(`submit selector ${JSON.stringify(flow.submit)} matches nothing on ${flow.page}`);
    }
    const form = button.locator('xpath=ancestor::form[1]');
    if ((await form.count()) === 0) throw new Error(`submit ${JSON.stringify(flow.submit)} is not inside a <form>`);
    for (const [name, value] of Object.entries(flow.fill || {})) {
      const field = form.locator(`[name="${name}"]`).first();
      if ((await field.count()) === 0) {
        throw new Error(`form of ${JSON.stringify(flow.submit)} on ${flow.page} has no field named "${name}"`);
      }
      const text = typeof value === 'function' ? await value({ base, role, mode }) : String(value);
      await field.fill(text, { timeout: NAV_TIMEOUT_MS });
    }

    // The final response of the main frame's navigation (after any redirects).
    const gotResponse = page.waitForResponse(
      (r) => r.frame() === page.mainFrame() && r.request().isNavigationRequest()
        && !(r.status() >= 300 && r.status() < 400),
      { timeout: NAV_TIMEOUT_MS },
    );
    gotResponse.catch(() => {});   // awaited below
    const loaded = page.waitForEvent('load', { timeout: NAV_TIMEOUT_MS });
    loaded.catch(() => {});
    await button.click({ timeout: NAV_TIMEOUT_MS });
    response = await gotResponse;
    await loaded;
  } catch (e) {
    reportFail(role, mode.name, label, [`flow ${flow.name}: ${errMsg(e)}`]);
    return;
  }

  const finalUrl = new URL(page.url());
  const finalKey = finalUrl.pathname + finalUrl.search;
  label = `flow ${flow.name}: ${flow.page} -> ${response.request().method()} ${finalKey}`;
  const ctype = response.headers()['content-type'] || '';
  if (!/html/i.test(ctype)) {
    reportFail(role, mode.name, label, [`flow ${flow.name}: result has content-type ${ctype || 'none'}, not HTML`]);
    return;
  }
  await checkDocument(page, role, mode, label, `flow_${flow.name}`, response, [], flow.expect || null);
}

// ---------------------------------------------------------------- per role

async function login(page, base, role) {
  const [username, variant] = role.split(':');
  await goto(page, base, '/login');
  const form = page.locator('form:has(input[name="username"])').first();
  await form.locator('input[name="username"]').fill(username, { timeout: NAV_TIMEOUT_MS });
  await form.locator('input[name="password"]').fill(PASSWORD, { timeout: NAV_TIMEOUT_MS });
  // The submit causes a new document load (POST, then the redirect to /).
  await Promise.all([
    page.waitForEvent('load', { timeout: NAV_TIMEOUT_MS }),
    form.locator('button[type="submit"]').first().click({ timeout: NAV_TIMEOUT_MS }),
  ]);
  const where = new URL(page.url()).pathname;
  if (where.startsWith('/login')) {
    throw new Error(`login failed for role ${role}: after submitting, the URL is still ${where}`);
  }
  if (variant === 'acting') {
    // Start acting for the first person who authorised this account.
    await goto(page, base, '/me/proxies');
    await Promise.all([
      page.waitForEvent('load', { timeout: NAV_TIMEOUT_MS }),
      page.locator('form[action="/me/act-for"] button[type="submit"]').first().click({ timeout: NAV_TIMEOUT_MS }),
    ]);
    if ((await page.locator('.acting-banner').count()) === 0) {
      throw new Error(`role ${role}: acting for someone did not show the acting banner`);
    }
  }
}

/** Switches display mode through /prefs; throws if that does not work. */
async function setMode(page, base, mode) {
  for (const key of mode.set ? [RESET, mode.set] : [RESET]) {
    const resp = await goto(page, base, key);
    if (new URL(page.url()).pathname.startsWith('/prefs')) {
      const status = resp ? resp.status() : 0;
      throw new Error(`mode ${mode.name}: GET ${key} did not redirect back (HTTP ${status})`);
    }
  }
}

/**
 * Breadth-first crawl + check. `seeds` are always visited; further pages
 * found through links are visited while fewer than MAX_PAGES were checked.
 * Returns the visited keys in order.
 */
async function crawlMode(page, base, role, mode, seeds) {
  const origin = new URL(base).origin;
  const seen = new Set(seeds);
  const queue = seeds.map((key) => ({ key, forced: true }));
  const visited = [];
  const sampled = new Map();
  while (queue.length && !exiting) {
    const { key, forced } = queue.shift();
    if (!forced && visited.length >= MAX_PAGES) continue;
    visited.push(key);
    const links = await checkPage(page, base, role, mode, key);
    for (const href of links) {
      const k = crawlKey(href, origin);
      if (k !== null && !seen.has(k)) {
        seen.add(k);
        const sample = SAMPLED.find((r) => r.pattern.test(k));
        if (sample) {
          sampled.set(sample, (sampled.get(sample) || 0) + 1);
          if (sampled.get(sample) > sample.max) continue;
        }
        queue.push({ key: k, forced: false });
      }
    }
  }
  return visited;
}

/** Closes the role's browser and deletes its temporary profile (once). */
let closing = Promise.resolve();
function closeActive() {
  const a = active;
  active = null;
  if (a) {
    closing = (async () => {
      try {
        const context = await withTimeout(a.launch, 30_000, 'browser launch');
        await withTimeout(context.close(), 15_000, 'browser close');
      } catch { /* launch failed or hung: nothing more we can close */ }
      try {
        fs.rmSync(a.profile, { recursive: true, force: true, maxRetries: 3 });
      } catch (e) {
        console.error(`warning: could not remove ${a.profile}: ${errMsg(e)}`);
      }
    })();
  }
  return closing;
}

async function checkRole(base, role, extras, flows) {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'civitas-axe-'));
  const launch = chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    bypassCSP: true,                       // lets us inject axe-core under a strict CSP
    viewport: { width: 1280, height: 800 },
    timeout: 60_000,
  });
  launch.catch(() => {});   // reported below when awaited
  active = { launch, profile };
  try {
    const context = await launch;
    context.setDefaultTimeout(NAV_TIMEOUT_MS);
    context.setDefaultNavigationTimeout(NAV_TIMEOUT_MS);
    let page = context.pages()[0] || (await context.newPage());

    if (role !== 'anonymous') {
      try {
        await login(page, base, role);
      } catch (e) {
        const msg = errMsg(e);
        reportFail(role, '-', '/login', [msg.includes(role) ? msg : `login failed for role ${role}: ${msg}`]);
        return;
      }
    }

    const roots = role === 'anonymous' ? ['/', '/login'] : ['/'];
    let list = [...new Set([...roots, ...extras])];
    for (const mode of MODES) {
      if (exiting) break;
      try {
        if (page.isClosed()) page = await context.newPage();
        await setMode(page, base, mode);
        const visited = await crawlMode(page, base, role, mode, list);
        if (mode === MODES[0]) list = visited;   // later modes revisit the default crawl
        for (const flow of flows) {
          if (exiting) break;
          await checkFlow(page, base, role, mode, flow);
        }
      } catch (e) {
        reportFail(role, mode.name, '-', [`role ${role}: ${errMsg(e)}`]);
      }
    }
  } catch (e) {
    reportFail(role, '-', '-', [`role ${role}: ${errMsg(e)}`]);
  } finally {
    await closeActive();
  }
}

// ---------------------------------------------------------------- main

async function summaryAndExit(extraFailure) {
  if (exiting) return;
  if (extraFailure) reportFail('-', '-', '-', [extraFailure]);
  exiting = true;   // whatever is still running reports nothing from here on
  const total = passed + failed;
  if (total === 0) console.log('no page was checked');
  console.log(`${passed} passed, ${failed} failed`);
  await closeActive();
  process.exit(failed > 0 || total === 0 ? 1 : 0);
}

async function main() {
  const arg = process.argv[2];
  if (!arg || !/^https?:\/\//.test(arg)) {
    console.error('usage: node axe-check.mjs BASE_URL   (e.g. http://127.0.0.1:18080)');
    process.exit(2);
  }
  const base = new URL(arg).origin;
  if (!fs.existsSync(CHROMIUM)) {
    console.error(`chromium not found at ${CHROMIUM}; run .ci/install-browser.sh`);
    process.exit(2);
  }
  const extraPages = loadExtraPages();
  const unknown = Object.keys(FLOWS).filter((r) => !ROLES.includes(r));
  if (unknown.length) {
    console.error(`FLOWS names roles not in ROLES: ${unknown.join(', ')}`);
    process.exit(2);
  }
  fs.rmSync(ARTIFACTS, { recursive: true, force: true });
  fs.mkdirSync(ARTIFACTS, { recursive: true });

  // Whole-run bound: close the browser, report what we have and stop.
  setTimeout(() => summaryAndExit(`run exceeded its budget of ${BUDGET_MS / 1000} s`), BUDGET_MS).unref();
  for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => summaryAndExit(`interrupted by ${sig}`));

  const started = Date.now();
  for (const role of ROLES) {
    if (exiting) return;
    const extras = (Array.isArray(extraPages[role]) ? extraPages[role] : [])
      .map((p) => (String(p).startsWith('/') ? String(p) : `/${p}`));
    await checkRole(base, role, extras, FLOWS[role] || []);
  }
  console.log(`checked in ${((Date.now() - started) / 1000).toFixed(1)} s; screenshots in ${ARTIFACTS}`);
  await summaryAndExit();
}

main().catch((e) => summaryAndExit(`unexpected error: ${errMsg(e)}`));
