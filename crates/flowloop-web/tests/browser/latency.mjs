// Measures the time from a node's status change in the flow to the page's DOM showing it.
// The node publishes a new generation whose value is the wall-clock time (ms) of the change;
// a MutationObserver on its `data-generation` attribute takes Date.now() when the DOM changes.
// Prints `LATENCY {"samples":N,"p50_ms":..,"p99_ms":..,"max_ms":..}`.
import { chromium } from 'playwright-core';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const [url, nodeKey, count] = [process.argv[2], process.argv[3], Number(process.argv[4] || 100)];
const browser = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'flowloop-web-')), {
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
         '--disable-component-update', '--disable-sync', '--disable-renderer-backgrounding',
         '--disable-backgrounding-occluded-windows', '--disable-background-timer-throttling'],
});
try {
  const page = await browser.newPage();
  await page.goto(url);
  await page.waitForSelector(`g.node[data-node="${nodeKey}"]`);
  const samples = await page.evaluate(([key, n]) => new Promise((resolve) => {
    const g = document.querySelector(`g.node[data-node="${key}"]`);
    const out = [];
    new MutationObserver(() => {
      const seen = Date.now();
      const v = Number((g.querySelector('text.value').textContent || '').replace(/^= /, ''));
      if (Number.isFinite(v) && v > 0) out.push(seen - v);
      if (out.length >= n) resolve(out);
    }).observe(g, { attributes: true, attributeFilter: ['data-generation'] });
  }), [nodeKey, count]);
  samples.sort((a, b) => a - b);
  const q = (p) => samples[Math.min(samples.length - 1, Math.floor(p * samples.length))];
  console.log('LATENCY ' + JSON.stringify({ samples: samples.length, p50_ms: q(0.5), p99_ms: q(0.99),
                                            max_ms: samples[samples.length - 1] }));
} finally {
  await browser.close();
  process.exit();
}
