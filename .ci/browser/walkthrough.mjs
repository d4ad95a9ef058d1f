#!/usr/bin/env node
// Civitas browser walk-through of one-stop services and of asking for help at home (run by
// CI after axe-check.mjs).
//
// Usage: node walkthrough.mjs BASE_URL
//
// In Chromium, through the real pages only (no API calls): the 82-year-old demo-elder,
// in elder mode, searches the service hall, opens 高龄津贴申领, starts it with fetching,
// finds the form pre-filled, fills the bank account, uploads a PDF as her bank card,
// submits; demo-clerk accepts and reviews it from her queue, demo-reviewer approves,
// demo-clerk finishes; the elder sees it finished and rates it, finds SMS on for her phone,
// and demo-admin finds that SMS in the demo's outbox; then on her care page she presses
// 我需要帮助 and her son (demo-relative, in her care circle) answers 我在路上 from his, and
// she sees him on the way; she orders help with bathing for tomorrow from 上门养老服务, paid by
// her subsidised hours, and demo-carer of the care centre accepts it. Every page on the way is checked
// with axe-core. Exit 1 on the first step that fails.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import axe from 'axe-core';

const BASE = process.argv[2];
if (!BASE) {
  console.error('usage: node walkthrough.mjs BASE_URL');
  process.exit(2);
}
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const PASSWORD = 'civitas-demo';
const TIMEOUT = 20_000;
const PDF = Buffer.from('%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n');

let step = 0;
function ok(what) {
  step += 1;
  console.log(`ok ${step} ${what}`);
}

async function checkAxe(page, what) {
  await page.addScriptTag({ content: axe.source });
  const result = await page.evaluate(async () => {
    // eslint-disable-next-line no-undef
    const r = await axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
  });
  if (result.length > 0) throw new Error(`axe violations on ${what}:\n  ${result.join('\n  ')}`);
}

async function visit(page, pathOrUrl, what) {
  const response = await page.goto(new URL(pathOrUrl, BASE).href, { timeout: TIMEOUT });
  if (!response || response.status() >= 400) throw new Error(`${what}: ${pathOrUrl} answered ${response && response.status()}`);
  await checkAxe(page, what);
}

async function click(page, locator, what) {
  await Promise.all([
    page.waitForEvent('load', { timeout: TIMEOUT }),
    locator.first().click({ timeout: TIMEOUT }),
  ]);
  await checkAxe(page, what);
}

async function expectText(page, text, what) {
  const body = await page.textContent('body');
  if (!body.includes(text)) throw new Error(`${what}: the page at ${page.url()} does not say “${text}”`);
}

async function session(browser, username, elder = false) {
  // bypassCSP lets the check inject axe-core under the pages' strict CSP.
  const context = await browser.newContext({ locale: 'zh-CN', bypassCSP: true });
  const page = await context.newPage();
  await page.goto(new URL('/login', BASE).href, { timeout: TIMEOUT });
  const form = page.locator('form:has(input[name="username"])').first();
  await form.locator('input[name="username"]').fill(username);
  await form.locator('input[name="password"]').fill(PASSWORD);
  await Promise.all([page.waitForEvent('load'), form.locator('button[type="submit"]').click()]);
  if (new URL(page.url()).pathname.startsWith('/login')) throw new Error(`${username} could not sign in`);
  if (elder) await page.goto(new URL('/prefs?elder=on&back=/', BASE).href);
  return { context, page };
}

async function act(page, caseUrl, what) {
  await visit(page, caseUrl, `${what}: the case`);
  await page.selectOption('select[name="action"]', 'complete');
  await click(page, page.locator('form[action*="/act?"] button[type="submit"]'), what);
  if (!new URL(page.url()).pathname.startsWith('/cases/')) throw new Error(`${what}: ended at ${page.url()}`);
  ok(what);
}

const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu'] });
try {
  // The resident, in elder mode.
  const { context: elderContext, page } = await session(browser, 'demo-elder', true);
  await visit(page, '/services', 'the service hall');
  await page.fill('input[name="q"]', '高龄');
  await click(page, page.locator('form[role="search"] button[type="submit"]'), 'search');
  await expectText(page, '高龄津贴申领', 'search');
  ok('she finds 高龄津贴申领 by searching 高龄');
  await click(page, page.locator('a[href="/services/items/elderly-allowance"]'), 'the item page');
  await expectText(page, '从您的证照夹自动获取', 'the item page');
  ok('the item page says what it needs and how each material is provided');
  await click(page, page.locator('button[name="fetch"][value="true"]'), 'start with fetching');
  const overview = new URL(page.url()).pathname;
  if (!/^\/me\/applications\/[0-9a-f-]{36}$/.test(overview)) throw new Error(`starting ended at ${overview}`);
  await expectText(page, '已从证照夹获取', 'the task list');
  ok('her household register was taken from her wallet');
  await click(page, page.locator(`a[href="${overview}/form"]`), 'the form');
  const name = await page.inputValue('#field-name');
  if (name !== '李秀英') throw new Error(`the form is not pre-filled: name is “${name}”`);
  await page.fill('#field-bank_account', '6217 0000 0000 2026');
  await click(page, page.locator('form[action$="/form"] button[type="submit"]'), 'save the form');
  ok('the form arrived pre-filled; she added her bank account');
  await click(page, page.locator(`a[href="${overview}/materials/bank-card"]`), 'the upload page');
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'civitas-')), '社保卡.pdf');
  fs.writeFileSync(file, PDF);
  await page.setInputFiles('input[type="file"]', file);
  await click(page, page.locator('form[enctype="multipart/form-data"] button[type="submit"]'), 'upload');
  await expectText(page, '已上传', 'after the upload');
  ok('she uploaded her bank card');
  await click(page, page.locator(`form[action="${overview}/submit"] button[type="submit"]`), 'submit');
  await expectText(page, '待受理', 'after submitting');
  const number = (await page.textContent('dl')).match(/SQ[0-9A-F]+/)?.[0];
  if (!number) throw new Error('no application number shown');
  ok(`she submitted it (${number})`);

  // The departments.
  const { context: clerkContext, page: clerk } = await session(browser, 'demo-clerk');
  await visit(clerk, '/cases', 'the clerk’s queue');
  const link = clerk.locator(`a:text("${number}")`);
  if ((await link.count()) === 0) throw new Error(`${number} is not in the clerk's queue`);
  await click(clerk, link, 'the case');
  const caseUrl = new URL(clerk.url()).pathname;
  await expectText(clerk, '6217 0000 0000 2026', 'the case');
  ok('the clerk finds it in her queue and sees the form');
  await act(clerk, caseUrl, 'the clerk accepts it (受理)');
  await act(clerk, caseUrl, 'the clerk reviews it (审核)');
  const { context: reviewerContext, page: reviewer } = await session(browser, 'demo-reviewer');
  await act(reviewer, caseUrl, 'the reviewer approves it (审批)');
  await act(clerk, caseUrl, 'the clerk finishes it (办结)');
  await expectText(clerk, '已办结', 'the finished case');

  // Back to the resident: finished, told, rated.
  await visit(page, overview, 'her application');
  await expectText(page, '已办结', 'her application');
  await page.selectOption('select[name="score"]', '5');
  await click(page, page.locator(`form[action="${overview}/rating"] button[type="submit"]`), 'rate');
  await expectText(page, '评价 5 星', 'after rating');
  ok('she sees it finished and rates it 5');
  await visit(page, '/me/inbox', 'her inbox');
  await expectText(page, '已办结', 'her inbox');
  ok('her inbox told her');
  await click(page, page.locator('a[href="/me/notifications"]'), 'how notices reach her');
  if (!(await page.isChecked('input[name="sms"]'))) throw new Error('SMS is not on for her registered phone');
  ok('通知方式: SMS goes to her registered phone');
  // The demo's SMS go to the outbox, which the platform administrator can read.
  const { context: adminContext, page: admin } = await session(browser, 'demo-admin');
  let found = false;
  for (let i = 0; i < 15 && !found; i += 1) {
    await visit(admin, '/admin/outbox', 'the outbox');
    found = (await admin.textContent('body')).includes(`（编号 ${number}）中的「高龄津贴申领」已办结`);
    if (!found) await admin.waitForTimeout(1000);
  }
  if (!found) throw new Error(`no SMS about ${number} being finished in the outbox`);
  ok('the SMS telling her it is finished is in the demo’s outbox');
  // 免申即享: she never applied for the old-age allowance; the bureau enrolled her.
  await visit(page, '/me/entitlements', 'her entitlements');
  await expectText(page, '高龄津贴', 'her entitlements');
  await expectText(page, '已纳入', 'her entitlements');
  await expectText(page, '第五条第一项', 'the reason for her old-age allowance');
  ok('我的待遇: the old-age allowance is hers without applying, with the article of law');
  await visit(reviewer, '/rules/policies/living-alone-care', 'the care subsidy proposals');
  await reviewer.locator('input[name="ids"]').first().check();
  await click(reviewer, reviewer.locator('form[action$="/confirm"] button[type="submit"]'), 'confirm the proposal');
  await expectText(reviewer, '已纳入', 'after confirming');
  ok('the reviewer confirms the proposals for the care subsidy in bulk');
  // 居家养老: she presses for help; her son, in her care circle, says he is on his way.
  await visit(page, '/care', 'her care page');
  await click(page, page.locator('form[action="/care/help"] button[type="submit"]'), 'pressing 我需要帮助');
  const alertPath = new URL(page.url()).pathname;
  if (!/^\/care\/alerts\/[0-9a-f-]{36}$/.test(alertPath)) throw new Error(`asking for help ended at ${alertPath}`);
  await expectText(page, '紧急求助', 'her alert');
  await expectText(page, '等待回应', 'her alert');
  ok('she presses 我需要帮助 on her care page; her alert waits for an answer');
  const { context: sonContext, page: son } = await session(browser, 'demo-relative');
  await visit(son, '/me/inbox', 'her son’s inbox');
  await expectText(son, '紧急求助', 'her son’s inbox');
  await visit(son, '/care', 'her son’s care page');
  await click(son, son.locator(`a[href="${alertPath}"]`), 'her alert, as her son sees it');
  await click(son, son.locator(`form[action="${alertPath}/answer"]:has(input[value="on_my_way"]) button[type="submit"]`), 'answering 我在路上');
  await expectText(son, '有人正在赶去', 'after answering');
  ok('her son is told at once, finds the alert on his care page and answers 我在路上');
  await visit(page, alertPath, 'her alert again');
  await expectText(page, '有人正在赶去', 'her alert again');
  await expectText(page, '李建国', 'her alert’s timeline');
  ok('she sees that her son is on the way');
  // 上门服务: she orders help with bathing for tomorrow; her subsidised hours pay for it;
  // the care centre accepts it and she sees when they will come.
  await visit(page, '/care', 'her care page');
  await click(page, page.locator('a[href="/care/services"]'), 'the care services');
  await expectText(page, '本月您还可享受补贴服务', 'her subsidised hours');
  await click(page, page.locator('li:has-text("上门助浴") a.button'), 'ordering 上门助浴');
  const tomorrow = new Date(Date.now() + 8 * 3600_000 + 24 * 3600_000).toISOString().slice(0, 10);
  await page.fill('input[name="wanted_at"]', tomorrow);
  await page.selectOption('select[name="time"]', '09:30');
  await click(page, page.locator('form[action$="/order"] button[type="submit"]'), 'placing the order');
  const orderPath = new URL(page.url()).pathname;
  if (!/^\/care\/orders\/[0-9a-f-]{36}$/.test(orderPath)) throw new Error(`ordering ended at ${orderPath}`);
  await expectText(page, '待接单', 'her order');
  await expectText(page, '自付', 'her order');
  ok('in elder mode she orders help with bathing for tomorrow; her subsidy pays for it');
  const { context: carerContext, page: carer } = await session(browser, 'demo-carer');
  await visit(carer, '/care/provider', 'the care centre’s orders');
  await click(carer, carer.locator(`a[href="${orderPath}"]`), 'her order, as the care centre sees it');
  await expectText(carer, '李秀英', 'her name and address on the order');
  await click(carer, carer.locator(`form[action="${orderPath}/accept"] button[type="submit"]`), 'accepting it');
  await expectText(carer, '已接单', 'after accepting');
  await visit(page, orderPath, 'her order again');
  await expectText(page, '已接单', 'her order again');
  ok('the care centre finds it in its queue and accepts it; she sees it accepted');
  await Promise.all([elderContext.close(), clerkContext.close(), reviewerContext.close(), adminContext.close(), sonContext.close(), carerContext.close()]);
  console.log(`walk-through passed: ${step} steps`);
} catch (e) {
  console.error(`FAIL after ${step} steps: ${e.message}`);
  process.exitCode = 1;
} finally {
  await browser.close();
}
