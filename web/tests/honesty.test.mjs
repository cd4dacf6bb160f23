// Issue 14: the planner's map answers the question honestly. One test per
// defect, in real headless Chromium against the real server (as
// e2e.test.mjs: GAPMAP_BIN, CHROMIUM_PATH, GAPMAP_ARTIFACTS). Screenshots
// go to test-artifacts/ (gitignored): the gap view with no-data coverage
// and the phone layout.
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
let stateDir;
const pageErrors = [];

function startServer() {
  return new Promise((resolve, reject) => {
    if (!fs.existsSync(BIN)) {
      reject(new Error(`server binary not found at ${BIN}: build it or set GAPMAP_BIN`));
      return;
    }
    const child = spawn(BIN, ['serve', '--bind', '127.0.0.1:0', '--quiet', '--state-dir', stateDir], {
      cwd: repoDir,
      env: { ...process.env, GAPMAP_WEB_DIR: process.env.GAPMAP_WEB_DIR ?? webDir },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`server did not start\n${err.slice(-2000)}`)); }, START_TIMEOUT_MS);
    child.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/GapMap serving .* at (http:\/\/[^\s/]+)\//);
      if (m) { clearTimeout(timer); resolve({ child, base: m[1] }); }
    });
    child.stderr.on('data', (d) => { err += d; if (err.length > 100000) err = err.slice(-50000); });
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`server exited with ${code}\n${err.slice(-2000)}`)); });
  });
}

async function api(url) {
  const r = await fetch(`${base}${url}`, { headers: { Accept: 'application/json' } });
  assert.equal(r.status, 200, `${url}: HTTP ${r.status}`);
  return r.json();
}

async function shot(name, fullPage = false) {
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage });
}

async function idle(p = page) {
  await p.evaluate(() => new Promise((resolve) => {
    const { map } = window.gapmap;
    if (map.loaded() && !map.isMoving()) { map.triggerRepaint(); map.once('idle', resolve); } else map.once('idle', resolve);
  }));
}

async function openMap(hash = '') {
  await page.goto('about:blank');
  await page.goto(`${base}/map${hash}`);
  await page.waitForFunction(() => document.body.dataset.ready, null, { timeout: 120000 });
  assert.equal(await page.evaluate(() => document.body.dataset.ready), 'true', 'the map page failed to start');
  await idle();
}

async function renderedCodes(layer) {
  return page.evaluate((l) => [...new Set(window.gapmap.map.queryRenderedFeatures({ layers: [l] }).map((f) => f.properties.code))].sort(), layer);
}

async function fitRegion() {
  await page.evaluate(() => {
    const b = window.gapmap.meta.region.bbox;
    window.gapmap.map.fitBounds([[b[0], b[1]], [b[2], b[3]]], { duration: 0, padding: 10 });
  });
  await idle();
}

async function runGapForm(category, decile, metres) {
  await page.selectOption('#gap-category', category);
  await page.selectOption('#gap-decile', String(decile));
  await page.fill('#gap-distance', String(metres));
  await page.click('#gap-form button[type=submit]');
  await page.waitForSelector('#gap-title, #gap-error');
}

/** Parses a CSV (quoted fields allowed) into rows of strings. */
function parseCsv(text) {
  const rows = [];
  let row = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { field += '"'; i += 1; } else if (c === '"') quoted = false; else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') { row.push(field); field = ''; } else if (c === '\n') { row.push(field); rows.push(row); row = []; field = ''; } else if (c !== '\r') field += c;
  }
  if (field || row.length) { row.push(field); rows.push(row); }
  return rows;
}

before(async () => {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'gapmap-state-honesty-'));
  ({ child: server, base } = await startServer());
  userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'gapmap-chromium-honesty-'));
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--disable-quic', '--no-first-run'],
    viewport: { width: 1280, height: 800 },
  });
  page = context.pages()[0] ?? await context.newPage();
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await context.route((url) => !url.href.startsWith(base) && !url.href.startsWith('data:') && !url.href.startsWith('blob:'), (route) => route.abort());
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

test('defect 1: "no data" is the headline of a gap query, hatched on the map, and in the exports', async () => {
  await openMap('#domain=imd&year=2025&mode=level');
  await runGapForm('park', 2, 400);
  const fc = await api('/gaps?category=park&max_decile=2&min_distance_m=400&domain=imd&year=2025');
  const unanswered = fc.cannot_answer.features.map((f) => f.properties.lsoa21_code).sort();
  assert.equal(unanswered.length, 11);
  assert.equal(fc.features.length, 0);
  const headline = await page.textContent('#gap-headline');
  assert.match(headline, /^Cannot answer for 11 of 11 deprived LSOAs: no park data there/);
  // The headline comes before the zero counts, in larger type.
  const sizes = await page.evaluate(() => [getComputedStyle(document.querySelector('#gap-headline')).fontSize, getComputedStyle(document.querySelector('#gap-summary dd')).fontSize].map(parseFloat));
  assert.ok(sizes[0] > sizes[1], `headline ${sizes[0]} px, counts ${sizes[1]} px`);
  // The no-data LSOAs are hatched on the map and listed in the panel.
  await fitRegion();
  assert.deepEqual(await renderedCodes('nodata-fill'), unanswered);
  const listed = (await page.$$eval('#cannot-answer-list [data-lsoa]', (as) => as.map((a) => a.dataset.lsoa))).sort();
  assert.deepEqual(listed, unanswered);
  assert.match(await page.textContent('#legend'), /no data: the query cannot answer here/i);
  // The CSV download lists them with the reason.
  const csv = parseCsv(await (await fetch(`${base}${await page.getAttribute('#gap-csv', 'href')}`)).text());
  const [header, ...rows] = csv;
  const col = (n) => header.indexOf(n);
  assert.deepEqual(rows.map((r) => r[col('lsoa21_code')]).sort(), unanswered);
  for (const r of rows) {
    assert.equal(r[col('status')], 'no_data');
    assert.match(r[col('reason')], /^no data: source covers/);
  }
  await shot('gap-no-data-parks');
  assert.deepEqual(pageErrors, []);
});

test('defect 3: the ward profile uses the map\'s thresholds and says "no data" per category', async () => {
  // Banbury Ruscote with the map's GP gap (decile <= 2, 1,000 m).
  await openMap('#sel=ward:E05010924&gap=gp_practice,2,1000');
  const fc = await api('/gaps?category=gp_practice&max_decile=2&min_distance_m=1000');
  const expected = fc.features.filter((f) => f.properties.ward_code === 'E05010924').map((f) => f.properties.lsoa21_code).sort();
  assert.equal(expected.length, 2);
  // The gap panel names wards, not codes only.
  assert.match(await page.textContent('#gap-summary [data-key=wards]'), /Banbury Ruscote/);
  await page.evaluate(() => window.gapmap.selectWard('E05010924'));
  await page.waitForSelector('#ward-profile-link');
  const href = await page.getAttribute('#ward-profile-link', 'href');
  assert.match(href, /max_decile=2&min_distance_m=1000/);
  await page.goto(`${base}${href}`);
  await page.waitForFunction(() => document.body.dataset.ready, null, { timeout: 60000 });
  const gp = await page.textContent('#gaps-table tr[data-category=gp_practice]');
  for (const code of expected) assert.ok(gp.includes(code), `${code} missing from the GP row: ${gp}`);
  assert.match(gp, /2 gap LSOAs/);
  assert.equal(await page.getAttribute('#gaps-table tr[data-category=park]', 'data-status'), 'no_data');
  assert.match(await page.textContent('#gaps-table tr[data-category=park]'), /No data/);
  assert.doesNotMatch(await page.textContent('#report'), /No gaps in this ward for any category/);
});

test('defect 6: a source\'s caveat shows wherever its figures do (food banks: head offices only)', async () => {
  const foodbank = (await api('/web/api/meta')).sources.find((s) => s.id === 'givefood');
  assert.match(foodbank.coverage.description, /head offices/);
  // Blackbird Leys: the LSOA panel's nearest food bank.
  await openMap('#sel=lsoa:E01028568');
  await page.waitForSelector('#lsoa-nearest');
  assert.match(await page.textContent('#lsoa-nearest tr[data-category=food_bank]'), /head offices/);
  // The gap panel for food banks.
  await runGapForm('food_bank', 2, 1600);
  assert.match(await page.textContent('#panel-body'), /head offices/);
  // The ward profile's access table.
  await page.goto(`${base}/wards/E05013110`);
  await page.waitForFunction(() => document.body.dataset.ready, null, { timeout: 60000 });
  assert.match(await page.textContent('#access-table tr[data-category=food_bank]'), /head offices/);
});

test('defect 2: coverage areas are labelled by source and vintage, each in its own style', async () => {
  await openMap('#assets=community_centre,food_bank,park');
  const meta = await api('/web/api/meta');
  const legend = await page.textContent('#coverage-legend');
  const shown = ['oxford_cc', 'givefood', 'osm'].map((id) => meta.sources.find((s) => s.id === id));
  for (const s of shown) {
    assert.ok(legend.includes(s.title), `legend lacks ${s.title}`);
    assert.ok(legend.includes(s.vintage), `legend lacks ${s.vintage}`);
  }
  const styles = await page.evaluate((ids) => ids.map((id) => JSON.stringify([
    window.gapmap.map.getPaintProperty(`coverage-${id}`, 'line-color'),
    window.gapmap.map.getPaintProperty(`coverage-${id}`, 'line-dasharray'),
  ])), shown.map((s) => s.id));
  assert.equal(new Set(styles).size, shown.length, `coverage styles repeat: ${styles}`);
  // Hovering an outline names its source.
  const osm = shown.find((s) => s.id === 'osm');
  const [x0, y0] = osm.coverage.bbox;
  await page.evaluate(([x, y]) => window.gapmap.map.jumpTo({ center: [x, y], zoom: 13 }), [x0 + 0.02, y0]);
  await idle();
  const pt = await page.evaluate(([x, y]) => {
    const p = window.gapmap.map.project([x, y]);
    const r = window.gapmap.map.getCanvas().getBoundingClientRect();
    return { x: r.left + p.x, y: r.top + p.y };
  }, [x0 + 0.02, y0]);
  await page.mouse.move(pt.x, pt.y);
  await page.waitForSelector('.map-tooltip', { timeout: 5000 });
  assert.match(await page.textContent('.map-tooltip'), new RegExp(osm.vintage));
});

test('defect 7: asset symbols contrast with every decile colour (two-tone halo)', async () => {
  await openMap();
  const worst = await page.evaluate(async () => {
    const style = await import('/web/static/js/style.mjs');
    const lum = ([r, g, b]) => {
      const f = (v) => { const c = v / 255; return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; };
      return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
    };
    const contrast = (a, b) => { const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p); return (x + 0.05) / (y + 0.05); };
    const hex = (h) => [1, 3, 5].map((i) => parseInt(h.slice(i, i + 2), 16));
    let min = Infinity;
    let where = '';
    for (let i = 0; i < 9; i += 1) {
      const size = 22;
      const { data } = style.drawSymbol(style.symbolFor(i), size).getContext('2d').getImageData(0, 0, size, size);
      const opaque = (x, y) => x >= 0 && y >= 0 && x < size && y < size && data[(y * size + x) * 4 + 3] > 230;
      // Rings: opaque pixels 1 to 4 steps from the outside.
      const ring = (k) => {
        const px = [];
        for (let y = 0; y < size; y += 1) {
          for (let x = 0; x < size; x += 1) {
            if (!opaque(x, y)) continue;
            let d = Infinity;
            for (let dy = -4; dy <= 4; dy += 1) for (let dx = -4; dx <= 4; dx += 1) if (!opaque(x + dx, y + dy)) d = Math.min(d, Math.max(Math.abs(dx), Math.abs(dy)));
            if (d === k) px.push([data[(y * size + x) * 4], data[(y * size + x) * 4 + 1], data[(y * size + x) * 4 + 2]]);
          }
        }
        const n = px.length || 1;
        return [0, 1, 2].map((c) => px.reduce((t, p) => t + p[c], 0) / n);
      };
      const rings = [ring(1), ring(2), ring(3), ring(4)];
      for (const bg of style.DECILE_COLOURS) {
        const best = Math.max(...rings.map((r) => contrast(r, hex(bg))));
        if (best < min) { min = best; where = `symbol ${i} on ${bg}`; }
      }
    }
    return { min, where };
  });
  // Ring colours are averages that include anti-aliased pixels, so a band
  // with WCAG's 3:1 measures a little under it; a plain white edge on
  // yellow (decile 10) measures about 1.2.
  assert.ok(worst.min >= 2.5, `contrast ${worst.min.toFixed(2)} for ${worst.where}`);
});

test('defect 8: the 2019 view selects wards and 2011 LSOAs, outlines them, and restores shared links', async () => {
  await openMap('#year=2019&mode=level&assets=&pick=ward&map=13/51.7300/-1.2100');
  await page.waitForFunction(() => window.gapmap.map.queryRenderedFeatures({ layers: ['lsoa19-fill'] }).length > 0, null, { timeout: 30000 });
  const centre = await page.evaluate(() => { const r = window.gapmap.map.getCanvas().getBoundingClientRect(); return { x: r.left + r.width / 2, y: r.top + r.height / 2 }; });
  await page.mouse.click(centre.x, centre.y);
  await page.waitForSelector('#panel-title');
  assert.equal(await page.evaluate(() => window.gapmap.state.selection.kind), 'ward', 'a ward click in 2019 did not select a ward');
  // LSOA pick: the 2011 LSOA under the click, outlined.
  await page.check('input[name=pick][value=lsoa]');
  await page.mouse.click(centre.x, centre.y);
  await page.waitForFunction(() => window.gapmap.state.selection?.kind === 'lsoa11');
  const code = await page.evaluate(() => window.gapmap.state.selection.code);
  await idle();
  assert.deepEqual(await renderedCodes('selected11-line'), [code]);
  assert.match(await page.textContent('#lsoa11-became'), /E01/);
  // A shared link restores it.
  const hash = await page.evaluate(() => window.location.hash);
  assert.match(hash, new RegExp(`sel=lsoa11:${code}`));
  await openMap(hash);
  await page.waitForFunction((c) => document.querySelector('#panel-title')?.textContent.includes(c), code, { timeout: 30000 });
  // E01027305 links its 2011 parent (outside the region).
  await openMap('#sel=lsoa:E01027305');
  await page.waitForSelector('#lsoa-deciles');
  const link = (await api('/web/api/lsoa/E01027305')).link_2019;
  assert.ok(link.lsoa11.length > 0);
  const panel = await page.textContent('#panel-body');
  assert.doesNotMatch(panel, /no linked 2011 LSOA/);
  assert.ok(panel.includes(link.lsoa11[0].code));
});

test('defect 4: the tiled 2019 view (England) draws 2011 LSOAs from tiles, without the 2019 GeoJSON layer', async () => {
  const layerRequests = [];
  const watch = (r) => { if (r.url().includes('/web/api/lsoa-layer')) layerRequests.push(r.url()); };
  page.on('request', watch);
  try {
    // tiles=1 forces the England (tiled) path on Oxfordshire.
    await openMap('#tiles=1&year=2019&mode=level&assets=&pick=lsoa&map=13/51.7300/-1.2100');
    await page.waitForFunction(() => window.gapmap.map.queryRenderedFeatures({ layers: ['lsoa19-fill'] }).length > 0, null, { timeout: 30000 });
    const rendered = await page.evaluate(() => window.gapmap.map.queryRenderedFeatures({ layers: ['lsoa19-fill'] })[0].properties);
    // The tile's properties are the published IoD2019 values of that 2011 LSOA.
    const item = (await api(`/collections/lsoa-2011/items/${rendered.code}`)).properties;
    assert.equal(rendered.d_imd, item.imd_decile);
    assert.match(rendered.lsoa21, /^E01/);
    const centre = await page.evaluate(() => { const r = window.gapmap.map.getCanvas().getBoundingClientRect(); return { x: r.left + r.width / 2, y: r.top + r.height / 2 }; });
    await page.mouse.click(centre.x, centre.y);
    await page.waitForFunction(() => window.gapmap.state.selection?.kind === 'lsoa11');
    const code = await page.evaluate(() => window.gapmap.state.selection.code);
    await idle();
    assert.deepEqual(await renderedCodes('selected11-line'), [code]);
    assert.match(await page.textContent('#lsoa11-became'), /E01/);
    // A shared link restores the selection from the API.
    const hash = await page.evaluate(() => window.location.hash);
    await openMap(hash);
    await page.waitForFunction((c) => document.querySelector('#panel-title')?.textContent.includes(c), code, { timeout: 30000 });
    assert.deepEqual(layerRequests, [], 'the tiled 2019 view fetched the GeoJSON layer');
  } finally {
    page.off('request', watch);
  }
});

test('defect 9: legend and panel text without false notes or jargon', async () => {
  await openMap('#mode=change');
  assert.doesNotMatch(await page.textContent('#legend'), /mean of linked/);
  const meta = await api('/web/api/meta');
  const sub = meta.releases.find((r) => r.year === 2019).indicators.find((i) => !i.has_decile);
  if (sub) {
    await openMap(`#mode=level&year=2019&domain=${sub.id}`);
    assert.doesNotMatch(await page.textContent('#legend'), /publishes no deciles/);
  }
  await openMap('#sel=lsoa:E01028568');
  await page.waitForSelector('#lsoa-nearest');
  const panel = await page.textContent('#panel-body');
  for (const jargon of ['none loaded', 'distance_m', "Karney"]) assert.ok(!panel.includes(jargon), `panel says "${jargon}"`);
  await runGapForm('gp_practice', 2, 1000);
  const gap = await page.textContent('#panel-body');
  for (const jargon of ['Karney', 'gp practices is', 'deprived_but_no_data']) assert.ok(!gap.includes(jargon), `gap panel says "${jargon}"`);
});

test('defect 10: phone layout gives results room and the controls close', async () => {
  await page.setViewportSize({ width: 390, height: 844 });
  try {
    await openMap();
    await page.click('#toggle-controls');
    assert.ok(await page.isVisible('#close-controls'), 'no close button in the Controls drawer');
    await page.click('#close-controls');
    assert.equal(await page.getAttribute('#toggle-controls', 'aria-expanded'), 'false');
    await page.click('#toggle-controls');
    await runGapForm('park', 2, 400);
    assert.equal(await page.isVisible('#controls'), false, 'the Controls drawer stays open over the gap results');
    // The panel is laid out at its natural height; the footer does not squeeze it.
    const box = await page.evaluate(() => {
      const p = document.querySelector('#panel').getBoundingClientRect();
      const f = document.querySelector('#attribution').getBoundingClientRect();
      return { panelHeight: p.height, panelScroll: document.querySelector('#panel').scrollHeight, footerTop: f.top, panelBottom: p.bottom };
    });
    assert.ok(box.panelHeight >= box.panelScroll - 2, `panel clipped: ${JSON.stringify(box)}`);
    assert.ok(box.footerTop >= box.panelBottom - 1, `footer overlaps the panel: ${JSON.stringify(box)}`);
    await shot('phone-gap-results', true);
    await page.goto(`${base}/wards/E05013110`);
    await page.waitForFunction(() => document.body.dataset.ready, null, { timeout: 60000 });
    const scale = await page.evaluate(() => { const c = document.querySelector('#decile-chart'); return c.getBoundingClientRect().width / c.viewBox.baseVal.width; });
    assert.ok(scale * 11 >= 9, `chart text renders at ${(scale * 11).toFixed(1)} px`);
    await shot('phone-ward-profile');
  } finally {
    await page.setViewportSize({ width: 1280, height: 800 });
  }
});

test('defect 11: a script that fails to load is reported on the page', async () => {
  const tab = await context.newPage();
  try {
    await tab.route((url) => url.href.includes('/web/vendor/maplibre-gl/maplibre-gl.mjs'), (route) => route.fulfill({ status: 404, body: 'missing' }));
    await tab.goto(`${base}/map`);
    await tab.waitForFunction(() => document.body.dataset.ready === 'error', null, { timeout: 30000 });
    assert.match(await tab.textContent('#map-status'), /could not start: a script, or one it imports, failed to load .*scripts\/install/s);
  } finally {
    await tab.close();
  }
});

test('defect 12: search finds St Clements, Rose Hill and Iffley, OX4, Greater Leys; a district opens its panel', async () => {
  await openMap();
  const choose = async (q) => {
    await page.fill('#search-input', '');
    await page.fill('#search-input', q);
    await page.waitForSelector('#search-results li[data-i]');
    await page.press('#search-input', 'Enter');
  };
  await choose('St Clements');
  await page.waitForFunction(() => document.querySelector('#panel-title')?.textContent.includes("St Clement's"));
  await choose('Rose Hill and Iffley');
  await page.waitForFunction(() => document.querySelector('#panel-title')?.textContent.includes('Rose Hill & Iffley'));
  await choose('OX4');
  await idle();
  const ox4 = (await api('/search?q=OX4')).results[0];
  const c = await page.evaluate(() => window.gapmap.map.getCenter().toArray());
  assert.ok(Math.abs(c[0] - ox4.lon) < 0.02 && Math.abs(c[1] - ox4.lat) < 0.02, `OX4 not centred: ${c}`);
  await choose('Greater Leys');
  const place = (await api('/search?q=Greater%20Leys')).results.find((r) => r.kind === 'place');
  await page.waitForFunction((code) => document.querySelector('#panel-title')?.textContent.includes(code), place.lsoa);
  await choose('Cherwell');
  await page.waitForSelector('#district-official-2025');
  const official = (await api('/collections/districts/items/E07000177')).properties;
  const shown = await page.textContent('#district-official-2025 tr[data-key=official_2025_imd_average_score] td');
  assert.equal(Number(shown), official.official_2025_imd_average_score);
  assert.match(await page.textContent('#district-official-source'), /MHCLG/);
  assert.match(await page.evaluate(() => window.location.hash), /sel=district:E07000177/);
});

test('the county profile: search "Oxfordshire", the districts\' official figures, GapMap\'s roll-up labelled, "no data" per category', async () => {
  await openMap('#gap=gp_practice,2,1000');
  await page.fill('#search-input', 'Oxfordshire');
  await page.waitForSelector('#search-results li[data-i]');
  await page.press('#search-input', 'Enter');
  await page.waitForSelector('#region-profile-link');
  const href = await page.getAttribute('#region-profile-link', 'href');
  assert.match(href, /region\.html\?max_decile=2&min_distance_m=1000/);
  await page.goto(`${base}${href}`);
  await page.waitForFunction(() => document.body.dataset.ready, null, { timeout: 60000 });
  assert.equal(await page.evaluate(() => document.body.dataset.ready), 'true');
  const r = await api('/web/api/region?max_decile=2&min_distance_m=1000');
  assert.match(await page.textContent('#region-method'), /Not an official figure/);
  assert.equal(await page.textContent('#rf-residents'), r.summary.residents.toLocaleString('en-GB'));
  // The five districts, each with MHCLG's IoD2025 average score as the OGC collection gives it.
  const rows = await page.$$eval('#district-table tbody tr', (trs) => trs.map((t) => [t.dataset.district, t.querySelector('[data-key=official-2025-score]').textContent]));
  assert.deepEqual(rows.map(([c]) => c), ['E07000177', 'E07000178', 'E07000179', 'E07000180', 'E07000181']);
  for (const [code, shown] of rows) {
    const official = (await api(`/collections/districts/items/${code}`)).properties.official_2025_imd_average_score;
    assert.equal(shown, official.toFixed(2), code);
  }
  assert.match(await page.textContent('#official-source'), /MHCLG/);
  assert.equal(await page.getAttribute('#region-access tr[data-category=park]', 'data-status'), 'cannot_answer');
  assert.match(await page.textContent('#region-access tr[data-category=park]'), /Cannot answer for \d+ of \d+ deprived LSOAs/);
  assert.match(await page.textContent('#sources'), /Census 2021|Office for National Statistics/);
  await page.emulateMedia({ media: 'print' });
  assert.equal(await page.isVisible('#print'), false);
  await shot('region-profile', true);
  await page.emulateMedia({ media: 'screen' });
});

test('the priority-areas page names every ward in both years', async () => {
  await openMap();
  await page.click('#priority-link');
  await page.waitForFunction(() => document.body.dataset.ready, null, { timeout: 60000 });
  for (const year of [2025, 2019]) {
    const d = await api(`/priority-areas?year=${year}&max_decile=2`);
    const names = await page.$$eval(`#priority-${year} tbody th`, (ths) => ths.map((t) => t.textContent.trim()));
    assert.equal(names.length, d.wards.length, `${year}: rows`);
    for (const n of names) assert.ok(n.length > 0 && !/^unnamed/.test(n), `${year}: a ward without a name`);
  }
  await shot('priority-areas', true);
});

test('the wards and LSOAs table sorts by distance, filters, and links rows to the map', async () => {
  await openMap();
  await page.click('#table-link');
  await page.waitForFunction(() => document.body.dataset.ready, null, { timeout: 120000 });
  assert.equal(await page.evaluate(() => document.body.dataset.ready), 'true');
  // Farthest from a GP first: the largest mean distance /gaps reports.
  const fc = await api('/gaps?category=gp_practice&max_decile=10&min_distance_m=0');
  const farthest = fc.features.reduce((a, f) => (f.properties.mean_distance_m > a.properties.mean_distance_m ? f : a));
  await page.click('#area-table th[data-key=dist_gp_practice] button');
  await page.click('#area-table th[data-key=dist_gp_practice] button');
  assert.equal(await page.getAttribute('#area-table tbody tr:first-child', 'data-code'), farthest.properties.lsoa21_code);
  await page.selectOption('#filter-decile', '1');
  const shown = await page.$$eval('#area-table tbody tr', (trs) => trs.map((t) => t.dataset.code));
  const layer = await api('/web/api/lsoa-layer?year=2025');
  assert.deepEqual(shown.sort(), layer.features.filter((f) => f.properties.d_imd === 1).map((f) => f.properties.code).sort());
  assert.match(await page.getAttribute('#area-table tbody tr:first-child a', 'href'), /^\/map#sel=lsoa:E01/);
});

test('the map view exports as a PNG with a legend column', async () => {
  await openMap();
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export-png')]);
  const file = path.join(ARTIFACTS, 'map-export.png');
  await download.saveAs(file);
  const png = fs.readFileSync(file);
  assert.equal(png.subarray(1, 4).toString(), 'PNG');
  const width = png.readUInt32BE(16);
  const canvas = await page.evaluate(() => window.gapmap.map.getCanvas().width / window.devicePixelRatio);
  assert.equal(width, Math.round(canvas + 300), 'no legend column beside the map');
});

test('a continuous distance-to-nearest layer colours every LSOA, grey where there is no data', async () => {
  await openMap('#mode=distance&dist=park&assets=');
  assert.match(await page.textContent('#distance-title'), /park/);
  const fc = await api('/gaps?category=park&max_decile=10&min_distance_m=0');
  const noData = fc.cannot_answer.features.filter((f) => f.properties.status === 'no_data').map((f) => f.properties.lsoa21_code);
  const states = await page.evaluate(() => window.gapmap.data.lsoa25.features.map((f) => [f.properties.code, window.gapmap.map.getFeatureState({ source: 'lsoa25', id: f.properties.code }).dist]));
  const byCode = new Map(states);
  for (const code of noData) assert.equal(byCode.get(code), -1, `${code} should be no data`);
  for (const f of fc.features) assert.equal(byCode.get(f.properties.lsoa21_code), f.properties.mean_distance_m);
  assert.ok(fc.features.length > 0 && noData.length > 0);
  await shot('distance-parks');
});
