// Shared helpers for the end-to-end tests: launch Debian's Chromium through playwright-core,
// collect console errors and every request, and keep screenshots as artifacts.
import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

export const BASE_URL = process.env.BASE_URL ?? 'http://127.0.0.1:8000';
export const ARTIFACTS = path.join(path.dirname(fileURLToPath(import.meta.url)), 'artifacts');

export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROME ?? '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--disable-dev-shm-usage',
    ],
  });
}

/** Opens a page that records console errors, page errors and requests leaving the origin. */
export async function openPage(browser, hash = '', viewport = { width: 1280, height: 900 }) {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  const errors = [];
  const foreign = [];
  const origin = new URL(BASE_URL).origin;
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('request', (r) => {
    const u = new URL(r.url());
    if (u.protocol !== 'data:' && u.protocol !== 'blob:' && u.origin !== origin) foreign.push(r.url());
  });
  await page.goto(`${BASE_URL}/${hash}`);
  await page.waitForSelector('body[data-ready="true"]', { timeout: 30000 });
  return { page, context, errors, foreign };
}

export async function screenshot(page, name) {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.evaluate(() => window.scrollTo(0, 0)); // else the sticky header lands mid-page
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });
}

/**
 * Runs axe-core's WCAG 2.1 A/AA rules on the page as it is now and returns the violations as
 * `[{ id, impact, help, nodes: [selector, …] }]` (evaluated through the devtools protocol, so
 * the page's Content-Security-Policy does not apply to the injected script).
 */
export async function axeViolations(page, context = 'body') {
  const { readFileSync } = await import('node:fs');
  const { createRequire } = await import('node:module');
  const src = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
  await page.evaluate(src);
  return page.evaluate(async (ctx) => {
    const r = await globalThis.axe.run(ctx, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] }, resultTypes: ['violations'] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => n.target.join(' ')) }));
  }, context);
}

/**
 * The renderer main thread's tasks of a trace over 50 ms of wall time, each with its CPU time
 * (`tdur`): on a machine shared with other work a task can take longer than the page's own work
 * in it, and the CPU time tells the two apart.
 */
export function longRunTasks(trace) {
  const ev = JSON.parse(trace.toString()).traceEvents;
  const main = new Set(ev.filter((e) => e.ph === 'M' && e.name === 'thread_name' && e.args?.name === 'CrRendererMain').map((e) => `${e.pid}:${e.tid}`));
  return ev.filter((e) => e.name === 'RunTask' && e.ph === 'X' && main.has(`${e.pid}:${e.tid}`) && e.dur > 50000)
    .map((e) => ({ wall: Math.round(e.dur / 1000), cpu: Math.round((e.tdur ?? e.dur) / 1000) }));
}

export { withoutIsolation } from './isolation.mjs';
