// Drives headless Chromium against a graph editor (started by tests/browser.rs with `src` =
// math.add(2, 3) feeding `nap` = time.sleep(value, 60 s)): the edge src.out -> nap.value has no
// label before a run; a batch run, and then a live run, label it with the pending generation
// while nap sleeps on the value (as the dashboard labels its edges); Stop ends each run.
// With a third argument `stream` (the graph is then `ticks` = time.interval streaming into
// `all` = streams.collect feeding `n` = collections.len) it checks a live run's stream edge
// all.items instead: once n is done its label shows the lag (`lag 0`: every chunk taken), and
// the plain edge n.collection shows none. Its last line is `RESULT <json>`; it exits non-zero
// on the first failed check.
import { chromium } from 'playwright-core';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const [url, screenshot, mode] = process.argv.slice(2);
function check(ok, what) {
  if (!ok) throw new Error('check failed: ' + what);
}
const browser = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'flowloop-web-')), {
  executablePath: '/usr/bin/chromium',
  headless: true,
  viewport: { width: 1200, height: 600 },
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
         '--disable-component-update', '--disable-sync'],
});
const LABEL = '#ed-edges text.edge-label[data-edge-to="nap.value"]';
const PATH = '#ed-edges path.edge[data-edge-to="nap.value"]';
const result = {};
// Waits until the label shows a pending generation and nap runs; returns the label's text.
async function pendingLabel(page) {
  await page.waitForFunction(([label, node]) => {
    const t = document.querySelector(label);
    const g = document.querySelector(node);
    return t && t.textContent.startsWith('⟵') && g && g.getAttribute('data-status') === 'running';
  }, [LABEL, 'g.ed-node[data-id="nap"]']);
  check(await page.locator(PATH).evaluate((p) => p.classList.contains('pending')), 'the pending edge is coloured');
  return page.locator(LABEL).textContent();
}
// A batch and then a live run of the src -> nap graph: the pending edge's label.
async function pendingCase(page) {
  await page.waitForSelector('g.ed-node[data-id="nap"]');
  await page.waitForSelector(LABEL, { state: 'attached' });
  result.before = await page.locator(LABEL).textContent();

  // A batch run: src's value (generation 0) waits on the edge while nap sleeps.
  await page.click('#ed-run');
  result.batch = await pendingLabel(page);
  await page.click('#ed-stop');
  await page.waitForSelector('#ed-status[data-run="stopped"]');

  // A live run: the same, with the tick's generation.
  await page.click('#ed-live');
  result.live = await pendingLabel(page);
  result.liveSrcGeneration = await page.getAttribute('g.ed-node[data-id="src"]', 'data-generation');
  await page.screenshot({ path: screenshot });
  await page.click('#ed-stop');
  await page.waitForSelector('#ed-status[data-run="stopped"]');
}
// A live run of the stream graph: the stream edge's label and data-lag once n is done.
async function streamCase(page) {
  const stream = '#ed-edges text.edge-label[data-edge-to="all.items"]';
  const plain = '#ed-edges text.edge-label[data-edge-to="n.collection"]';
  await page.waitForSelector(stream, { state: 'attached' });
  result.before = await page.locator(stream).textContent();
  await page.click('#ed-live');
  await page.waitForFunction(([label, node]) => {
    const t = document.querySelector(label);
    const g = document.querySelector(node);
    return t && (t.dataset.lag || '') !== '' && g && g.getAttribute('data-status') === 'done';
  }, [stream, 'g.ed-node[data-id="n"]']);
  result.liveStream = await page.locator(stream).textContent();
  result.liveStreamLag = await page.getAttribute(stream, 'data-lag');
  result.livePlain = await page.locator(plain).textContent();
  await page.screenshot({ path: screenshot });
  await page.click('#ed-stop');
  await page.waitForSelector('#ed-status[data-run="stopped"]');
}
try {
  const page = await browser.newPage();
  page.setDefaultTimeout(15000);
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') pageErrors.push(m.text()); });
  await page.goto(url);
  await (mode === 'stream' ? streamCase(page) : pendingCase(page));
  result.pageErrors = pageErrors;
} catch (e) {
  result.failure = String(e && e.stack || e);
}
await browser.close();
console.log('RESULT ' + JSON.stringify(result));
process.exit(result.failure ? 1 : 0);
