// Drives headless Chromium against a running graph editor (started by tests/browser.rs with a
// graph holding `src` = math.add(a=2, b=3)): adds a node from the palette, connects two ports by
// dragging, sets a value in the side panel, runs, and checks that the result changes; a
// type-mismatched connection is refused with a visible message; a node is moved by dragging and
// the move is undone; an edge is selected by a click and deleted (by key and by button), then
// restored by undo; in live mode a set re-runs what depends on it and an undo is applied to the
// running graph (run counts go on). Its last line is `RESULT <json>`; it exits non-zero on the first failed check.
import { chromium } from 'playwright-core';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const [url, screenshot] = process.argv.slice(2);
function check(ok, what) {
  if (!ok) throw new Error('check failed: ' + what);
}
const browser = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'flowloop-web-')), {
  executablePath: '/usr/bin/chromium',
  headless: true,
  viewport: { width: 1400, height: 700 },
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
         '--disable-component-update', '--disable-sync'],
});
const result = {};
// The bounding boxes of two elements, both of which must be visible.
async function ends(page, from, to) {
  const a = await page.locator(from).boundingBox();
  const b = await page.locator(to).boundingBox();
  check(a && b, `both ends visible: ${from} -> ${to}`);
  return [a, b];
}
async function drag(page, from, to) {
  const [a, b] = await ends(page, from, to);
  await page.mouse.move(a.x + a.width / 2, a.y + a.height / 2);
  await page.mouse.down();
  await page.mouse.move((a.x + b.x) / 2, (a.y + b.y) / 2, { steps: 4 });
  await page.mouse.move(b.x + b.width / 2, b.y + b.height / 2, { steps: 4 });
  await page.mouse.up();
}
// A mouse click halfway between two elements' centres (on a straight edge between them).
async function clickBetween(page, from, to) {
  const [a, b] = await ends(page, from, to);
  await page.mouse.click((a.x + a.width / 2 + b.x + b.width / 2) / 2, (a.y + a.height / 2 + b.y + b.height / 2) / 2);
}
const spec = async () => (await (await fetch(new URL('api/spec', url))).json());
try {
  const page = await browser.newPage();
  page.setDefaultTimeout(15000);
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error' && !m.text().includes('422')) pageErrors.push(m.text()); });
  await page.goto(url);
  await page.waitForSelector('body.editing #palette button[data-kind="math.neg"]');
  await page.waitForSelector('g.ed-node[data-id="src"]');

  // Palette search filters by name.
  await page.fill('#palette-search', 'neg');
  check(await page.locator('#palette button[data-kind="math.add"]').count() === 0, 'search hides math.add');
  await page.click('#palette button[data-kind="math.neg"]');
  await page.waitForSelector('g.ed-node[data-id="neg1"]');
  await page.fill('#palette-search', '');

  // Connect src.out -> neg1.x by dragging, then run.
  await drag(page, 'circle.out-port[data-node="src"][data-port="out"]', 'circle.in-port[data-node="neg1"][data-port="x"]');
  await page.waitForSelector('path.edge[data-edge="src.out>neg1.x"]', { state: 'attached' });
  await page.click('#ed-run');
  await page.waitForSelector('#ed-status[data-run="completed"]');
  result.first = await page.locator('text[data-value="neg1"]').textContent();
  check(result.first === '-5', `first run gives -5, got ${result.first}`);

  // Delete the edge src.out -> neg1.x: click selects it (highlighted), Delete removes it from
  // the SVG and the spec, undo brings it back; then the same with the "Delete edge" button.
  const EDGE = 'path.edge[data-edge="src.out>neg1.x"]';
  const hasEdge = (s) => (s.spec.edges || []).some((e) => e.from === 'src.out' && e.to === 'neg1.x');
  check(await page.isDisabled('#ed-delete-edge'), 'Delete edge is disabled with no edge selected');
  for (const how of ['key', 'button']) {
    const r0 = (await spec()).revision;
    await clickBetween(page, 'circle.out-port[data-node="src"][data-port="out"]', 'circle.in-port[data-node="neg1"][data-port="x"]');
    await page.waitForSelector(EDGE + '.selected', { state: 'attached' });
    check(await page.isEnabled('#ed-delete-edge'), 'Delete edge is enabled once an edge is selected');
    if (how === 'key') await page.keyboard.press('Delete');
    else await page.click('#ed-delete-edge');
    await page.waitForSelector(EDGE, { state: 'detached' });
    const gone = await spec();
    check(!hasEdge(gone) && gone.revision === r0 + 1, `${how}: the edge left the spec in one edit`);
    check(await page.isDisabled('#ed-delete-edge'), 'nothing is selected after the delete');
    await page.click('#ed-undo');
    await page.waitForSelector(EDGE, { state: 'attached' });
    const back = await spec();
    check(hasEdge(back), `${how}: undo put the edge back in the spec`);
    result.edgeDelete = { ...result.edgeDelete, [how]: [hasEdge(gone), hasEdge(back)] };
  }

  // Set src.b = 10 in the side panel, run again: the result changes.
  await page.click('g.ed-node[data-id="src"] rect', { position: { x: 100, y: 8 } });
  await page.fill('#panel-ports input[data-input="b"]', '10');
  await page.click('#panel-ports button[data-set="b"]');
  await page.waitForFunction(() => document.querySelector('g.ed-node[data-id="src"]').textContent.includes('b = 10'));
  await page.click('#ed-run');
  await page.waitForFunction(() => document.querySelector('text[data-value="neg1"]').textContent === '-12');
  result.second = '-12';

  // A type mismatch (a list into a number) is refused with a visible message next to the port.
  await page.fill('#palette-search', 'collect');
  await page.click('#palette button[data-kind="streams.collect"]');
  await page.waitForSelector('g.ed-node[data-id="collect1"]');
  const before = (await spec()).revision;
  await drag(page, 'circle.out-port[data-node="collect1"][data-port="out"]', 'circle.in-port[data-node="neg1"][data-port="x"]');
  await page.waitForSelector('#edit-error:not([hidden])');
  await page.waitForSelector('g.ed-node[data-id="neg1"] text[data-port-error="x"]');
  result.refused = await page.locator('#edit-error').textContent();
  check((await spec()).revision === before, 'the refused edit changed nothing');

  // Drag-move changes only the layout; undo puts it back.
  const s0 = await spec();
  await drag(page, 'g.ed-node[data-id="src"] text.title', 'g.ed-node[data-id="collect1"] text.kind');
  let s1 = await spec();
  for (let i = 0; i < 50 && s1.revision === s0.revision; i++) { await page.waitForTimeout(100); s1 = await spec(); }
  check(s1.revision === s0.revision + 1, 'the move is one edit');
  check(JSON.stringify(s1.spec.nodes) === JSON.stringify(s0.spec.nodes), 'a move changes only the layout');
  check(JSON.stringify(s1.spec.layout.src) !== JSON.stringify(s0.spec.layout.src), 'the layout changed');
  await page.click('#ed-undo');
  let s2 = await spec();
  for (let i = 0; i < 50 && s2.revision !== s1.revision + 1; i++) { await page.waitForTimeout(100); s2 = await spec(); }
  check(JSON.stringify(s2.spec.layout.src) === JSON.stringify(s0.spec.layout.src), 'undo restored the position');

  // Multi-step undo: the next undo takes back the add of collect1; redo brings it back.
  await page.click('#ed-undo');
  await page.waitForFunction(() => !document.querySelector('g.ed-node[data-id="collect1"]'));
  await page.click('#ed-redo');
  await page.waitForSelector('g.ed-node[data-id="collect1"]');
  // Undo and redo pressed back to back (no wait between): the page sends them one after the
  // other, each with the revision the previous one left, so neither is refused as stale.
  const quick0 = (await spec()).revision;
  await page.keyboard.press('Control+z');
  await page.keyboard.press('Control+Shift+z');
  let quick = await spec();
  for (let i = 0; i < 50 && quick.revision !== quick0 + 2; i++) { await page.waitForTimeout(100); quick = await spec(); }
  check(quick.revision === quick0 + 2, `undo+redo back to back are two changes (revision ${quick0} -> ${quick.revision})`);
  await page.waitForSelector('g.ed-node[data-id="collect1"]');
  check(await page.isHidden('#edit-error'), `no error after quick undo+redo: ${await page.locator('#edit-error').textContent()}`);

  await page.click('#ed-save');
  await page.waitForFunction(() => document.querySelector('#ed-status').textContent.startsWith('saved'));

  // Live mode needs every input fed: refused (naming collect1) until collect1 is deleted.
  await page.click('#ed-live');
  await page.waitForFunction(() => document.querySelector('#edit-error').textContent.includes('collect1'));
  await page.click('g.ed-node[data-id="collect1"] rect', { position: { x: 100, y: 8 } });
  await page.click('#ed-delete');
  await page.waitForFunction(() => !document.querySelector('g.ed-node[data-id="collect1"]'));
  await page.click('#ed-live');
  await page.waitForSelector('#flow-state[data-state="running"]');
  await page.waitForSelector('g.ed-node[data-id="neg1"][data-status="done"]');
  await page.waitForFunction(() => document.querySelector('text[data-value="neg1"]').textContent === '-12');
  const runs0 = Number(await page.getAttribute('g.ed-node[data-id="neg1"]', 'data-runs'));
  // Setting an input while live re-runs what depends on it (no Run click).
  await page.click('g.ed-node[data-id="src"] rect', { position: { x: 100, y: 8 } });
  await page.fill('#panel-ports input[data-input="b"]', '7');
  await page.click('#panel-ports button[data-set="b"]');
  await page.waitForFunction(() => document.querySelector('text[data-value="neg1"]').textContent === '-9');
  await page.waitForFunction((r) => Number(document.querySelector('g.ed-node[data-id="neg1"]').getAttribute('data-runs')) > r, runs0);
  result.liveRuns = [runs0, Number(await page.getAttribute('g.ed-node[data-id="neg1"]', 'data-runs'))];
  result.liveGeneration = await page.getAttribute('g.ed-node[data-id="neg1"]', 'data-generation');
  await page.screenshot({ path: screenshot });
  // Undo while live reaches the running graph as an edit: neg1 is back at -12 and its run
  // count goes on (a restarted live run would count from 1 again).
  await page.click('#ed-undo');
  await page.waitForFunction(() => document.querySelector('text[data-value="neg1"]').textContent === '-12');
  await page.waitForFunction((r) => Number(document.querySelector('g.ed-node[data-id="neg1"]').getAttribute('data-runs')) > r,
                             result.liveRuns[1]);
  result.liveUndo = { runsGrew: true, note: await page.locator('#ed-live-note').textContent(),
                      state: await page.getAttribute('#flow-state', 'data-state') };
  await page.click('#ed-stop');
  await page.waitForSelector('#flow-state[data-state="stopped"]');

  // Load: a malformed spec is refused with its line and column; a good one from the file
  // picker replaces the graph, and a run computes with it.
  await page.click('#ed-load summary');
  await page.fill('#ed-load-text', '{\n  "format": 1,\n  "nodes": [oops]\n}');
  await page.click('#ed-load-go');
  await page.waitForSelector('#edit-error[data-line="3"]');
  result.loadError = await page.locator('#edit-error').textContent();
  const current = (await spec()).spec;
  current.nodes.find((n) => n.id === 'src').inputs.b = 1;
  await page.setInputFiles('#ed-load-file', { name: 'graph.json', mimeType: 'application/json',
                                               buffer: Buffer.from(JSON.stringify(current, null, 2)) });
  await page.waitForFunction(() => document.querySelector('g.ed-node[data-id="src"]').textContent.includes('b = 1'));
  await page.click('#ed-run');
  await page.waitForFunction(() => document.querySelector('text[data-value="neg1"]').textContent === '-3');
  result.afterLoad = '-3';
  check(pageErrors.length === 0, 'no page errors: ' + pageErrors.join('; '));
} catch (e) {
  const page = browser.pages()[browser.pages().length - 1];
  if (page) console.log('PAGE edit-error=' + await page.locator('#edit-error').textContent() + ' nodes=' + await page.locator('#ed-nodes').innerHTML());
  console.log('SPEC ' + JSON.stringify(await spec()));
  throw e;
} finally {
  await browser.close();
}
console.log('RESULT ' + JSON.stringify(result));
