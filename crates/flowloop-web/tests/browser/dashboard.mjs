// Drives headless Chromium against a running dashboard. Started by tests/browser.rs, which
// owns the server: this script prints `RUN` (start the flow) and `RESTART` (restart the
// server on the same port) and waits for a line back on stdin. Its last line is
// `RESULT <json>`; it exits non-zero on the first failed check.
import { chromium } from 'playwright-core';
import { createInterface } from 'node:readline';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const [url, screenshot] = process.argv.slice(2);
const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
async function ask(word) {
  console.log(word);
  const { value, done } = await lines.next();
  if (done) throw new Error(`no answer to ${word}`);
  return value.trim();
}
function check(ok, what) {
  if (!ok) throw new Error('check failed: ' + what);
}

// A fresh profile directory per run; headless, no sandbox (the tests run as root).
const browser = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'flowloop-web-')), {
  executablePath: '/usr/bin/chromium',
  headless: true,
  viewport: { width: 1100, height: 520 },
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
         '--disable-component-update', '--disable-sync'],
});
const result = {};
try {
  const page = await browser.newPage();
  page.setDefaultTimeout(15000);
  const consoleErrors = [];
  const pageErrors = [];
  const badResponses = [];
  page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  page.on('response', (r) => { if (r.status() >= 400) badResponses.push(`${r.status()} ${r.url()}`); });

  // 1. The page loads and draws every node of the graph.
  await page.goto(url);
  const graph = await (await fetch(new URL('api/graph', url))).json();
  await page.waitForFunction((n) => document.querySelectorAll('g.node[data-node]').length === n, graph.nodes.length);
  await page.waitForSelector('body[data-conn="live"]');
  const keys = graph.nodes.map((n) => n.key);
  result.nodes = keys;

  // 2. Statuses go from running to done once the program starts the run. While the consumer
  //    runs, its input edge is labelled with the producer's pending generation (recorded in the
  //    page as it happens: the phase is short).
  await page.evaluate(() => {
    window.pendingLabels = [];
    new MutationObserver(() => {
      for (const t of document.querySelectorAll('text.edge-label.pending')) window.pendingLabels.push(t.textContent);
    }).observe(document.getElementById('edges'), { subtree: true, attributes: true, characterData: true, childList: true });
  });
  check((await ask('RUN')) === 'RUNNING', 'the flow started');
  const last = keys[keys.length - 1];
  const sel = (k, s) => `g.node[data-node="${k}"][data-status="${s}"]`;
  await page.waitForSelector(sel(last, 'running'));
  await page.waitForSelector(sel(last, 'done'));
  check(await page.locator('text.edge-label.pending').count() === 0, 'no pending edge once the run completed');
  result.pendingLabel = (await page.evaluate(() => window.pendingLabels))[0];
  await page.waitForSelector('#flow-state[data-state="completed"]');
  result.value = await page.locator(`g.node[data-node="${last}"] text.value`).textContent();
  result.runs = await page.locator(`g.node[data-node="${last}"]`).getAttribute('data-runs');
  result.generation = await page.locator(`g.node[data-node="${last}"]`).getAttribute('data-generation');
  result.header = await page.locator('header').innerText();
  await page.screenshot({ path: screenshot, fullPage: true });
  result.loadConsoleErrors = [...consoleErrors];
  result.loadBadResponses = [...badResponses];

  // 3. The page survives the server restarting: it reconnects and shows the new graph.
  const before = await page.getAttribute('body', 'data-instance');
  check((await ask('RESTART')) === 'RESTARTED', 'the server restarted');
  await page.waitForFunction((old) => {
    const now = document.body.getAttribute('data-instance');
    return now && now !== old && document.body.getAttribute('data-conn') === 'live';
  }, before, { timeout: 30000 });
  const graph2 = await (await fetch(new URL('api/graph', url))).json();
  await page.waitForFunction((n) => document.querySelectorAll('g.node[data-node]').length === n, graph2.nodes.length);
  const last2 = graph2.nodes[graph2.nodes.length - 1].key;
  await page.waitForSelector(sel(last2, 'done'));
  result.afterRestartNodes = graph2.nodes.length;
  result.afterRestartValue = await page.locator(`g.node[data-node="${last2}"] text.value`).textContent();
  // Its stream edges are labelled with their lag (chunks published, not yet taken).
  await page.waitForSelector('#flow-state[data-state="completed"]');
  result.streamLabels = await page.locator('text.edge-label[data-lag]:not([data-lag=""])').allTextContents();
  result.pageErrors = pageErrors;
  console.log('RESULT ' + JSON.stringify(result));
} catch (e) {
  console.log('RESULT ' + JSON.stringify({ ...result, failure: String(e && e.stack || e) }));
  process.exitCode = 1;
} finally {
  await browser.close();
  process.exit();
}
