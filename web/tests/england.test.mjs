// England readability (issue 14, defect 4), opt-in: set GAPMAP_TEST_ENGLAND=1
// (loading England takes a minute and about 1.5 GiB, too much for every CI
// run). Starts `serve --region england` and checks, at z6 and z12, that no
// two visible area labels overlap, that asset symbols wait for town zoom,
// and that ward names show at street zoom; writes england-z6.png and
// england-z12.png to test-artifacts/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const ON = process.env.GAPMAP_TEST_ENGLAND === '1';
const webDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const repoDir = path.resolve(webDir, '..');
const BIN = path.resolve(webDir, process.env.GAPMAP_BIN ?? '../target/debug/gapmap');
const ARTIFACTS = path.resolve(webDir, process.env.GAPMAP_ARTIFACTS ?? '../test-artifacts');
let server;
let base;
let browser;
let stateDir;

before(async () => {
  if (!ON) return;
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'gapmap-state-england-'));
  server = spawn(BIN, ['serve', '--region', 'england', '--bind', '127.0.0.1:0', '--quiet', '--state-dir', stateDir], {
    cwd: repoDir, env: { ...process.env, GAPMAP_WEB_DIR: webDir }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  base = await new Promise((resolve, reject) => {
    let out = '';
    server.stdout.on('data', (d) => { out += d; const m = out.match(/GapMap serving .* at (http:\/\/[^\s/]+)\//); if (m) resolve(m[1]); });
    server.stderr.on('data', () => {});
    server.on('exit', (c) => reject(new Error(`server exited with ${c}`)));
  });
  browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu'] });
});

after(async () => {
  await browser?.close();
  if (server && server.exitCode === null) server.kill('SIGINT');
  if (stateDir) fs.rmSync(stateDir, { recursive: true, force: true });
});

async function view(hash) {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await page.goto(`${base}/map${hash}`);
  await page.waitForFunction(() => document.body.dataset.ready, null, { timeout: 300000 });
  await page.evaluate(() => new Promise((r) => { const { map } = window.gapmap; if (map.loaded()) r(); else map.once('idle', r); }));
  await page.waitForTimeout(1500);
  return page;
}

async function overlappingLabels(page) {
  return page.evaluate(() => {
    const boxes = [...document.querySelectorAll('.district-label, .ward-label')].filter((e) => e.style.display !== 'none').map((e) => e.getBoundingClientRect());
    let n = 0;
    for (let i = 0; i < boxes.length; i += 1) for (let j = i + 1; j < boxes.length; j += 1) {
      const [a, b] = [boxes[i], boxes[j]];
      if (a.left < b.right && a.right > b.left && a.top < b.bottom && a.bottom > b.top) n += 1;
    }
    return { n, shown: boxes.length };
  });
}

test('England at z6: labels do not collide and assets wait for town zoom', { skip: !ON && 'set GAPMAP_TEST_ENGLAND=1' }, async () => {
  const page = await view('#map=6/52.8/-1.6');
  const { n, shown } = await overlappingLabels(page);
  assert.ok(shown > 10, `only ${shown} district labels shown`);
  assert.equal(n, 0, 'overlapping labels');
  const symbols = await page.evaluate(() => window.gapmap.map.queryRenderedFeatures().filter((f) => f.layer.id.startsWith('asset-')).length);
  assert.equal(symbols, 0);
  await page.screenshot({ path: path.join(ARTIFACTS, 'england-z6.png') });
  await page.close();
});

test('England at z12: ward names, no collisions', { skip: !ON && 'set GAPMAP_TEST_ENGLAND=1' }, async () => {
  const page = await view('#map=12/53.7960/-1.5470');
  await page.waitForFunction(() => [...document.querySelectorAll('.ward-label')].some((e) => e.style.display !== 'none'), null, { timeout: 60000 });
  const { n } = await overlappingLabels(page);
  assert.equal(n, 0, 'overlapping labels');
  await page.screenshot({ path: path.join(ARTIFACTS, 'england-z12.png') });
  await page.close();
});

test('England: the 2019 view comes as tiles, and gap results and panels name areas', { skip: !ON && 'set GAPMAP_TEST_ENGLAND=1' }, async () => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  const requests = [];
  page.on('request', (r) => requests.push(new URL(r.url()).pathname + new URL(r.url()).search));
  await page.goto(`${base}/map#map=11/51.7300/-1.2100&year=2019&mode=level`);
  await page.waitForFunction(() => document.body.dataset.ready, null, { timeout: 300000 });
  await page.waitForFunction(() => window.gapmap.map.queryRenderedFeatures({ layers: ['lsoa19-fill'] }).length > 0, null, { timeout: 120000 });
  assert.ok(requests.some((u) => u.startsWith('/collections/lsoa-2011/tiles/')), 'no 2011 tiles');
  assert.ok(!requests.some((u) => u.startsWith('/web/api/lsoa-layer')), 'the 2019 GeoJSON layer was fetched');
  // A gap query lists LSOAs by name with their ward's name, never a bare code.
  await page.evaluate(() => { window.gapmap.state.gap = { category: 'gp_practice', max_decile: 1, min_distance_m: 2000 }; return window.gapmap.runGap(); });
  await page.waitForSelector('#gap-title', { timeout: 120000 });
  const items = await page.$$eval('#panel-body li a[data-lsoa]', (as) => as.map((a) => a.textContent.trim()));
  assert.ok(items.length > 0, 'no gap LSOAs listed');
  for (const t of items) assert.doesNotMatch(t, /^E0\d{7}$/, `a gap LSOA listed by code only: ${t}`);
  assert.doesNotMatch(await page.textContent('#gap-summary [data-key=wards]'), /E05\d{6}/, 'wards listed by code');
  await page.close();
});
