// End-to-end tests of the planner's map in real headless Chromium.
//
//   cd web && npm ci && GAPMAP_BIN=../target/debug/gapmap node --test tests/
//
// Starts the real server binary (GAPMAP_BIN, default ../target/debug/gapmap)
// with `serve --bind 127.0.0.1:0 --quiet` from the repository root (so the
// default data directory ../shared/geodata resolves), drives Debian's
// /usr/bin/chromium (CHROMIUM_PATH to override) through playwright-core, and
// saves screenshots and a PDF to test-artifacts/ (GAPMAP_ARTIFACTS).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
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
const START_TIMEOUT_MS = Number(process.env.GAPMAP_START_TIMEOUT_MS ?? 300000);

let server;
let base;
let context;
let page;
let userDataDir;
const pageErrors = [];
const externalRequests = [];

function startServer() {
  return new Promise((resolve, reject) => {
    if (!fs.existsSync(BIN)) {
      reject(new Error(`server binary not found at ${BIN}: build it with \`cargo build --release\` or set GAPMAP_BIN`));
      return;
    }
    const child = spawn(BIN, ['serve', '--bind', '127.0.0.1:0', '--quiet'], {
      cwd: repoDir,
      env: { ...process.env, GAPMAP_WEB_DIR: process.env.GAPMAP_WEB_DIR ?? webDir },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`server did not start within ${START_TIMEOUT_MS} ms\nstdout: ${out}\nstderr: ${err.slice(-2000)}`));
    }, START_TIMEOUT_MS);
    child.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/GapMap serving .* at (http:\/\/[^\s/]+)\//);
      if (m) {
        clearTimeout(timer);
        resolve({ child, base: m[1] });
      }
    });
    child.stderr.on('data', (d) => { err += d; if (err.length > 100000) err = err.slice(-50000); });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code} before serving\nstdout: ${out}\nstderr: ${err.slice(-2000)}`));
    });
  });
}

async function api(url) {
  const r = await fetch(`${base}${url}`, { headers: { Accept: 'application/json' } });
  return { status: r.status, body: r.ok ? await r.json() : await r.text() };
}

async function shot(name, fullPage = false) {
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage });
}

async function idle() {
  await page.evaluate(() => new Promise((resolve) => {
    const { map } = window.gapmap;
    if (map.loaded() && !map.isMoving()) { map.triggerRepaint(); map.once('idle', resolve); } else map.once('idle', resolve);
  }));
}

/** A histogram of the map canvas' colours (quantised), to tell renders apart. */
async function canvasColours() {
  return page.evaluate(() => {
    const src = window.gapmap.map.getCanvas();
    const c = document.createElement('canvas');
    c.width = 200;
    c.height = 150;
    const ctx = c.getContext('2d');
    ctx.drawImage(src, 0, 0, c.width, c.height);
    const { data } = ctx.getImageData(0, 0, c.width, c.height);
    const hist = {};
    for (let i = 0; i < data.length; i += 4) {
      const key = `${data[i] >> 4},${data[i + 1] >> 4},${data[i + 2] >> 4}`;
      hist[key] = (hist[key] || 0) + 1;
    }
    return hist;
  });
}

function histogramDistance(a, b) {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  let d = 0;
  for (const k of keys) d += Math.abs((a[k] || 0) - (b[k] || 0));
  return d;
}

async function renderedCodes(layer) {
  return page.evaluate((l) => [...new Set(window.gapmap.map.queryRenderedFeatures({ layers: [l] }).map((f) => f.properties.code))], layer);
}

async function openMap(hash = '') {
  // Leave the page first: a hash-only change would not reload the app.
  await page.goto('about:blank');
  await page.goto(`${base}/map${hash}`);
  await page.waitForFunction(() => document.body.dataset.ready, null, { timeout: 120000 });
  assert.equal(await page.evaluate(() => document.body.dataset.ready), 'true', 'the map page failed to start');
  await idle();
}

before(async () => {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  ({ child: server, base } = await startServer());
  userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'gapmap-chromium-'));
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--disable-quic', '--no-first-run'],
    viewport: { width: 1280, height: 800 },
  });
  page = context.pages()[0] ?? await context.newPage();
  page.on('pageerror', (e) => pageErrors.push(e.message));
  // Offline by design: fail any request that leaves the server.
  await context.route((url) => !url.href.startsWith(base) && !url.href.startsWith('data:') && !url.href.startsWith('blob:'), (route) => {
    externalRequests.push(route.request().url());
    return route.abort();
  });
});

after(async () => {
  await context?.close().catch(() => {});
  if (server && server.exitCode === null) {
    server.kill('SIGINT');
    await new Promise((r) => { const t = setTimeout(() => { server.kill('SIGKILL'); r(); }, 5000); server.on('exit', () => { clearTimeout(t); r(); }); });
  }
  if (userDataDir) fs.rmSync(userDataDir, { recursive: true, force: true });
});

test('the map renders the region\'s LSOAs as a choropleth', async () => {
  await openMap();
  const codes = await renderedCodes('lsoa25-fill');
  const layer = await api('/web/api/lsoa-layer?year=2025');
  assert.equal(layer.status, 200);
  const total = layer.body.features.length;
  assert.ok(total > 0, 'the LSOA layer is empty');
  assert.ok(codes.length >= total * 0.9, `only ${codes.length} of ${total} LSOAs rendered`);
  const legend = await page.textContent('#legend');
  assert.match(legend, /1 = most deprived 10%/);
  const footer = await page.textContent('#attribution');
  for (const credit of ['Open Government Licence', 'OpenStreetMap', 'Give Food', 'Crown copyright']) {
    assert.ok(footer.includes(credit), `attribution lacks ${credit}`);
  }
  await shot('map-1280x800');
  assert.deepEqual(pageErrors, []);
  assert.deepEqual(externalRequests, [], 'the map must work offline: the OSM basemap is off by default');
  assert.equal(await page.isChecked('#show-basemap'), false);
});

test('switching domain and year changes the rendered colours', async () => {
  await openMap('#domain=imd&year=2025&mode=level');
  const imd = await canvasColours();
  await page.selectOption('#domain', 'crime');
  await idle();
  const crime = await canvasColours();
  assert.ok(histogramDistance(imd, crime) > 500, 'switching IMD → Crime did not change the map');
  assert.match(await page.evaluate(() => window.location.hash), /domain=crime/);
  await shot('map-crime-2025');

  await page.check('input[name=year][value="2019"]');
  await page.waitForFunction(() => window.gapmap.map.queryRenderedFeatures({ layers: ['lsoa19-fill'] }).length > 0, null, { timeout: 30000 });
  await idle();
  const crime2019 = await canvasColours();
  assert.ok(histogramDistance(crime, crime2019) > 500, 'switching 2025 → 2019 did not change the map');
  const codes2011 = await renderedCodes('lsoa19-fill');
  assert.ok(codes2011.length > 100, '2011 LSOAs not rendered');
  await shot('map-crime-2019');

  await page.check('input[name=mode][value="change"]');
  await idle();
  const change = await canvasColours();
  assert.ok(histogramDistance(crime2019, change) > 500, 'change mode did not change the map');
  assert.match(await page.textContent('#legend'), /largest mid-2015 population/);
  await shot('map-crime-change');
});

test('clicking an LSOA fills the panel with the API\'s values for it', async () => {
  // No asset symbols, so the click lands on the LSOA rather than on an asset.
  await openMap('#domain=imd&year=2025&mode=level&assets=');
  const target = await page.evaluate(() => {
    const f = window.gapmap.data.lsoa25.features.find((x) => x.properties.d_imd === 1) ?? window.gapmap.data.lsoa25.features[0];
    return { code: f.properties.code, lx: f.properties.lx, ly: f.properties.ly };
  });
  await page.evaluate(({ lx, ly }) => window.gapmap.map.jumpTo({ center: [lx, ly], zoom: 14 }), target);
  await idle();
  const point = await page.evaluate(({ lx, ly }) => {
    const p = window.gapmap.map.project([lx, ly]);
    const r = window.gapmap.map.getCanvas().getBoundingClientRect();
    return { x: r.left + p.x, y: r.top + p.y };
  }, target);
  const under = await page.evaluate(({ lx, ly }) => {
    const p = window.gapmap.map.project([lx, ly]);
    return window.gapmap.map.queryRenderedFeatures(p, { layers: ['lsoa25-fill'] })[0]?.properties.code;
  }, target);
  assert.equal(under, target.code, 'the interior point does not hit the LSOA');
  await page.mouse.click(point.x, point.y);
  await page.waitForSelector('#lsoa-deciles');
  const expected = await api(`/web/api/lsoa/${target.code}`);
  assert.equal(expected.status, 200);
  assert.match(await page.textContent('#panel-title'), new RegExp(target.code));
  const shown = await page.evaluate(() => Object.fromEntries([...document.querySelectorAll('#lsoa-deciles tr[data-indicator]')]
    .map((tr) => [tr.dataset.indicator, tr.querySelector('.d2025').textContent.trim()])));
  for (const ind of expected.body.indicators) {
    assert.equal(shown[ind.id], ind.decile === null ? '–' : String(ind.decile), `decile of ${ind.id}`);
  }
  const residents = (await page.textContent('#panel-residents')).replace(/[^0-9]/g, '');
  assert.equal(residents, String(expected.body.residents));
  // The OGC API's view of the same LSOA, where it is deployed.
  const ogc = await api(`/collections/lsoa/items/${target.code}`);
  if (ogc.status === 200) {
    const props = ogc.body.properties ?? {};
    for (const ind of expected.body.indicators) {
      const v = props[`${ind.id}_decile`];
      if (v !== undefined) assert.equal(shown[ind.id], v === null ? '–' : String(v), `${ind.id} decile differs from the OGC API`);
    }
    if (props.residents !== undefined) assert.equal(residents, String(props.residents), 'residents differ from the OGC API');
  }
  const distances = await page.$$eval('#lsoa-nearest tr[data-category] .distance', (tds) => tds.map((t) => t.textContent));
  assert.equal(distances.length, expected.body.nearest.length);
  assert.match(await page.evaluate(() => window.location.hash), new RegExp(`sel=lsoa:${target.code}`));
  await shot('panel-lsoa');

  // Shareable URL: a fresh load restores the selection.
  const hash = await page.evaluate(() => window.location.hash);
  await openMap(hash);
  await page.waitForSelector('#lsoa-deciles');
  assert.match(await page.textContent('#panel-title'), new RegExp(target.code));
});

test('search finds a ward, an LSOA and a postcode', async () => {
  await openMap();
  const someWard = (await api('/web/api/boundaries/wards')).body.features[0].properties;
  await page.fill('#search-input', someWard.name);
  await page.waitForSelector('#search-results li[data-i]');
  await page.press('#search-input', 'Enter');
  await page.waitForFunction((n) => document.querySelector('#panel-title')?.textContent.includes(n), someWard.name);
  assert.match(await page.evaluate(() => window.location.hash), new RegExp(`sel=ward:${someWard.code}`));
  await shot('panel-ward');

  const pc = await api('/search?q=OX4%206HW');
  assert.equal(pc.status, 200);
  if (pc.body.results.length) {
    assert.equal(pc.body.results[0].kind, 'postcode');
    await page.fill('#search-input', 'ox46hw');
    await page.waitForSelector('#search-results li[data-i]');
    await page.press('#search-input', 'Enter');
    await page.waitForFunction((c) => document.querySelector('#panel-title')?.textContent.includes(c), pc.body.results[0].lsoa);
  }
});

test('a gap query highlights exactly the LSOAs /gaps returns', async () => {
  await openMap('#domain=imd&year=2025&mode=level');
  const params = new URLSearchParams({ category: 'gp_practice', max_decile: '5', min_distance_m: '1000', domain: 'imd', year: '2025' });
  const direct = await fetch(`${base}/gaps?${params}`, { headers: { Accept: 'application/geo+json' } });
  assert.notEqual(direct.status, 404, 'GET /gaps is not implemented on this server (404): the planner endpoint is required for gap mode');
  assert.equal(direct.status, 200, `GET /gaps answered ${direct.status}`);
  const fc = await direct.json();
  const expected = fc.features.map((f) => f.properties?.code ?? f.properties?.lsoa21_code ?? f.id).sort();

  await page.selectOption('#gap-category', 'gp_practice');
  await page.selectOption('#gap-decile', '5');
  await page.fill('#gap-distance', '1000');
  await page.click('#gap-form button[type=submit]');
  await page.waitForSelector('#gap-summary, #gap-error');
  assert.equal(await page.$('#gap-error'), null, await page.textContent('#panel-body'));
  const highlighted = (await page.evaluate(() => window.gapmap.state.gapCodes)).slice().sort();
  assert.deepEqual(highlighted, expected);
  await page.evaluate(() => {
    const b = window.gapmap.meta.region.bbox;
    window.gapmap.map.fitBounds([[b[0], b[1]], [b[2], b[3]]], { duration: 0, padding: 10 });
  });
  await idle();
  const rendered = (await renderedCodes('gap-line')).sort();
  assert.deepEqual(rendered, [...new Set(expected)], 'the highlighted LSOAs differ from /gaps');
  const lsoas = (await page.textContent('#gap-summary [data-key=lsoas]')).replace(/[^0-9]/g, '');
  const summaryLsoas = fc.summary?.lsoas ?? fc.summary?.lsoa_count ?? fc.features.length;
  assert.equal(lsoas, String(summaryLsoas));
  if (typeof fc.summary?.wards === 'number') {
    assert.equal((await page.textContent('#gap-summary [data-key=wards]')).replace(/\(.*$/, '').replace(/[^0-9]/g, ''), String(fc.summary.wards));
  }
  if (typeof fc.summary?.residents === 'number') {
    assert.equal((await page.textContent('#gap-summary [data-key=residents]')).replace(/[^0-9]/g, ''), String(fc.summary.residents));
  }
  const csvHref = await page.getAttribute('#gap-csv', 'href');
  const csv = await fetch(`${base}${csvHref}`);
  assert.equal(csv.status, 200, 'CSV download failed');
  await shot('gap-mode');

  // Shareable URL: the gap query is in the hash and comes back on a fresh load.
  const hash = await page.evaluate(() => window.location.hash);
  assert.match(hash, /gap=gp_practice,5,1000/);
  await openMap(hash);
  await page.waitForSelector('#gap-summary, #gap-error');
  assert.deepEqual((await page.evaluate(() => window.gapmap.state.gapCodes)).slice().sort(), expected);
});

test('a ward profile opens and prints to A4 PDF', async () => {
  // The ward of the region's most deprived LSOA: the report has something to say.
  const lsoas = (await api('/web/api/lsoa-layer?year=2025')).body.features.map((f) => f.properties);
  const worst = lsoas.filter((l) => l.d_imd !== null && l.ward_code).sort((a, b) => a.d_imd - b.d_imd)[0];
  const ward = { code: worst.ward_code, name: worst.ward_name };
  await page.goto(`${base}/wards/${ward.code}`);
  await page.waitForFunction(() => document.body.dataset.ready, null, { timeout: 60000 });
  assert.equal(await page.evaluate(() => document.body.dataset.ready), 'true', await page.textContent('#report'));
  assert.match(await page.textContent('h1'), new RegExp(ward.name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
  assert.ok(await page.$('#decile-chart'), 'no domain chart');
  assert.ok(await page.$('#change-chart'), 'no change chart');
  assert.ok(await page.$('#asset-chart'), 'no asset chart');
  const expected = await api(`/web/api/ward/${ward.code}`);
  assert.equal((await page.textContent('#kf-residents')).replace(/[^0-9]/g, ''), String(expected.body.residents));
  await shot('ward-profile', true);
  const pdfPath = path.join(ARTIFACTS, 'ward-profile.pdf');
  const pdf = await page.pdf({ path: pdfPath, format: 'A4', printBackground: true });
  assert.ok(pdf.length > 10000, 'PDF is suspiciously small');
  assert.equal(pdf.subarray(0, 5).toString(), '%PDF-');
});

test('the map is usable at phone size and by keyboard', async () => {
  await page.setViewportSize({ width: 390, height: 844 });
  await openMap();
  assert.ok((await renderedCodes('lsoa25-fill')).length > 0);
  await page.click('#toggle-controls');
  assert.equal(await page.getAttribute('#toggle-controls', 'aria-expanded'), 'true');
  await shot('map-phone-controls');
  await page.click('#toggle-controls');
  await shot('map-phone');
  await page.setViewportSize({ width: 1280, height: 800 });
  // Keyboard: focus the map canvas and press Enter to select the area at the centre.
  await openMap('#map=13/51.73/-1.21');
  await page.focus('.maplibregl-canvas');
  await page.keyboard.press('Enter');
  await page.waitForSelector('#panel-title');
  const labelled = await page.$$eval('select, input', (els) => els.filter((e) => e.type !== 'hidden' && !e.labels?.length && !e.getAttribute('aria-label')).map((e) => e.id || e.name));
  assert.deepEqual(labelled, [], 'controls without labels');
});

test('vector tiles (OGC API – Tiles, MVT) render the same LSOAs', async () => {
  const r = await fetch(`${base}/collections/lsoa/tiles/WebMercatorQuad/8/127/85`);
  assert.equal(r.status, 200);
  assert.equal(r.headers.get('content-type'), 'application/vnd.mapbox-vector-tile');
  const body = Buffer.from(await r.arrayBuffer());
  assert.ok(body.length > 1000, 'the tile over Oxford is empty');
  assert.equal(body[0], 0x1a, 'not a Tile message (field 3, length-delimited)');
  assert.equal((await fetch(`${base}/collections/lsoa/tiles/WebMercatorQuad/3/99/0`)).status, 404);

  await openMap('#tiles=1&domain=imd&year=2025&mode=level');
  await page.waitForFunction(() => window.gapmap.map.queryRenderedFeatures({ layers: ['lsoa25-fill'] }).length > 0, null, { timeout: 30000 });
  await idle();
  const tiled = await renderedCodes('lsoa25-fill');
  const layer = await api('/web/api/lsoa-layer?year=2025');
  const all = new Set(layer.body.features.map((f) => f.properties.code));
  assert.ok(tiled.length >= all.size * 0.9, `only ${tiled.length} of ${all.size} LSOAs rendered from tiles`);
  assert.ok(tiled.every((c) => all.has(c)), 'a tile holds an LSOA outside the region');
  const sample = await page.evaluate(() => window.gapmap.map.queryRenderedFeatures({ layers: ['lsoa25-fill'] })[0].properties);
  const geo = layer.body.features.find((f) => f.properties.code === sample.code).properties;
  for (const k of ['d_imd', 'd_health', 'residents', 'ward_code']) assert.equal(sample[k], geo[k], `${k} differs between tile and GeoJSON`);
  await shot('map-vector-tiles');
});
