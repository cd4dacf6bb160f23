// End-to-end tests of the planner's map in real headless Chromium.
//
//   cd web && npm ci && GAPMAP_BIN=../target/debug/gapmap node --test tests/
//
// Starts the real server binary (GAPMAP_BIN, default ../target/debug/gapmap)
// with `serve --bind 127.0.0.1:0 --quiet --state-dir TMP` from the repository
// root (so the default data directory ../shared/geodata resolves; the
// community asset register lives in a fresh temporary directory, with tokens
// made by `gapmap token add`), drives Debian's
// /usr/bin/chromium (CHROMIUM_PATH to override) through playwright-core, and
// saves screenshots and a PDF to test-artifacts/ (GAPMAP_ARTIFACTS).
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
const START_TIMEOUT_MS = Number(process.env.GAPMAP_START_TIMEOUT_MS ?? 300000);

let server;
let base;
let context;
let page;
let userDataDir;
let stateDir;
const tokens = {}; // register tokens by name, from `gapmap token add`
const pageErrors = [];
const externalRequests = [];

function startServer(extraArgs = [], dir = stateDir) {
  return new Promise((resolve, reject) => {
    if (!fs.existsSync(BIN)) {
      reject(new Error(`server binary not found at ${BIN}: build it with \`cargo build --release\` or set GAPMAP_BIN`));
      return;
    }
    const child = spawn(BIN, ['serve', '--bind', '127.0.0.1:0', '--quiet', '--state-dir', dir, ...extraArgs], {
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
  stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'gapmap-state-'));
  if (fs.existsSync(BIN)) {
    for (const name of ['e2e-editor', 'e2e-other']) {
      // The token is the one line on stdout (the notice goes to stderr).
      tokens[name] = execFileSync(BIN, ['token', 'add', '--name', name, '--role', 'editor', '--state-dir', stateDir], {
        cwd: repoDir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'],
      }).trim();
      assert.match(tokens[name], /^gm_[0-9a-f]{16}_[0-9a-f]{64}$/);
    }
  }
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
  if (stateDir) fs.rmSync(stateDir, { recursive: true, force: true });
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

test('the gap defaults and the ward summary rule appear on the map and the ward page', async () => {
  const meta = (await api('/web/api/meta')).body;
  const { max_decile: dec, min_distance_m: dist } = meta.gap_defaults;
  const metres = Number(dist).toLocaleString('en-GB');
  await openMap();
  const hint = await page.textContent('#gap-defaults');
  assert.match(hint, new RegExp(`decile ${dec} or below.*${metres} m`));
  assert.equal(await page.inputValue('#gap-decile'), String(dec));
  assert.equal(await page.inputValue('#gap-distance'), String(dist));
  // Northfield Brook; the map's thresholds carry into the profile link.
  await page.goto(`${base}/wards/E05013110`);
  await page.waitForFunction(() => document.body.dataset.ready, null, { timeout: 60000 });
  const line = await page.textContent('#gap-thresholds');
  assert.match(line, new RegExp(`decile ${dec} or below and mean distance to the nearest asset at least ${metres} m`));
  assert.match(await page.textContent('#summary-rule'), /not averaged/);
  assert.match(await page.textContent('#england-note'), /5\.5 as a plain mean of LSOA deciles and 5\.46 weighted by Census 2021 residents/);
  await page.goto(`${base}/wards/E05013110?max_decile=5&min_distance_m=900`);
  await page.waitForFunction(() => document.body.dataset.ready, null, { timeout: 60000 });
  assert.match(await page.textContent('#gap-thresholds'), /decile 5 or below and mean distance to the nearest asset at least 900 m/);
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

// ------------------------------------------------------------ the register

/** The page coordinates of a lon/lat on the map. */
async function pixelOf(lon, lat) {
  return page.evaluate(([x, y]) => {
    const p = window.gapmap.map.project([x, y]);
    const r = window.gapmap.map.getCanvas().getBoundingClientRect();
    return { x: r.left + p.x, y: r.top + p.y };
  }, [lon, lat]);
}

/** The map canvas's colour at a lon/lat, as [r, g, b]. */
async function colourAt(lon, lat) {
  return page.evaluate(([x, y]) => {
    const { map } = window.gapmap;
    const p = map.project([x, y]);
    const src = map.getCanvas();
    const c = document.createElement('canvas');
    c.width = src.width;
    c.height = src.height;
    const ctx = c.getContext('2d');
    ctx.drawImage(src, 0, 0);
    const k = src.width / src.clientWidth;
    return [...ctx.getImageData(Math.round(p.x * k), Math.round(p.y * k), 1, 1).data.slice(0, 3)];
  }, [lon, lat]);
}

/** Metres between two lon/lat points (equirectangular: fine at these distances). */
function metres([lon1, lat1], [lon2, lat2]) {
  const k = Math.PI / 180;
  const x = (lon2 - lon1) * k * Math.cos(((lat1 + lat2) / 2) * k);
  const y = (lat2 - lat1) * k;
  return Math.hypot(x, y) * 6371008.8;
}

async function registerItems() {
  const r = await fetch(`${base}/collections/register/items?limit=1000`, { headers: { Accept: 'application/geo+json' }, cache: 'no-store' });
  assert.equal(r.status, 200);
  return (await r.json()).features;
}

async function gapsNow(params) {
  const r = await fetch(`${base}/gaps?${params}`, { headers: { Accept: 'application/geo+json' } });
  assert.equal(r.status, 200);
  return (await r.json()).features.map((f) => f.properties.lsoa21_code ?? f.properties.code).sort();
}

async function renderedEntries() {
  await idle();
  return page.evaluate(() => window.gapmap.map.queryRenderedFeatures({ layers: ['register-points'] }).map((f) => f.properties));
}

test('the register: sign in with a token, add an entry by clicking the map, edit it, see its history', async () => {
  assert.ok(tokens['e2e-editor'], 'no token was made');
  const token = tokens['e2e-editor'];
  const requests = [];
  const onRequest = (r) => requests.push({ url: r.url(), method: r.method(), headers: r.headers() });
  page.on('request', onRequest);
  try {
    // The gap view the entry should change: GP practices more than 1 km away,
    // any decile. The entry goes in the most compact LSOA on that list, at its
    // interior point, so the LSOA's residents end up within 1 km of it.
    const params = new URLSearchParams({ category: 'gp_practice', max_decile: '10', min_distance_m: '1000', domain: 'imd', year: '2025' });
    const gapsBefore = await gapsNow(params);
    assert.ok(gapsBefore.length > 0, 'no GP gaps to close');
    const layer = (await api('/web/api/lsoa-layer?year=2025')).body.features;
    const span = (f) => {
      const xs = [];
      const ys = [];
      const walk = (c) => { if (typeof c[0] === 'number') { xs.push(c[0]); ys.push(c[1]); } else c.forEach(walk); };
      walk(f.geometry.coordinates);
      return metres([Math.min(...xs), Math.min(...ys)], [Math.max(...xs), Math.max(...ys)]);
    };
    const target = layer.filter((f) => gapsBefore.includes(f.properties.code)).sort((a, b) => span(a) - span(b))[0].properties;
    assert.ok(span(layer.find((f) => f.properties.code === target.code)) < 1500, `the most compact gap LSOA ${target.code} is too large`);

    await openMap(`#domain=imd&year=2025&mode=level&assets=&gap=gp_practice,10,1000&map=15/${target.ly}/${target.lx}`);
    await page.waitForSelector('#gap-summary');
    assert.ok((await page.evaluate(() => window.gapmap.state.gapCodes)).includes(target.code));
    assert.match(await page.textContent('#register-source'), /register.*OGL/);
    assert.match(await page.textContent('#attribution'), /Community asset register/);
    assert.deepEqual(await renderedEntries(), [], 'the register starts empty');

    // Sign in: a wrong token is refused; the right one shows its name and role.
    await page.fill('#register-token', `${token.slice(0, -1)}${token.endsWith('0') ? '1' : '0'}`);
    await page.click('#register-signin button[type=submit]');
    await page.waitForFunction(() => document.querySelector('#register-signin-error').textContent.length > 0);
    assert.match(await page.textContent('#register-signin-error'), /not a valid/);
    assert.equal(await page.evaluate(() => window.sessionStorage.length), 0);
    await page.fill('#register-token', token);
    await page.click('#register-signin button[type=submit]');
    await page.waitForSelector('#register-signed-in:not([hidden])');
    assert.equal(await page.textContent('#register-who'), 'e2e-editor');
    assert.equal(await page.textContent('#register-role'), '(editor)');
    assert.equal(await page.inputValue('#register-token'), '', 'the token stays in the input');

    // Add: the form, a click on the map, and a bad opening time first.
    await page.click('#register-add');
    await page.waitForSelector('#register-form');
    const at = await pixelOf(target.lx, target.ly);
    await page.mouse.click(at.x, at.y);
    await page.waitForSelector('#register-point');
    const shown = (await page.textContent('#register-point')).split(',').map(Number);
    assert.ok(metres([shown[1], shown[0]], [target.lx, target.ly]) < 5, `the clicked point ${shown} is not where the map was clicked`);
    await page.fill('#rf-name', 'E2E pop-up surgery');
    await page.selectOption('#rf-category', 'gp_practice');
    await page.fill('#rf-opening_hours', 'whenever');
    await page.fill('#rf-capacity', '25');
    await page.click('#register-form button[type=submit]');
    await page.waitForFunction(() => document.querySelector('#err-opening_hours').textContent.length > 0);
    // The server's own words for that body, next to the field it names.
    const direct = await fetch(`${base}/collections/register/items`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/geo+json', Authorization: `Bearer ${token}` },
      body: JSON.stringify({ type: 'Feature', geometry: { type: 'Point', coordinates: [shown[1], shown[0]] }, properties: { name: 'x', category: 'gp_practice', opening_hours: 'whenever' } }),
    });
    assert.equal(direct.status, 400);
    const expected = await direct.json();
    assert.equal(expected.parameter, 'opening_hours');
    assert.equal(await page.textContent('#err-opening_hours'), expected.detail);
    assert.equal(await page.getAttribute('#rf-opening_hours', 'aria-invalid'), 'true');
    await shot('register-form-error');
    assert.equal((await registerItems()).length, 0, 'a refused entry was written');

    await page.fill('#rf-opening_hours', 'Mo-Fr 09:00-17:00');
    await page.click('#register-form button[type=submit]');
    await page.waitForFunction(() => /Added/.test(document.querySelector('#register-status').textContent));
    let items = await registerItems();
    assert.equal(items.length, 1);
    const [entry] = items;
    assert.equal(entry.id, 'register-1');
    assert.equal(entry.properties.name, 'E2E pop-up surgery');
    assert.equal(entry.properties.category, 'gp_practice');
    assert.equal(entry.properties.capacity, 25);
    assert.equal(entry.properties.opening_hours, 'Mo-Fr 09:00-17:00');
    assert.equal(entry.properties.created_by, 'e2e-editor');
    assert.equal(entry.properties.lsoa21, target.code);
    assert.ok(metres(entry.geometry.coordinates, [shown[1], shown[0]]) < 0.5, 'the stored point is not the clicked one');
    const post = requests.find((r) => r.method === 'POST' && r.url.endsWith('/collections/register/items') && r.headers.authorization);
    assert.equal(post.headers.authorization, `Bearer ${token}`);

    // In the layer (open today: filled black), and the gap view followed without a reload.
    const gapsAfter = await gapsNow(params);
    assert.ok(!gapsAfter.includes(target.code), `${target.code} is still a gap on the server`);
    assert.deepEqual((await page.evaluate(() => window.gapmap.state.gapCodes)).slice().sort(), gapsAfter);
    let rendered = await renderedEntries();
    assert.deepEqual(rendered.map((p) => [p.id, p.name, p.open_today]), [['register-1', 'E2E pop-up surgery', true]]);
    await page.click('.maplibregl-popup-close-button');
    await idle();
    const dark = await colourAt(...entry.geometry.coordinates);
    assert.ok(dark.every((v) => v < 60), `an open entry is drawn filled black, not rgb(${dark})`);
    await shot('register-added');

    // The token: in this tab's session storage, nowhere else.
    assert.equal(await page.evaluate(() => window.sessionStorage.getItem('gapmap.register.token')), token);
    const local = await page.evaluate(() => Object.entries(window.localStorage).flat().join('\n'));
    assert.ok(!local.includes(token.slice(3, 19)), 'the token is in localStorage');
    assert.ok(!(await page.evaluate(() => window.location.href)).includes(token.slice(3, 19)), 'the token is in the URL');
    assert.ok(!(await page.content()).includes(token.slice(3, 19)), 'the token is in the page');
    assert.deepEqual(requests.filter((r) => r.url.includes(token.slice(3, 19))).map((r) => r.url), [], 'the token went into a URL');

    // Edit from the entry's popup: If-Match carries the ETag the popup read.
    await page.reload();
    await page.waitForFunction(() => document.body.dataset.ready, null, { timeout: 120000 });
    await page.waitForSelector('#register-signed-in:not([hidden])');
    assert.equal(await page.textContent('#register-who'), 'e2e-editor', 'the sign-in did not survive a reload of the tab');
    await idle();
    let p = await pixelOf(...entry.geometry.coordinates);
    await page.mouse.click(p.x, p.y);
    await page.waitForSelector('.register-popup [data-act=edit]');
    assert.match(await page.textContent('.register-popup'), /Source: register — GapMap community asset register, OGL-UK-3\.0/);
    const etag1 = (await fetch(`${base}/collections/register/items/register-1`)).headers.get('etag');
    await page.click('.register-popup [data-act=edit]');
    await page.waitForSelector('#register-form');
    assert.equal(await page.inputValue('#rf-capacity'), '25');
    await page.fill('#rf-name', 'E2E surgery (Tuesdays)');
    await page.fill('#rf-capacity', '30');
    await page.click('#register-form button[type=submit]');
    await page.waitForFunction(() => /Saved/.test(document.querySelector('#register-status').textContent));
    const patch = requests.filter((r) => r.method === 'PATCH').at(-1);
    // The same entity tag; each content coding has its own suffix (the
    // browser was sent brotli, Node's fetch gzip), and If-Match compares
    // the entry's version.
    const plainTag = (t) => t.replace(/\.(br|gzip)"$/, '"');
    assert.equal(plainTag(patch.headers['if-match']), plainTag(etag1));
    items = await registerItems();
    assert.equal(items[0].properties.version, 2);
    assert.equal(items[0].properties.name, 'E2E surgery (Tuesdays)');
    assert.equal(items[0].properties.capacity, 30);
    assert.deepEqual(items[0].geometry.coordinates, entry.geometry.coordinates, 'an edit without a move moved the entry');
    rendered = await renderedEntries();
    assert.deepEqual(rendered.map((x) => [x.id, x.name, x.capacity]), [['register-1', 'E2E surgery (Tuesdays)', 30]]);

    // Someone else changes it while the form is open: 412, reloaded, their change shown.
    await page.click('.register-popup [data-act=edit]');
    await page.waitForSelector('#register-form');
    const theirs = await fetch(`${base}/collections/register/items/register-1`, {
      method: 'PATCH',
      headers: { 'Content-Type': 'application/merge-patch+json', Authorization: `Bearer ${tokens['e2e-other']}` },
      body: JSON.stringify({ properties: { description: 'Run by the Tuesday club' } }),
    });
    assert.equal(theirs.status, 200);
    await page.fill('#rf-capacity', '40');
    await page.click('#register-form button[type=submit]');
    await page.waitForSelector('#register-notice');
    assert.match(await page.textContent('#register-notice'), /someone else changed this entry.*version 3, by e2e-other/);
    assert.equal(await page.inputValue('#rf-description'), 'Run by the Tuesday club');
    assert.equal((await registerItems())[0].properties.capacity, 30, 'the stale write changed the entry');
    await page.fill('#rf-capacity', '40');
    await page.click('#register-form button[type=submit]');
    await page.waitForFunction(() => /version 4/.test(document.querySelector('#register-status').textContent));
    items = await registerItems();
    assert.equal(items[0].properties.capacity, 40);
    assert.equal(items[0].properties.description, 'Run by the Tuesday club');

    // History: who, when, what changed, newest first; as the server's history says.
    await page.click('.register-popup [data-act=history]');
    await page.waitForSelector('#register-history li[data-seq]');
    const history = (await api('/collections/register/items/register-1/history')).body;
    assert.equal(history.changes.length, 4);
    const listed = await page.$$eval('#register-history > li', (lis) => lis.map((li) => ({
      seq: li.dataset.seq,
      action: li.dataset.action,
      actor: li.querySelector('.actor').textContent,
      at: li.querySelector('time').getAttribute('datetime'),
      fields: [...li.querySelectorAll('li[data-field]')].map((x) => x.dataset.field).sort(),
      text: li.textContent.replace(/\s+/g, ' '),
    })));
    assert.deepEqual(listed.map((l) => [l.seq, l.action, l.actor, l.at]),
      history.changes.slice().reverse().map((c) => [String(c.seq), c.action, c.actor, c.at]));
    assert.deepEqual(listed.map((l) => l.actor), ['e2e-editor', 'e2e-other', 'e2e-editor', 'e2e-editor']);
    assert.deepEqual(listed[0].fields, ['capacity']);
    assert.match(listed[0].text, /Capacity: 30 → 40/);
    assert.deepEqual(listed[1].fields, ['description']);
    assert.deepEqual(listed[2].fields, ['capacity', 'name']);
    assert.match(listed[2].text, /Name: E2E pop-up surgery → E2E surgery \(Tuesdays\)/);
    assert.equal(listed[3].action, 'create');
    assert.ok(listed[3].fields.includes('location') && listed[3].fields.includes('opening_hours'));
    await shot('register-history');

    // Close it (last day open: yesterday): drawn as closed, and the gap is back.
    const y = new Date(Date.now() - 86400000);
    const yesterday = `${y.getFullYear()}-${String(y.getMonth() + 1).padStart(2, '0')}-${String(y.getDate()).padStart(2, '0')}`;
    await page.click('.register-popup [data-act=close]');
    await page.fill('#register-close-date', yesterday);
    await page.click('.register-popup [data-act=close-yes]');
    await page.waitForFunction(() => /Closed/.test(document.querySelector('#register-status').textContent));
    items = await registerItems();
    assert.equal(items[0].properties.valid_to, yesterday);
    assert.equal(items[0].properties.open_today, false);
    assert.deepEqual((await page.evaluate(() => window.gapmap.state.gapCodes)).slice().sort(), await gapsNow(params));
    rendered = await renderedEntries();
    assert.deepEqual(rendered.map((x) => [x.id, x.open_today]), [['register-1', false]]);
    await page.click('.maplibregl-popup-close-button');
    await idle();
    const white = await colourAt(...entry.geometry.coordinates);
    assert.ok(white.every((v) => v > 230), `a closed entry is drawn hollow (white), not rgb(${white})`);

    // Delete it from its popup: gone from the layer, history kept.
    p = await pixelOf(...entry.geometry.coordinates);
    await page.mouse.click(p.x, p.y);
    await page.waitForSelector('.register-popup [data-act=delete]');
    await page.click('.register-popup [data-act=delete]');
    await page.click('.register-popup [data-act=delete-yes]');
    await page.waitForFunction(() => /Deleted/.test(document.querySelector('#register-status').textContent));
    assert.equal((await registerItems()).length, 0);
    assert.deepEqual(await renderedEntries(), []);
    const kept = (await api('/collections/register/items/register-1/history')).body;
    assert.equal(kept.deleted, true);
    assert.equal(kept.changes.at(-1).actor, 'e2e-editor');

    // Sign out: the token leaves the tab, and writing is offered no more.
    await page.click('#register-signout');
    assert.equal(await page.evaluate(() => window.sessionStorage.getItem('gapmap.register.token')), null);
    assert.equal(await page.isVisible('#register-add'), false);
    assert.equal(await page.isVisible('#register-signin'), true);
    assert.deepEqual(pageErrors, []);
  } finally {
    page.off('request', onRequest);
  }
});

test('an entry placed by postcode lands on the postcode', async () => {
  const found = await api('/search?q=OX4%206HW');
  if (!found.body.results?.length) return; // no Code-Point Open in this data set
  const pc = found.body.results[0];
  await openMap(`#assets=&map=15/${pc.lat}/${pc.lon}`);
  await page.fill('#register-token', tokens['e2e-editor']);
  await page.click('#register-signin button[type=submit]');
  await page.waitForSelector('#register-signed-in:not([hidden])');
  await page.click('#register-add');
  await page.waitForSelector('#register-form');
  await page.fill('#rf-name', 'Larder by postcode');
  await page.selectOption('#rf-category', 'community_larder');
  await page.fill('#rf-postcode', 'OX4 6HW');
  await page.click('#register-form button[type=submit]');
  await page.waitForFunction(() => /Added/.test(document.querySelector('#register-status').textContent));
  const items = await registerItems();
  const larder = items.find((f) => f.properties.name === 'Larder by postcode');
  assert.ok(larder, 'not stored');
  assert.ok(metres(larder.geometry.coordinates, [pc.lon, pc.lat]) < 1, `placed ${larder.geometry.coordinates}, the postcode is at ${pc.lon},${pc.lat}`);
  assert.deepEqual((await renderedEntries()).map((x) => x.name), ['Larder by postcode']);
  // The register-only category appears in its own category and in the assets layer.
  const assets = (await api('/web/api/assets')).body.features.filter((f) => f.properties.source === 'register');
  assert.deepEqual(assets.map((f) => [f.properties.name, f.properties.category]), [['Larder by postcode', 'community_larder']]);
  await page.click('#register-signout');
});

test('a server that shares data only with signed-in users: the map asks for a token, then sends it with every request', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gapmap-state-private-'));
  const viewer = execFileSync(BIN, ['token', 'add', '--name', 'e2e-viewer', '--role', 'viewer', '--state-dir', dir], {
    cwd: repoDir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'],
  }).trim();
  const { child, base: privateBase } = await startServer(['--read-access', 'token'], dir);
  const tab = await context.newPage();
  // The context fails requests to any other origin than the first server;
  // this page's own handler (which Playwright asks first) lets this one's through.
  await tab.route((url) => url.href.startsWith(privateBase), (route) => route.continue());
  const requests = [];
  tab.on('request', (r) => requests.push({ url: r.url(), headers: r.headers() }));
  try {
    // The data itself is refused without a token…
    const refused = await fetch(`${privateBase}/web/api/meta`, { headers: { Accept: 'application/json' } });
    assert.equal(refused.status, 401);
    assert.match(refused.headers.get('content-type'), /problem\+json/);
    // So is the landing document for API clients…
    const landing = await fetch(`${privateBase}/`, { headers: { Accept: 'application/json' } });
    assert.equal(landing.status, 401);
    // …but a browser opening the root gets the map page (no data in it),
    // as at /map, and the page asks for a token.
    const root = await fetch(`${privateBase}/`, { headers: { Accept: 'text/html,application/xhtml+xml,*/*;q=0.8' } });
    assert.equal(root.status, 200);
    assert.match(root.headers.get('content-type'), /text\/html/);
    await tab.goto(`${privateBase}/`);
    await tab.waitForSelector('#signin-gate[open]');
    await tab.goto(`${privateBase}/map`);
    await tab.waitForSelector('#signin-gate[open]');
    await tab.fill('#signin-gate-token', `${viewer.slice(0, -1)}${viewer.endsWith('0') ? '1' : '0'}`);
    await tab.click('#signin-gate button[type=submit]');
    await tab.waitForFunction(() => document.querySelector('#signin-gate-error').textContent.length > 0);
    assert.match(await tab.textContent('#signin-gate-error'), /not a valid token/);
    await tab.fill('#signin-gate-token', viewer);
    await tab.click('#signin-gate button[type=submit]');
    await tab.waitForFunction(() => document.body.dataset.ready, null, { timeout: 120000 });
    assert.equal(await tab.evaluate(() => document.body.dataset.ready), 'true', 'the map did not start after signing in');
    assert.equal(await tab.locator('#signin-gate').count(), 0, 'the sign-in form stayed');
    await tab.evaluate(() => new Promise((resolve) => { const { map } = window.gapmap; if (map.loaded()) resolve(); else map.once('idle', resolve); }));
    const lsoas = await tab.evaluate(() => window.gapmap.map.queryRenderedFeatures({ layers: ['lsoa25-fill'] }).length);
    assert.ok(lsoas > 0, 'no LSOAs drawn with the token');
    // Every data request after signing in carried the token (MapLibre's too).
    const data = requests.filter((r) => r.url.startsWith(privateBase) && !r.url.includes('/web/static/') && !r.url.includes('/web/vendor/') && !r.url.endsWith('/map'));
    const after = data.slice(data.findIndex((r) => r.url.endsWith('/register/session')) + 1);
    assert.ok(after.length > 0, 'no data requests after signing in');
    for (const r of after) assert.equal(r.headers.authorization, `Bearer ${viewer}`, r.url);
    // The printable ward page works the same way in this tab (same session).
    const meta = await (await fetch(`${privateBase}/web/api/meta`, { headers: { Accept: 'application/json', Authorization: `Bearer ${viewer}` } })).json();
    const ward = (await (await fetch(`${privateBase}/web/api/boundaries/wards`, { headers: { Accept: 'application/json', Authorization: `Bearer ${viewer}` } })).json()).features[0].properties.code;
    assert.ok(meta.region && ward);
    await tab.goto(`${privateBase}/wards/${ward}`);
    await tab.waitForFunction(() => document.body.dataset.ready, null, { timeout: 60000 });
    assert.equal(await tab.evaluate(() => document.body.dataset.ready), 'true');
  } finally {
    await tab.close();
    child.kill('SIGINT');
    await new Promise((r) => { const t = setTimeout(() => { child.kill('SIGKILL'); r(); }, 5000); child.on('exit', () => { clearTimeout(t); r(); }); });
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
