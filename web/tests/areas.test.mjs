// Saved areas, compare and the area report in headless Chromium, against
// the real server on the Oxford region (small, so it starts fast): draw a
// polygon on the map and open its profile, save it with an editor token,
// compare the saved area with a ward side by side (table, charts, CSV), and
// print the area report with its locator map. Expected figures are the
// process's own JSON, fetched independently of the pages.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const webDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const repoDir = path.resolve(webDir, '..');
const BIN = path.resolve(webDir, process.env.GAPMAP_BIN ?? '../target/debug/gapmap');
const ARTIFACTS = path.resolve(webDir, process.env.GAPMAP_ARTIFACTS ?? '../test-artifacts');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

let server;
let base;
let browser;
let page;
let stateDir;
let editor;
const errors = [];

/** Blackbird Leys and Greater Leys, Oxford (CRS84). */
const LEYS = { type: 'Polygon', coordinates: [[[-1.215, 51.708], [-1.185, 51.708], [-1.185, 51.725], [-1.215, 51.725], [-1.215, 51.708]]] };

async function post(url, body, headers = {}) {
  const r = await fetch(`${base}${url}`, { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body: JSON.stringify(body) });
  return { status: r.status, body: await r.json() };
}

before(async () => {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'gapmap-state-areas-'));
  editor = execFileSync(BIN, ['token', 'add', '--name', 'areas-editor', '--role', 'editor', '--state-dir', stateDir], {
    cwd: repoDir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'],
  }).trim();
  server = spawn(BIN, ['serve', '--region', 'oxford', '--bind', '127.0.0.1:0', '--quiet', '--state-dir', stateDir], {
    cwd: repoDir, env: { ...process.env, GAPMAP_WEB_DIR: process.env.GAPMAP_WEB_DIR ?? webDir }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  base = await new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    server.stdout.on('data', (d) => { out += d; const m = out.match(/GapMap serving .* at (http:\/\/[^\s/]+)\//); if (m) resolve(m[1]); });
    server.stderr.on('data', (d) => { err += d; if (err.length > 50000) err = err.slice(-20000); });
    server.on('exit', (c) => reject(new Error(`server exited with ${c}: ${err.slice(-2000)}`)));
  });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--use-angle=swiftshader', '--enable-unsafe-swiftshader'] });
  const context = await browser.newContext({ viewport: { width: 1200, height: 800 }, acceptDownloads: true });
  page = await context.newPage();
  page.on('pageerror', (e) => errors.push(e.message));
});

after(async () => {
  await browser?.close();
  server?.kill();
  if (stateDir) fs.rmSync(stateDir, { recursive: true, force: true });
});

test('draw a polygon on the map, profile it and save it', async () => {
  await page.goto(`${base}/map`);
  await page.waitForFunction(() => document.body.dataset.ready, null, { timeout: 120000 });
  assert.equal(await page.evaluate(() => document.body.dataset.ready), 'true');
  // Sign in as the register does: the token in session storage.
  await page.evaluate((t) => window.sessionStorage.setItem('gapmap.register.token', t), editor);
  await page.click('#draw-start');
  // Four clicks around the Leys, then the first vertex again to close.
  await page.evaluate(() => window.gapmap.map.fitBounds([[-1.23, 51.70], [-1.17, 51.73]], { animate: false }));
  const onScreen = await page.evaluate((ring) => ring.slice(0, 4).map((c) => { const p = window.gapmap.map.project(c); return [p.x, p.y]; }), LEYS.coordinates[0]);
  const box = await page.locator('#map canvas').boundingBox();
  for (const [x, y] of onScreen) await page.mouse.click(box.x + x, box.y + y);
  await page.mouse.click(box.x + onScreen[0][0], box.y + onScreen[0][1]);
  await page.waitForSelector('#draw-actions:not([hidden])');
  const href = await page.getAttribute('#draw-profile', 'href');
  assert.match(href, /area\.html\?area=geom%3A/);
  await page.screenshot({ path: path.join(ARTIFACTS, 'areas-draw.png') });
  await page.fill('#draw-name', 'Drawn Leys');
  await page.click('#draw-save button[type=submit]');
  await page.waitForSelector('#draw-saved-link');
  const saved = await page.textContent('#draw-saved-link');
  assert.match(saved, /^areas-\d+$/);
  const f = await (await fetch(`${base}/collections/areas/items/${saved}`)).json();
  assert.equal(f.properties.name, 'Drawn Leys');
  assert.equal(f.properties.created_by, 'areas-editor');
  // The drawn token's profile page opens and shows the residents the process gives.
  await page.goto(`${base}${href}`);
  await page.waitForFunction(() => document.body.dataset.ready, null, { timeout: 60000 });
  assert.equal(await page.evaluate(() => document.body.dataset.ready), 'true', await page.textContent('#report'));
  assert.ok(await page.locator('#locator-map').count());
});

test('compare a saved area with a ward: table, charts, CSV, link', async () => {
  const created = await fetch(`${base}/collections/areas/items`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/geo+json', Authorization: `Bearer ${editor}` },
    body: JSON.stringify({ type: 'Feature', geometry: LEYS, properties: { name: 'The Leys' } }),
  });
  assert.equal(created.status, 201);
  const id = (await created.json()).id;
  const ward = (await (await fetch(`${base}/collections/wards/items?limit=1`)).json()).features[0].id;
  const expected = await post('/processes/area-profile/execution', { inputs: { area: id } });
  const expectedWard = await post('/processes/area-profile/execution', { inputs: { wards: [ward] } });
  assert.equal(expected.status, 200);
  await page.goto(`${base}/web/static/compare.html?areas=${id},ward:${ward}`);
  await page.waitForFunction(() => document.body.dataset.ready, null, { timeout: 60000 });
  const head = await page.$$eval('#compare-table thead th', (ths) => ths.map((t) => t.textContent));
  assert.equal(head.length, 3);
  assert.match(head[1], /The Leys/);
  const residents = await page.$$eval('#compare-table tbody tr', (trs) => trs.find((tr) => /Residents \(Census/.test(tr.textContent)).querySelectorAll('td').length);
  assert.equal(residents, 2);
  const cells = await page.$$eval('#compare-table tbody tr', (trs) => [...trs.find((tr) => /Residents \(Census/.test(tr.textContent)).querySelectorAll('td')].map((td) => td.textContent));
  assert.deepEqual(cells, [expected.body.area.residents.toLocaleString('en-GB'), expectedWard.body.area.residents.toLocaleString('en-GB')]);
  // "no data" wherever a category's sources do not reach the area.
  for (const c of expected.body.categories.filter((x) => x.coverage === 'no data')) {
    const t = await page.textContent(`#compare-table tr[data-category="${c.category}"] td`);
    assert.equal(t, 'no data');
  }
  assert.ok(await page.locator('#multiples figure').count() >= 3);
  assert.match(await page.textContent('#sources'), /Open Government Licence|OGL/);
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#csv')]);
  const csv = fs.readFileSync(await download.path(), 'utf8');
  assert.match(csv.split('\r\n')[0], /^group,measure,The Leys/);
  assert.ok(csv.includes(`Area,"Residents (Census 2021, apportioned)",${expected.body.area.residents},${expectedWard.body.area.residents}\r\n`), csv.slice(0, 400));
  assert.match(csv, /^source,.*Open Government Licence|^source,.*OGL/m);
  await page.screenshot({ path: path.join(ARTIFACTS, 'areas-compare.png'), fullPage: true });
  await page.emulateMedia({ media: 'print' });
  assert.equal(await page.locator('#add-area').isVisible(), false);
  await page.emulateMedia({ media: 'screen' });
  await page.pdf({ path: path.join(ARTIFACTS, 'areas-compare.pdf'), format: 'A4', landscape: true });
  // A link naming more areas than a comparison takes says which it left out.
  const wards = (await (await fetch(`${base}/collections/wards/items?limit=4`)).json()).features.map((f) => `ward:${f.id}`);
  assert.equal(wards.length, 4);
  await page.goto(`${base}/web/static/compare.html?areas=${id},${wards.join(',')}`);
  await page.waitForFunction(() => document.body.dataset.ready, null, { timeout: 60000 });
  assert.equal(await page.$$eval('#compare-table thead th', (ths) => ths.length), 5);
  assert.match(await page.textContent('#left-out'), new RegExp(`at most 4 areas; left out: ${wards[3]}\\.`));
  // A fifth is refused with a message; once one is removed, Add works again.
  const heads = () => page.$$eval('#compare-table thead th', (ths) => ths.length);
  await page.fill('#area-token', wards[3]);
  await page.click('#add-area button[type=submit]');
  assert.equal(await heads(), 5);
  assert.match(await page.$eval('#area-token', (i) => i.validationMessage), /at most 4 areas/);
  await page.click('#area-list [data-remove="0"]');
  await page.waitForFunction(() => document.querySelectorAll('#compare-table thead th').length === 4);
  await page.click('#add-area button[type=submit]');
  await page.waitForFunction(() => document.querySelectorAll('#compare-table thead th').length === 5);
  assert.match(await page.textContent('#area-list'), new RegExp(wards[3]));
  // Repeats (in any case) and tokens that name no area take none of the
  // four places, and are said.
  const lower = wards[1].replace(/^ward:/, 'ward:').toLowerCase();
  await page.goto(`${base}/web/static/compare.html?areas=${wards[0]},${wards[0]},${lower},nonsense,${wards[1]},${wards[2]},${wards[3]}`);
  await page.waitForFunction(() => document.body.dataset.ready, null, { timeout: 60000 });
  assert.equal(await heads(), 5);
  assert.equal(await page.locator('#left-out').count(), 0);
  assert.match(await page.textContent('#not-areas'), /Not areas, left out: nonsense/);
  assert.equal(await page.textContent('#repeats'), `Named more than once, compared once: ${wards[0]}, ${wards[1]}.`);
  // Adding an area already compared is refused with a message.
  await page.click('#area-list [data-remove="0"]');
  await page.waitForFunction(() => document.querySelectorAll('#compare-table thead th').length === 4);
  await page.fill('#area-token', wards[2]);
  await page.click('#add-area button[type=submit]');
  assert.match(await page.$eval('#area-token', (i) => i.validationMessage), /already in the comparison/);
  assert.equal(await heads(), 4);
});

test('area report of a saved area, and a 404 for an unknown one', async () => {
  await page.goto(`${base}/web/static/area.html?area=areas-1`);
  await page.waitForFunction(() => document.body.dataset.ready, null, { timeout: 60000 });
  assert.equal(await page.evaluate(() => document.body.dataset.ready), 'true');
  assert.match(await page.textContent('#area-name'), /Drawn Leys/);
  assert.ok(await page.locator('#locator-map path').count() >= 1);
  assert.ok(await page.locator('#access-table tbody tr').count() > 3);
  await page.screenshot({ path: path.join(ARTIFACTS, 'areas-report.png'), fullPage: true });
  await page.pdf({ path: path.join(ARTIFACTS, 'areas-report.pdf'), format: 'A4' });
  await page.goto(`${base}/web/static/area.html?area=areas-999`);
  await page.waitForFunction(() => document.body.dataset.ready, null, { timeout: 60000 });
  assert.equal(await page.evaluate(() => document.body.dataset.ready), 'error');
  assert.match(await page.textContent('#report'), /No such area/);
  assert.deepEqual(errors, []);
});
