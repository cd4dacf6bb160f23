// First useful render of the map in headless Chromium, from a cold browser
// cache (a fresh browser context per run): the time from navigation to the
// choropleth drawn (the first rendered LSOA fill feature) and to the page
// interactive (`body[data-ready]`, every handler attached, map idle), and the
// requests made before that, slowest first.
//
//   node benches/first-render.mjs http://127.0.0.1:8080 [runs=5] [hash]
//
// Needs playwright-core (web/node_modules) and Chromium (CHROMIUM_PATH or
// /usr/bin/chromium). Prints one line per run and the medians.
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, '../web/package.json'));
const { chromium } = require('playwright-core');

const [base = 'http://127.0.0.1:8080', runsArg = '5', hash = ''] = process.argv.slice(2);
const runs = Number(runsArg);
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu'] });
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };
const results = [];
for (let i = 0; i < runs; i += 1) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  const requests = new Map();
  page.on('request', (r) => requests.set(r, { url: r.url(), start: Date.now() }));
  page.on('requestfinished', async (r) => {
    const e = requests.get(r);
    if (!e) return;
    e.end = Date.now();
    try { e.bytes = (await r.sizes()).responseBodySize; } catch { e.bytes = null; }
  });
  // Looks for the first rendered choropleth feature after each frame the
  // map draws. (Polling queryRenderedFeatures on a timer took a fifth of
  // the main thread while the tiles came in, delaying what it measured.)
  await page.addInitScript(() => {
    const hook = () => {
      const map = window.gapmap?.map;
      if (!map) {
        setTimeout(hook, 20);
        return;
      }
      const onRender = () => {
        try {
          if (map.getLayer('lsoa25-fill') && map.queryRenderedFeatures({ layers: ['lsoa25-fill'] }).length > 0) {
            window.__choropleth = performance.now();
            map.off('render', onRender);
          }
        } catch { /* style not ready yet */ }
      };
      map.on('render', onRender);
    };
    hook();
  });
  const t0 = Date.now();
  await page.goto(`${base}/map${hash}`);
  await page.waitForFunction(() => window.__choropleth !== undefined, null, { timeout: 300000, polling: 20 });
  const tChoropleth = Date.now() - t0;
  await page.waitForFunction(() => document.body.dataset.ready, null, { timeout: 300000, polling: 20 });
  const tReady = Date.now() - t0;
  const ready = await page.evaluate(() => document.body.dataset.ready);
  const before = [...requests.values()].filter((r) => r.start - t0 <= tReady);
  const slow = before.filter((r) => r.end).sort((a, b) => (b.end - b.start) - (a.end - a.start)).slice(0, 6)
    .map((r) => `${new URL(r.url).pathname.replace(/^\/collections\/([^/]+)\/tiles\/WebMercatorQuad/, 'tile:$1')} ${r.end - r.start} ms ${r.bytes ?? '?'} B (start +${r.start - t0})`);
  const bytes = before.reduce((a, r) => a + (r.bytes ?? 0), 0);
  results.push({ tChoropleth, tReady });
  console.log(`run ${i + 1}: choropleth ${tChoropleth} ms, interactive ${tReady} ms (${ready}); ${before.length} requests, ${(bytes / 1024).toFixed(0)} KiB bodies; slowest: ${slow.join('; ')}`);
  await context.close();
}
console.log(`median of ${runs}: choropleth ${median(results.map((r) => r.tChoropleth))} ms, interactive ${median(results.map((r) => r.tReady))} ms`);
await browser.close();
