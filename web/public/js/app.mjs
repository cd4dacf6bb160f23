// GapMap planner's map. Plain ES module; MapLibre GL JS is served by the
// gapmap server from the npm package (no CDN).
import * as maplibregl from '/web/vendor/maplibre-gl/maplibre-gl.mjs';
import {
  decileColour, changeColour, decileLegend, changeLegend, colourOfDecile, colourOfChange, inkOn,
  symbolFor, drawSymbol, NO_DATA,
} from './style.mjs';
import { setupRegister, onMapClick as registerClick, hovering as registerHovering } from './register.mjs';
import { setupDraw, onMapClick as drawClick } from './draw.mjs';
import { authHeaders, getJsonSignedIn, transformRequest } from './auth.mjs';
import {
  caveatHtml, addCoverageLayers, coverageLayerIds, coverageLegend, hatchImage, nounOf, gapHeadlineHtml, cannotAnswerHtml,
} from './honesty.mjs';
import { districtHtml } from './district.mjs';
import { setupHover, coverageAt, areaAt } from './hover.mjs';
import { declutter, syncViewportMarkers } from './labels.mjs';
import { mapPng } from './export.mjs';
import { distanceColour, loadDistances, applyDistances, distanceLegend } from './distance.mjs';
import { DECILE_COLOURS, CHANGE_CLASSES } from './style.mjs';

// Start MapLibre's web worker now, while the page's first requests run,
// rather than when the map is made.
maplibregl.prewarm?.();

const $ = (sel) => document.querySelector(sel);
const esc = (s) => String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
const fmt = (n) => (n === null || n === undefined ? '–' : Number(n).toLocaleString('en-GB'));
const fmtDist = (m) => (m === null || m === undefined ? '–' : m >= 1000 ? `${(m / 1000).toFixed(m >= 10000 ? 0 : 1)} km` : `${Math.round(m)} m`);

async function getJson(url, init = {}) {
  const r = await fetch(url, { ...init, headers: { Accept: 'application/json, application/geo+json', ...authHeaders() } });
  if (!r.ok) {
    const err = new Error(`${url}: HTTP ${r.status}`);
    err.status = r.status;
    throw err;
  }
  return r.json();
}

/** Zoom from which asset symbols show in the tiled (England) view. */
const ASSET_MINZOOM_TILED = 10;
/**
 * Tiled (England) view: ward outlines from this zoom. Below it England's
 * 7,000 wards are a grey mesh, and a visible ward layer makes MapLibre fetch
 * and parse the ward tiles before the first render settles.
 */
const WARD_MINZOOM_TILED = 8;
const DEFAULT_ASSETS = ['gp_practice', 'pharmacy', 'library', 'community_centre', 'food_bank'];

/** Application state; mirrored in the URL hash. */
const state = {
  mode: 'level', // level | change | distance
  distCategory: 'gp_practice', // the category of the distance layer
  domain: 'imd',
  year: 2025,
  pick: 'lsoa',
  wards: true,
  districts: true,
  basemap: false,
  coverage: true,
  register: true, // the register's entries as their own layer
  assets: new Set(DEFAULT_ASSETS),
  selection: null, // { kind: 'lsoa'|'lsoa11'|'ward', code }
  gap: null, // { category, max_decile, min_distance_m }
  gapCodes: [],
  noDataCodes: [], // deprived LSOAs the gap query cannot answer for (hatched)
  view: null, // { zoom, lat, lon }
  tiles: undefined, // vector tiles for polygons (default: only for large regions)
};

let meta = null;
let map = null;
const labelMarkers = { wards: [], districts: [] };

// ---------------------------------------------------------------- URL state

function readHash() {
  const p = new URLSearchParams(window.location.hash.slice(1));
  if (p.get('mode') === 'change') state.mode = 'change';
  if (p.get('mode') === 'distance') state.mode = 'distance';
  if (p.get('dist')) state.distCategory = p.get('dist');
  if (p.get('domain')) state.domain = p.get('domain');
  if (p.get('year') === '2019') state.year = 2019;
  if (p.get('pick') === 'ward') state.pick = 'ward';
  if (p.get('wards') === '0') state.wards = false;
  if (p.get('districts') === '0') state.districts = false;
  if (p.get('basemap') === '1') state.basemap = true;
  if (p.get('coverage') === '0') state.coverage = false;
  if (p.get('register') === '0') state.register = false;
  if (p.has('tiles')) state.tiles = p.get('tiles') === '1';
  if (p.has('assets')) state.assets = new Set(p.get('assets').split(',').filter(Boolean));
  const sel = p.get('sel');
  if (sel && sel.includes(':')) {
    const [kind, code] = sel.split(':');
    state.selection = { kind, code };
  }
  const gap = p.get('gap');
  if (gap) {
    const [category, maxDecile, minDistance] = gap.split(',');
    state.gap = { category, max_decile: Number(maxDecile), min_distance_m: Number(minDistance) };
  }
  const m = p.get('map');
  if (m) {
    const [zoom, lat, lon] = m.split('/').map(Number);
    if ([zoom, lat, lon].every(Number.isFinite)) state.view = { zoom, lat, lon };
  }
}

function writeHash() {
  const p = new URLSearchParams();
  p.set('mode', state.mode);
  if (state.mode === 'distance') p.set('dist', state.distCategory);
  p.set('domain', state.domain);
  p.set('year', String(state.year));
  if (state.pick !== 'lsoa') p.set('pick', state.pick);
  if (!state.wards) p.set('wards', '0');
  if (!state.districts) p.set('districts', '0');
  if (state.basemap) p.set('basemap', '1');
  if (!state.coverage) p.set('coverage', '0');
  if (!state.register) p.set('register', '0');
  if (state.tiles !== undefined && state.tiles !== (meta?.region.lsoa_count > 3000)) p.set('tiles', state.tiles ? '1' : '0');
  p.set('assets', [...state.assets].join(','));
  if (state.selection) p.set('sel', `${state.selection.kind}:${state.selection.code}`);
  if (state.gap) p.set('gap', `${state.gap.category},${state.gap.max_decile},${state.gap.min_distance_m}`);
  if (map) {
    const c = map.getCenter();
    p.set('map', `${map.getZoom().toFixed(2)}/${c.lat.toFixed(5)}/${c.lng.toFixed(5)}`);
  }
  const hash = `#${p.toString().replace(/%2C/g, ',').replace(/%3A/g, ':').replace(/%2F/g, '/')}`;
  if (hash !== window.location.hash) window.history.replaceState(null, '', hash);
}

// ---------------------------------------------------------------- indicators

function indicators(year) {
  return meta.releases.find((r) => r.year === year)?.indicators ?? [];
}
function indicator(id, year = 2025) {
  return indicators(year).find((i) => i.id === id);
}

function fillColourExpression() {
  if (state.mode === 'distance') return distanceColour(NO_DATA);
  if (state.mode === 'change') return changeColour(`c_${state.domain}`);
  return decileColour(`d_${state.domain}`);
}

function activeFillLayer() {
  return state.mode === 'level' && state.year === 2019 ? 'lsoa19-fill' : 'lsoa25-fill';
}

function updateLegend() {
  const ind = indicator(state.domain, 2025);
  const label = ind ? ind.label : state.domain;
  let html;
  if (state.mode === 'distance') {
    const cat = meta.categories.find((c) => c.id === state.distCategory);
    html = distanceLegend(nounOf(state.distCategory), NO_DATA, caveatHtml(meta, state.distCategory));
    if (!cat) html = '';
  } else if (state.mode === 'change') {
    html = changeLegend({ title: `Change in ${label} decile, 2019 → 2025` });
  } else {
    const ind19 = indicator(state.domain, 2019);
    let note = state.year === 2025
      ? 'English Indices of Deprivation 2025 on 2021 LSOAs.'
      : 'English Indices of Deprivation 2019 on 2011 LSOAs.';
    if (state.year === 2019 && ind19 && !ind19.has_decile) {
      note += ' The IoD2019 file GapMap reads gives this sub-domain\'s scores and ranks but not its deciles, so the map has no 2019 colour for it; see 2025, or the LSOA panel.';
    }
    html = decileLegend({ title: `${label}, ${state.year}`, note });
  }
  if (state.gap) {
    html += '<div class="row" id="legend-gap"><span class="sw" style="background:transparent;border:3px solid #e7298a"></span> Gap: deprived and far from the asset (see panel)</div>';
    html += '<div class="row" id="legend-no-data"><span class="sw hatch"></span> Deprived, but no data: the query cannot answer here</div>';
  }
  if (state.tiles && map && map.getZoom() < ASSET_MINZOOM_TILED && state.assets.size) {
    html += '<p class="hint" id="assets-zoom-hint">Zoom in (to town scale) to see community asset symbols.</p>';
  }
  if (state.coverage) {
    const visibleSources = new Set(meta.categories.filter((c) => state.assets.has(c.id)).flatMap((c) => c.sources));
    html += coverageLegend(meta, visibleSources);
  }
  $('#legend').innerHTML = html;
}

function applyDeprivationStyle() {
  if (!map) return;
  const fill = fillColourExpression();
  const show25 = activeFillLayer() === 'lsoa25-fill';
  map.setPaintProperty('lsoa25-fill', 'fill-color', show25 ? fill : NO_DATA);
  if (state.year === 2019 && state.mode === 'level') {
    map.setPaintProperty('lsoa19-fill', 'fill-color', decileColour(`d_${state.domain}`));
  }
  for (const id of ['lsoa25-fill', 'lsoa25-line']) map.setLayoutProperty(id, 'visibility', show25 ? 'visible' : 'none');
  for (const id of ['lsoa19-fill', 'lsoa19-line']) map.setLayoutProperty(id, 'visibility', show25 ? 'none' : 'visible');
  const gapOn = state.gapCodes.length > 0;
  map.setPaintProperty('lsoa25-fill', 'fill-opacity', gapOn
    ? ['case', ['in', ['get', 'code'], ['literal', state.gapCodes]], 0.9, 0.35]
    : 0.8);
  $('#year-field').disabled = state.mode !== 'level';
  $('#dist-field').hidden = state.mode !== 'distance';
  updateLegend();
  writeHash();
}

// ---------------------------------------------------------------- map

function buildStyle() {
  return {
    version: 8,
    sources: {},
    layers: [{ id: 'background', type: 'background', paint: { 'background-color': '#eef0ee' } }],
  };
}

function addBasemap() {
  if (map.getSource('osm')) return;
  map.addSource('osm', {
    type: 'raster',
    tiles: ['https://tile.openstreetmap.org/{z}/{x}/{y}.png'],
    tileSize: 256,
    maxzoom: 19,
    attribution: '© <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors',
  });
  map.addLayer({ id: 'osm', type: 'raster', source: 'osm', paint: { 'raster-opacity': 0.9 } }, 'lsoa25-fill');
}

function applyBasemap() {
  if (state.basemap) {
    addBasemap();
    map.setLayoutProperty('osm', 'visibility', 'visible');
    map.setPaintProperty('lsoa25-fill', 'fill-opacity', 0.6);
  } else if (map.getLayer('osm')) {
    map.setLayoutProperty('osm', 'visibility', 'none');
  }
  writeHash();
}

function setVisible(ids, on) {
  for (const id of ids) if (map.getLayer(id)) map.setLayoutProperty(id, 'visibility', on ? 'visible' : 'none');
}

let tiledWardLabels = null;
function updateLabels() {
  const z = map.getZoom();
  // Tiled (England) view: ward names load on first street-level zoom and
  // exist only for the wards in view.
  if (state.tiles && state.wards && z >= 11) {
    if (!tiledWardLabels) {
      tiledWardLabels = getJson('/web/api/labels/wards').then((fc) => fc.features).catch(() => []);
      tiledWardLabels.then(() => updateLabels());
      return;
    }
    tiledWardLabels.then((features) => {
      syncViewportMarkers(map, maplibregl, features, labelMarkers.wards, 'ward-label');
      declutter([
        { markers: labelMarkers.districts, visible: () => false },
        { markers: labelMarkers.wards, visible: () => state.wards && map.getZoom() >= 11 },
      ]);
    });
    return;
  }
  // Districts first, then wards; a label that would overlap one already
  // placed stays hidden (England has about 296 districts).
  declutter([
    { markers: labelMarkers.districts, visible: () => state.districts && z < 11.5 },
    { markers: labelMarkers.wards, visible: () => state.wards && z >= 11 },
  ]);
}

function addLabels(kind, fc) {
  for (const f of fc.features) {
    const el = document.createElement('div');
    el.className = kind === 'wards' ? 'ward-label' : 'district-label';
    el.textContent = f.properties.name;
    el.setAttribute('aria-hidden', 'true');
    const marker = new maplibregl.Marker({ element: el }).setLngLat(f.geometry.coordinates).addTo(map);
    labelMarkers[kind].push(marker);
  }
  updateLabels();
}

function applyAssetVisibility() {
  for (const c of meta.categories) {
    setVisible([`asset-${c.id}`], state.assets.has(c.id));
  }
  // Coverage outlines: only for partial sources feeding a visible category.
  const visibleSources = new Set(meta.categories.filter((c) => state.assets.has(c.id)).flatMap((c) => c.sources));
  for (const id of coverageLayerIds(meta)) {
    setVisible([id], state.coverage && visibleSources.has(id.slice('coverage-'.length)));
  }
  if (meta && $('#legend')) updateLegend();
  writeHash();
}

async function loadLayers() {
  const status = $('#map-status');
  status.textContent = 'Loading LSOAs…';
  // Large regions (England) use the server's vector tiles for the polygon layers.
  const tiles = state.tiles ?? (meta.region.lsoa_count > 3000);
  state.tiles = tiles;
  const empty = { type: 'FeatureCollection', features: [] };
  const [lsoa25, wards, districts, assets, coverage, wardLabels, districtLabels] = await Promise.all([
    tiles ? empty : getJson('/web/api/lsoa-layer?year=2025'),
    tiles ? empty : getJson('/web/api/boundaries/wards'),
    tiles ? empty : getJson('/web/api/boundaries/districts'),
    // England (tiles): assets (12 MB of JSON, 1.3 MB compressed) load at
    // town zoom, where their symbols show; coverage areas after the first
    // render instead of holding it.
    tiles ? empty : getJson('/web/api/assets'),
    tiles ? empty : getJson('/web/api/coverage'),
    tiles ? empty : getJson('/web/api/labels/wards'),
    getJson('/web/api/labels/districts'),
  ]);
  window.gapmap.data.lsoa25 = lsoa25;
  window.gapmap.data.wards = wards;
  const vector = (collection) => ({
    type: 'vector',
    tiles: [`${window.location.origin}/collections/${collection}/tiles/WebMercatorQuad/{z}/{x}/{y}`],
    minzoom: 0,
    maxzoom: 14,
    promoteId: 'code',
  });
  if (tiles) {
    map.addSource('lsoa25', vector('lsoa'));
    map.addSource('wards', vector('wards'));
    map.addSource('districts', vector('districts'));
  } else {
    map.addSource('lsoa25', { type: 'geojson', data: lsoa25, promoteId: 'code' });
    map.addSource('wards', { type: 'geojson', data: wards, promoteId: 'code' });
    map.addSource('districts', { type: 'geojson', data: districts, promoteId: 'code' });
  }
  // 2019 (2011 LSOAs): tiles too on large regions, instead of a 2.7 MB layer.
  map.addSource('lsoa19', tiles ? vector('lsoa-2011') : { type: 'geojson', data: empty, promoteId: 'code' });
  map.addSource('assets', { type: 'geojson', data: assets });
  map.addSource('coverage', { type: 'geojson', data: coverage });
  if (tiles) {
    map.on('zoomend', loadTiledAssets);
    map.on('moveend', loadTiledAssets);
    map.once('idle', () => {
      getJson('/web/api/coverage').then((fc) => map.getSource('coverage').setData(fc)).catch((e) => console.error(e));
      loadTiledAssets();
    });
  } else {
    tiledAssets = Promise.resolve();
  }

  const layerOf = (name) => (tiles ? { 'source-layer': name } : {});
  map.addLayer({ id: 'lsoa25-fill', type: 'fill', source: 'lsoa25', ...layerOf('lsoa'), paint: { 'fill-color': fillColourExpression(), 'fill-opacity': 0.8 } });
  map.addLayer({ id: 'lsoa25-line', type: 'line', source: 'lsoa25', ...layerOf('lsoa'), paint: { 'line-color': '#ffffff', 'line-width': 0.4, 'line-opacity': 0.7 } });
  map.addLayer({ id: 'lsoa19-fill', type: 'fill', source: 'lsoa19', ...layerOf('lsoa-2011'), layout: { visibility: 'none' }, paint: { 'fill-color': NO_DATA, 'fill-opacity': 0.8 } });
  map.addLayer({ id: 'lsoa19-line', type: 'line', source: 'lsoa19', ...layerOf('lsoa-2011'), layout: { visibility: 'none' }, paint: { 'line-color': '#ffffff', 'line-width': 0.4, 'line-opacity': 0.7 } });
  map.addLayer({ id: 'gap-casing', type: 'line', source: 'lsoa25', ...layerOf('lsoa'), filter: ['in', ['get', 'code'], ['literal', []]], paint: { 'line-color': '#ffffff', 'line-width': 5 } });
  map.addLayer({ id: 'gap-line', type: 'line', source: 'lsoa25', ...layerOf('lsoa'), filter: ['in', ['get', 'code'], ['literal', []]], paint: { 'line-color': '#e7298a', 'line-width': 2.5 } });
  const wardZoom = tiles ? { minzoom: WARD_MINZOOM_TILED } : {};
  map.addLayer({ id: 'ward-line', type: 'line', source: 'wards', ...layerOf('wards'), ...wardZoom, paint: { 'line-color': '#222', 'line-width': ['interpolate', ['linear'], ['zoom'], 9, 0.5, 13, 1.5], 'line-opacity': 0.7 } });
  map.addLayer({ id: 'district-line', type: 'line', source: 'districts', ...layerOf('districts'), paint: { 'line-color': '#000', 'line-width': 2.2 } });
  map.addImage('nodata-hatch', hatchImage());
  map.addLayer({ id: 'nodata-fill', type: 'fill', source: 'lsoa25', ...layerOf('lsoa'), filter: ['in', ['get', 'code'], ['literal', []]], paint: { 'fill-pattern': 'nodata-hatch' } }, 'gap-casing');
  // Invisible, for "click selects a ward" in either year.
  map.addLayer({ id: 'ward-fill', type: 'fill', source: 'wards', ...layerOf('wards'), ...wardZoom, paint: { 'fill-color': '#000', 'fill-opacity': 0 } }, 'gap-casing');
  addCoverageLayers(map, meta);
  map.addLayer({ id: 'selected-casing', type: 'line', source: 'lsoa25', ...layerOf('lsoa'), filter: ['==', ['get', 'code'], ''], paint: { 'line-color': '#fff', 'line-width': 6 } });
  map.addLayer({ id: 'selected-line', type: 'line', source: 'lsoa25', ...layerOf('lsoa'), filter: ['==', ['get', 'code'], ''], paint: { 'line-color': '#000', 'line-width': 3 } });
  map.addLayer({ id: 'selected11-casing', type: 'line', source: 'lsoa19', ...layerOf('lsoa-2011'), filter: ['==', ['get', 'code'], ''], layout: { visibility: 'none' }, paint: { 'line-color': '#fff', 'line-width': 6 } });
  map.addLayer({ id: 'selected11-line', type: 'line', source: 'lsoa19', ...layerOf('lsoa-2011'), filter: ['==', ['get', 'code'], ''], layout: { visibility: 'none' }, paint: { 'line-color': '#000', 'line-width': 3 } });
  map.addLayer({ id: 'selected-ward-line', type: 'line', source: 'wards', ...layerOf('wards'), ...wardZoom, filter: ['==', ['get', 'code'], ''], paint: { 'line-color': '#000', 'line-width': 4, 'line-dasharray': [2, 1] } });

  for (const [i, c] of meta.categories.entries()) {
    const canvas = drawSymbol(symbolFor(i), 22);
    const img = canvas.getContext('2d').getImageData(0, 0, 22, 22);
    map.addImage(`sym-${c.id}`, { width: 22, height: 22, data: img.data });
    map.addLayer({
      id: `asset-${c.id}`,
      type: 'symbol',
      source: 'assets',
      filter: ['==', ['get', 'category'], c.id],
      // England (tiles): 20,000 symbols would hide the choropleth; they
      // appear from town scale.
      ...(tiles ? { minzoom: ASSET_MINZOOM_TILED } : {}),
      layout: { 'icon-image': `sym-${c.id}`, 'icon-allow-overlap': true, 'icon-size': ['interpolate', ['linear'], ['zoom'], 8, 0.6, 13, 1] },
    });
  }
  if (tiles) {
    // England: 300 district name markers take the main thread for a while;
    // after the first frame, so that the tiles are already being fetched.
    map.once('render', () => {
      addLabels('wards', wardLabels);
      addLabels('districts', districtLabels);
    });
  } else {
    addLabels('wards', wardLabels);
    addLabels('districts', districtLabels);
  }
  setVisible(['ward-line'], state.wards);
  setVisible(['district-line'], state.districts);
  applyAssetVisibility();
  if (state.basemap) applyBasemap();
  if (state.year === 2019) await ensure2019();
  if (state.mode === 'distance') await showDistances();
  applyDeprivationStyle();
  status.textContent = '';
}

/**
 * Tiled (England) view: loads the asset points once the map nears town zoom
 * (their symbols show from ASSET_MINZOOM_TILED): the 30,000 points would
 * otherwise hold the first render. Resolves once they are on the map.
 */
let tiledAssets = null;
function loadTiledAssets() {
  if (tiledAssets || map.getZoom() < ASSET_MINZOOM_TILED - 1) return tiledAssets;
  tiledAssets = getJson('/web/api/assets').then((fc) => {
    map.getSource('assets').setData(fc);
  }).catch((e) => { tiledAssets = null; console.error(e); });
  return tiledAssets;
}

let loaded2019 = null;
function ensure2019() {
  // Tiled (large regions): the 2019 layer comes as tiles, nothing to load.
  if (state.tiles) return Promise.resolve();
  if (!loaded2019) {
    loaded2019 = getJson('/web/api/lsoa-layer?year=2019').then((fc) => {
      map.getSource('lsoa19').setData(fc);
      window.gapmap.data.lsoa19 = fc;
    });
  }
  return loaded2019;
}

// ---------------------------------------------------------------- controls

function buildControls() {
  const sel = $('#domain');
  const groups = [['index', 'Index'], ['domain', 'Domains'], ['subdomain', 'Sub-domains']];
  for (const [kind, label] of groups) {
    const og = document.createElement('optgroup');
    og.label = label;
    for (const ind of indicators(2025).filter((i) => i.kind === kind)) {
      const o = document.createElement('option');
      o.value = ind.id;
      o.textContent = ind.label;
      og.append(o);
    }
    sel.append(og);
  }
  sel.value = state.domain;
  if (sel.value !== state.domain) state.domain = 'imd';
  sel.addEventListener('change', () => { state.domain = sel.value; applyDeprivationStyle(); refreshSelection(); });

  for (const r of document.querySelectorAll('input[name=mode]')) {
    r.checked = r.value === state.mode;
    r.addEventListener('change', async () => {
      if (!r.checked) return;
      state.mode = r.value;
      if (state.mode === 'distance') await showDistances();
      applyDeprivationStyle();
    });
  }
  const distSel = $('#dist-category');
  for (const c of meta.categories) distSel.insertAdjacentHTML('beforeend', `<option value="${esc(c.id)}">${esc(c.label)}</option>`);
  distSel.value = state.distCategory;
  distSel.addEventListener('change', async () => { state.distCategory = distSel.value; await showDistances(); applyDeprivationStyle(); });
  for (const r of document.querySelectorAll('input[name=year]')) {
    r.checked = Number(r.value) === state.year;
    r.addEventListener('change', async () => {
      if (!r.checked) return;
      state.year = Number(r.value);
      if (state.year === 2019) await ensure2019();
      applyDeprivationStyle();
    });
  }
  for (const r of document.querySelectorAll('input[name=pick]')) {
    r.checked = r.value === state.pick;
    r.addEventListener('change', () => { if (r.checked) { state.pick = r.value; writeHash(); } });
  }
  const wards = $('#show-wards');
  wards.checked = state.wards;
  wards.addEventListener('change', () => { state.wards = wards.checked; setVisible(['ward-line'], state.wards); updateLabels(); writeHash(); });
  const districts = $('#show-districts');
  districts.checked = state.districts;
  districts.addEventListener('change', () => { state.districts = districts.checked; setVisible(['district-line'], state.districts); updateLabels(); writeHash(); });
  const basemap = $('#show-basemap');
  basemap.checked = state.basemap;
  basemap.addEventListener('change', () => { state.basemap = basemap.checked; applyBasemap(); });
  const coverage = $('#show-coverage');
  coverage.checked = state.coverage;
  coverage.addEventListener('change', () => { state.coverage = coverage.checked; applyAssetVisibility(); });

  const toggles = $('#asset-toggles');
  const sources = new Map(meta.sources.map((s) => [s.id, s]));
  for (const [i, c] of meta.categories.entries()) {
    const label = document.createElement('label');
    const input = document.createElement('input');
    input.type = 'checkbox';
    input.value = c.id;
    input.checked = state.assets.has(c.id);
    input.addEventListener('change', () => {
      if (input.checked) state.assets.add(c.id); else state.assets.delete(c.id);
      applyAssetVisibility();
    });
    const img = document.createElement('img');
    img.src = drawSymbol(symbolFor(i), 36).toDataURL();
    img.alt = '';
    const text = document.createElement('span');
    text.textContent = c.label;
    const partial = c.sources.map((s) => sources.get(s)).filter((s) => s && s.coverage.type !== 'code_prefix');
    if (partial.length && c.sources.every((s) => sources.get(s)?.coverage.type !== 'code_prefix')) {
      text.title = `Partial coverage: ${partial.map((s) => s.coverage.description).join('; ')}`;
      text.textContent += ' *';
    }
    const count = document.createElement('span');
    count.className = 'count';
    count.textContent = c.count;
    label.append(input, img, text, count);
    toggles.append(label);
  }
  const note = document.createElement('p');
  note.className = 'hint';
  note.textContent = '* Partial coverage only (see the dashed outlines and the footer).';
  toggles.append(note);

  const gapCat = $('#gap-category');
  for (const c of meta.categories) {
    const o = document.createElement('option');
    o.value = c.id;
    o.textContent = c.label;
    gapCat.append(o);
  }
  const gapDec = $('#gap-decile');
  for (let d = 1; d <= 10; d += 1) {
    const o = document.createElement('option');
    o.value = String(d);
    o.textContent = d === 1 ? '1 (most deprived 10%)' : `${d} (most deprived ${d * 10}%)`;
    gapDec.append(o);
  }
  // One gap definition: the defaults come from the server (shared with /gaps and the ward profiles).
  const defaults = meta.gap_defaults ?? { max_decile: 2, min_distance_m: 1600 };
  gapDec.value = String(defaults.max_decile);
  $('#gap-distance').value = String(defaults.min_distance_m);
  const hint = document.createElement('p');
  hint.className = 'hint';
  hint.id = 'gap-defaults';
  hint.textContent = `GapMap's default gap: IMD decile ${defaults.max_decile} or below and nearest asset at least ${Number(defaults.min_distance_m).toLocaleString('en-GB')} m away (straight line); the ward profiles use the same defaults, or the thresholds chosen here.`;
  $('#gap-form').append(hint);
  if (state.gap) {
    gapCat.value = state.gap.category;
    gapDec.value = String(state.gap.max_decile);
    $('#gap-distance').value = String(state.gap.min_distance_m);
  }
  $('#gap-form').addEventListener('submit', (e) => {
    e.preventDefault();
    state.gap = { category: gapCat.value, max_decile: Number(gapDec.value), min_distance_m: Number($('#gap-distance').value) };
    runGap();
  });
  $('#gap-clear').addEventListener('click', clearGap);
  const png = document.createElement('button');
  png.type = 'button';
  png.id = 'export-png';
  png.textContent = 'Download this map view (PNG)';
  png.addEventListener('click', () => { exportPng().catch((e) => console.error(e)); });
  $('#legend').after(png);

  const toggleControls = $('#toggle-controls');
  toggleControls.addEventListener('click', () => {
    const open = $('#controls').classList.toggle('open');
    toggleControls.setAttribute('aria-expanded', String(open));
  });
  const close = document.createElement('button');
  close.type = 'button';
  close.id = 'close-controls';
  close.className = 'only-narrow close-controls';
  close.textContent = 'Close ✕';
  close.setAttribute('aria-label', 'Close the map controls');
  close.addEventListener('click', () => { closeControlsOnPhone(); toggleControls.focus(); });
  $('#controls').prepend(close);
}

/** The hover text of an LSOA: name, code and the value shown. */
function hoverLabel(p) {
  const ind = indicator(state.domain, state.mode === 'level' ? state.year : 2025);
  let value;
  if (state.mode === 'distance') {
    const m = window.gapmap.data.distances?.get(p.code);
    return `<strong>${esc(p.name)}</strong> <span class="muted">${esc(p.code)}${p.ward_name ? ` · ${esc(p.ward_name)}` : ''}</span><br>Nearest ${esc(nounOf(state.distCategory))}: ${m === null || m === undefined ? 'no data (outside the source\'s coverage)' : `${fmtDist(m)} on average`}`;
  }
  if (state.mode === 'change') {
    const c = p[`c_${state.domain}`];
    value = c === null || c === undefined ? 'no data' : `change ${c > 0 ? '+' : ''}${c} decile${Math.abs(c) === 1 ? '' : 's'}`;
  } else {
    const d = p[`d_${state.domain}`];
    value = d === null || d === undefined ? 'no data' : `decile ${d}`;
  }
  const where = p.ward_name ? ` · ${esc(p.ward_name)}` : '';
  const gap = state.noDataCodes.includes(p.code) ? '<br><em>No data for the gap query here</em>' : state.gapCodes.includes(p.code) ? '<br><strong>Gap</strong>' : '';
  return `<strong>${esc(p.name)}</strong> <span class="muted">${esc(p.code)}${where}</span><br>${esc(ind?.label ?? state.domain)}: ${esc(value)}${gap}`;
}

/** Loads the distance layer's values for the chosen category onto the LSOAs. */
async function showDistances() {
  const r = await fetch(`/gaps?category=${encodeURIComponent(state.distCategory)}&max_decile=10&min_distance_m=0&f=csv`, { headers: { Accept: 'text/csv', ...authHeaders() } });
  if (!r.ok) throw new Error(`distance layer: HTTP ${r.status}`);
  const text = await r.text();
  const distances = await loadDistances(state.distCategory, async () => text);
  window.gapmap.data.distances = distances;
  applyDistances(map, distances, state.tiles ? 'lsoa' : null);
}

/** Downloads the current view as a PNG with legend, scale, vintages and attribution. */
async function exportPng() {
  const ind = indicator(state.domain, state.mode === 'level' ? state.year : 2025);
  const label = ind ? ind.label : state.domain;
  const change = state.mode === 'change';
  const swatches = change
    ? CHANGE_CLASSES.map((c) => ({ colour: c.colour, label: c.label }))
    : DECILE_COLOURS.map((c, i) => ({ colour: c, label: i === 0 ? '1 = most deprived 10% in England' : i === 9 ? '10 = least deprived 10%' : String(i + 1) }));
  swatches.push({ colour: NO_DATA, label: 'No data' });
  const notes = [
    change ? 'English Indices of Deprivation 2019 → 2025, on 2021 LSOAs (2019 carried over by the ONS lookup).'
      : `English Indices of Deprivation ${state.year} (MHCLG), ${state.year === 2025 ? '2021' : '2011'} LSOAs (ONS).`,
    state.gap ? `Gap query: ${state.gap.category.replace(/_/g, ' ')}, decile ≤ ${state.gap.max_decile}, ≥ ${state.gap.min_distance_m} m (straight line). ${$('#gap-headline')?.textContent ?? ''}` : '',
    `Assets shown: ${[...state.assets].join(', ') || 'none'}. Exported ${new Date().toISOString().slice(0, 10)} from GapMap, ${meta.region.name}.`,
  ].filter(Boolean);
  const attribution = 'Contains public sector information licensed under the Open Government Licence v3.0 (ONS, MHCLG, NHS England, Arts Council England). Contains OS data © Crown copyright and database right 2025. Give Food (public domain). © OpenStreetMap contributors (ODbL).';
  const blob = await mapPng(map, { title: `${change ? 'Change in ' : ''}${label}${change ? ', 2019 → 2025' : `, ${state.year}`}`, swatches, notes, attribution });
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = `gapmap-${state.domain}-${state.mode === 'change' ? 'change' : state.year}.png`;
  document.body.append(a);
  a.click();
  a.remove();
}

/** Closes the Controls drawer (phone layout), so results show. */
function closeControlsOnPhone() {
  $('#controls').classList.remove('open');
  $('#toggle-controls').setAttribute('aria-expanded', 'false');
}

function buildAttribution() {
  const lines = new Map();
  const add = (title, vintage, attribution) => { if (attribution) lines.set(attribution + title, `${esc(attribution)} <span class="muted">(${esc(title)}, ${esc(vintage)})</span>`); };
  for (const r of meta.releases) add(r.title, String(r.year), r.attribution);
  for (const s of meta.area_sources) add(s.title, s.vintage, s.attribution);
  for (const s of meta.sources) add(s.title, s.vintage, `${s.attribution}${s.coverage.type !== 'code_prefix' ? ` — coverage: ${s.coverage.description}` : ''}`);
  $('#attribution').innerHTML = `<details><summary><strong>Data sources:</strong> ONS boundaries, lookups and Census 2021; MHCLG English Indices of Deprivation 2019 and 2025;
    NHS England ODS; Arts Council England; Oxford City Council (all OGL v3). Contains OS data © Crown copyright and database right 2025 (Code-Point Open; Royal Mail and ONS data © 2025).
    Give Food (public domain). © OpenStreetMap contributors (ODbL 1.0).${meta.sources.some((s) => s.id === 'register') ? ' Community asset register: entries recorded by local teams (source "register", OGL v3).' : ''} Deciles: 1 = most deprived 10% of LSOAs in England; distances are straight-line. Details and vintages…</summary>
    ${[...lines.values()].map((l) => `<p>${l}</p>`).join('')}<p>Optional basemap (off by default): © OpenStreetMap contributors, ODbL, tiles from openstreetmap.org.</p></details>`;
}

// ---------------------------------------------------------------- selection

function setSelectionHighlight() {
  const s = state.selection;
  map.setFilter('selected-line', ['==', ['get', 'code'], s && s.kind === 'lsoa' ? s.code : '']);
  map.setFilter('selected-casing', ['==', ['get', 'code'], s && s.kind === 'lsoa' ? s.code : '']);
  map.setFilter('selected-ward-line', ['==', ['get', 'code'], s && s.kind === 'ward' ? s.code : '']);
  for (const id of ['selected11-casing', 'selected11-line']) map.setFilter(id, ['==', ['get', 'code'], s && s.kind === 'lsoa11' ? s.code : '']);
  // Shown only for a selected 2011 LSOA: a visible layer makes MapLibre
  // fetch the 2011 tiles, which the 2025 view does not need.
  setVisible(['selected11-casing', 'selected11-line'], Boolean(s && s.kind === 'lsoa11'));
}

function chip(decile) {
  if (decile === null || decile === undefined) return '<span class="chip" style="background:#d0d0d0">–</span>';
  const shown = Number.isInteger(decile) ? decile : decile.toFixed(1);
  return `<span class="chip" style="background:${colourOfDecile(decile)};color:${inkOn(decile)}">${shown}</span>`;
}
function changeChip(v) {
  if (v === null || v === undefined) return '–';
  const sign = v > 0 ? '+' : '';
  return `<span class="chip" style="background:${colourOfChange(v)}">${sign}${v}</span>`;
}

async function selectLsoa(code, { fly = false } = {}) {
  state.selection = { kind: 'lsoa', code };
  setSelectionHighlight();
  writeHash();
  const body = $('#panel-body');
  body.innerHTML = `<h2>LSOA ${esc(code)}</h2><p>Loading…</p>`;
  let p;
  try {
    p = await getJson(`/web/api/lsoa/${encodeURIComponent(code)}`);
  } catch (e) {
    body.innerHTML = `<h2>LSOA ${esc(code)}</h2><p class="error">Could not load this LSOA (${esc(e.message)}).</p>`;
    return;
  }
  if (state.selection?.code !== code) return;
  if (fly && p.bbox) map.fitBounds([[p.bbox[0], p.bbox[1]], [p.bbox[2], p.bbox[3]]], { padding: 80, maxZoom: 14, duration: 0 });
  const rows = p.indicators.map((i) => `<tr data-indicator="${esc(i.id)}"${i.id === state.domain ? ' class="current"' : ''}>
      <th scope="row">${esc(i.label)}</th><td class="num d2025">${chip(i.decile)}</td>
      <td class="num d2019">${chip(i.decile_2019)}</td><td class="num change">${changeChip(i.change)}</td></tr>`).join('');
  const nearest = p.nearest.map((n) => `<tr data-category="${esc(n.category)}"><th scope="row">${esc(n.label)}</th>
      <td>${!n.covered ? '<em class="no-data">No data here</em> <span class="muted">(outside the source\'s coverage)</span>' : n.name ? esc(n.name) : '<em class="muted">None in the data</em>'}${caveatHtml(meta, n.category, { tag: 'small' })}</td>
      <td class="num distance">${n.covered ? fmtDist(n.distance_m) : '–'}</td></tr>`).join('');
  const link = p.link_2019;
  body.innerHTML = `
    <h2 id="panel-title">${esc(p.name)} <span class="muted">${esc(p.code)}</span></h2>
    <dl class="facts">
      <dt>Residents</dt><dd><span id="panel-residents">${fmt(p.residents)}</span> <span class="muted">(Census 2021)</span></dd>
      <dt>Ward</dt><dd>${p.ward ? `<a href="#" data-ward="${esc(p.ward.code)}">${esc(p.ward.name)}</a>` : '–'}</dd>
      <dt>District</dt><dd>${p.district ? esc(p.district.name) : '–'}</dd>
      <dt>Rural/urban</dt><dd>${p.rural_urban ? esc(p.rural_urban.classification) : '–'}</dd>
    </dl>
    ${p.ward ? `<p><a id="ward-profile-link" href="/wards/${encodeURIComponent(p.ward.code)}${wardProfileQuery()}">Full ward profile: ${esc(p.ward.name)} →</a></p>` : ''}
    <h3>Deprivation deciles (1 = most deprived 10% in England)</h3>
    <table id="lsoa-deciles"><thead><tr><th>Indicator</th><th class="num">2025</th><th class="num">2019</th><th class="num">Change</th></tr></thead><tbody>${rows}</tbody></table>
    <p class="hint">2019: ${link.method === 'matched' ? `the matched 2011 LSOA ${esc(link.lsoa11.map((l) => `${l.code} (${l.change})`).join(', '))}` : link.method === 'largest parent' ? `the most populous of the merged 2011 LSOAs ${esc(link.lsoa11.map((l) => l.code).join(', '))}` : 'no linked 2011 LSOA'}. Change = 2025 − 2019; positive = less deprived relative to England.</p>
    <h3>Nearest community assets</h3>
    <table id="lsoa-nearest"><thead><tr><th>Category</th><th>Nearest</th><th class="num">Distance</th></tr></thead><tbody>${nearest}</tbody></table>
    <p class="hint" id="nearest-note">Distance: straight line, averaged over the LSOA's postcode units (all current Code-Point Open units in it), to the nearest asset of each category. "No data here" means the category's source does not cover this LSOA: there may be assets GapMap does not know of.</p>`;
  body.querySelector('[data-ward]')?.addEventListener('click', (e) => { e.preventDefault(); selectWard(p.ward.code); });
}

function selectLsoa11(props) {
  state.selection = { kind: 'lsoa11', code: props.code };
  setSelectionHighlight();
  writeHash();
  const rows = indicators(2019).filter((i) => i.has_decile).map((i) => `<tr data-indicator="${esc(i.id)}"><th scope="row">${esc(i.label)}</th><td class="num">${chip(props[`d_${i.id}`])}</td></tr>`).join('');
  const became = String(props.lsoa21 ?? '').split(',').filter(Boolean);
  const names = new Map((window.gapmap.data.lsoa25?.features ?? []).map((f) => [f.properties.code, f.properties.name]));
  $('#panel-body').innerHTML = `<h2 id="panel-title">${esc(props.name)} <span class="muted">${esc(props.code)} (2011 LSOA)</span></h2>
    <dl class="facts"><dt>Population</dt><dd>${fmt(props.population_2015)} <span class="muted">(mid-2015, IoD2019 denominator)</span></dd>
    <dt>Became (2021)</dt><dd id="lsoa11-became">${became.length ? became.map((c) => `<a href="#" data-lsoa21="${esc(c)}">${esc(names.get(c) ?? c)}</a> <span class="muted">${esc(c)}</span>`).join(', ') : '–'}</dd></dl>
    <h3>IoD2019 deciles</h3><table><tbody>${rows}</tbody></table>
    <p class="hint">A 2021 LSOA (2025 view) has nearest assets and the change since 2019.</p>`;
  for (const a of document.querySelectorAll('#panel-body [data-lsoa21]')) {
    a.addEventListener('click', (e) => { e.preventDefault(); showYear(2025); selectLsoa(a.dataset.lsoa21, { fly: true }); });
    // Tiled view: no 2021 layer in the page to name them from; ask.
    if (!names.has(a.dataset.lsoa21)) {
      getJson(`/web/api/lsoa/${encodeURIComponent(a.dataset.lsoa21)}`).then((l) => { if (l?.name) a.textContent = l.name; }).catch(() => {});
    }
  }
}

/** Switches the year radio buttons and the map (2019 loads its layer first). */
async function showYear(year) {
  state.year = year;
  for (const y of document.querySelectorAll('input[name=year]')) y.checked = Number(y.value) === year;
  if (year === 2019) await ensure2019();
  applyDeprivationStyle();
}

/**
 * A 2011 LSOA from the OGC API (tiled mode, where no 2019 GeoJSON layer is
 * loaded), with the properties the tiles and the 2019 layer carry; `null`
 * when the region has no such LSOA.
 */
async function lsoa11Feature(code) {
  let f;
  try {
    f = await getJson(`/collections/lsoa-2011/items/${encodeURIComponent(code)}`);
  } catch {
    return null;
  }
  const p = f.properties;
  const props = { code: p.code, name: p.name, population_2015: p.population_2015, ward17_code: p.ward17, district_code: p.district };
  for (const i of indicators(2019)) props[`d_${i.id}`] = p[`${i.id}_decile`];
  // The 2021 LSOAs it became: the rendered tile feature has them, once in view.
  const rendered = map.querySourceFeatures('lsoa19', { sourceLayer: 'lsoa-2011', filter: ['==', ['get', 'code'], code] });
  props.lsoa21 = rendered[0]?.properties.lsoa21 ?? '';
  return { type: 'Feature', geometry: f.geometry, properties: props };
}

/** Selects a 2011 LSOA by code (a shared `sel=lsoa11:` link), loading the 2019 layer. */
async function selectLsoa11Code(code, { fly = false } = {}) {
  await ensure2019();
  const f = state.tiles ? await lsoa11Feature(code) : (window.gapmap.data.lsoa19?.features ?? []).find((x) => x.properties.code === code);
  if (!f) {
    $('#panel-body').innerHTML = `<h2>2011 LSOA ${esc(code)}</h2><p class="error">Not a 2011 LSOA of this region.</p>`;
    return;
  }
  selectLsoa11(f.properties);
  if (fly) {
    const b = new maplibregl.LngLatBounds();
    for (const poly of f.geometry.coordinates) for (const ring of poly) for (const c of ring) b.extend(c);
    map.fitBounds(b, { padding: 80, maxZoom: 14, duration: 0 });
  }
}

/** The district panel: official IoD summaries first, GapMap's roll-up labelled. */
async function selectDistrict(code, { fly = false, bbox = null } = {}) {
  state.selection = { kind: 'district', code };
  setSelectionHighlight();
  writeHash();
  const body = $('#panel-body');
  body.innerHTML = `<h2>District ${esc(code)}</h2><p>Loading…</p>`;
  let f;
  try {
    f = await getJson(`/collections/districts/items/${encodeURIComponent(code)}`);
  } catch (e) {
    body.innerHTML = `<h2>District ${esc(code)}</h2><p class="error">Could not load this district (${esc(e.message)}).</p>`;
    return;
  }
  if (state.selection?.code !== code) return;
  if (fly && bbox) map.fitBounds([[bbox[0], bbox[1]], [bbox[2], bbox[3]]], { padding: 40, duration: 0 });
  body.innerHTML = districtHtml(f.properties, { regionName: meta.region.name });
}

/** The printable profile of the whole region, with the map's gap thresholds. */
function regionProfileHref() {
  return `/web/static/region.html${wardProfileQuery()}`;
}

/** The region panel: what the region profile holds, and the link to it. */
function selectRegion({ fly = false, bbox = null } = {}) {
  state.selection = { kind: 'region', code: meta.region.id };
  setSelectionHighlight();
  writeHash();
  if (fly && bbox) map.fitBounds([[bbox[0], bbox[1]], [bbox[2], bbox[3]]], { padding: 20, duration: 0 });
  const districts = meta.districts ?? [];
  $('#panel-body').innerHTML = `<h2 id="panel-title">${esc(meta.region.name)} <span class="muted">whole region</span></h2>
    <dl class="facts"><dt>Districts</dt><dd>${fmt(districts.length)}</dd><dt>LSOAs (2021)</dt><dd>${fmt(meta.region.lsoa_count)}</dd></dl>
    <p><a id="region-profile-link" href="${esc(regionProfileHref())}">${esc(meta.region.name)} profile (printable) →</a></p>
    <p class="hint">Residents, IMD 2025 and 2019 by decile, the districts' official IoD summary measures, and the gap answer for every asset category. The region's own figures are GapMap's roll-up of the official LSOA data: MHCLG publishes district summaries, and GapMap reads no county-level file.</p>`;
}

async function selectWard(code, { fly = false } = {}) {
  state.selection = { kind: 'ward', code };
  setSelectionHighlight();
  writeHash();
  const body = $('#panel-body');
  body.innerHTML = `<h2>Ward ${esc(code)}</h2><p>Loading…</p>`;
  let w;
  try {
    w = await getJson(`/web/api/ward/${encodeURIComponent(code)}`);
  } catch (e) {
    body.innerHTML = `<h2>Ward ${esc(code)}</h2><p class="error">Could not load this ward (${esc(e.message)}).</p>`;
    return;
  }
  if (state.selection?.code !== code) return;
  if (fly && w.bbox) map.fitBounds([[w.bbox[0], w.bbox[1]], [w.bbox[2], w.bbox[3]]], { padding: 60, maxZoom: 14, duration: 0 });
  const pct = (x) => (x === null || x === undefined ? '–' : `${(x * 100).toFixed(1)}%`);
  const rows = w.domains.map((d) => `<tr data-indicator="${esc(d.id)}"><th scope="row">${esc(d.label)}</th>
    <td class="num">${pct(d.ward?.resident_share_top20)}</td><td class="num">${pct(d.district?.resident_share_top20)}</td></tr>`).join('');
  const s = w.summary?.ward ?? {};
  const y25 = s['2025'] ?? {};
  const y19 = s['2019'] ?? {};
  const byDecile = (y25.lsoas_by_decile ?? []).map((n, i) => (n ? `${i + 1}: ${n}` : '')).filter(Boolean).join(', ');
  const assets = w.assets.map((a) => `<tr data-category="${esc(a.category)}"><th scope="row">${esc(a.label)}${caveatHtml(meta, a.category, { tag: 'small' })}</th><td class="num">${a.covered ? a.count : '<em class="no-data">no data</em>'}</td></tr>`).join('');
  body.innerHTML = `
    <h2 id="panel-title">${esc(w.name)} <span class="muted">${esc(w.code)}</span></h2>
    <dl class="facts">
      <dt>District</dt><dd>${w.district ? esc(w.district.name) : '–'}</dd>
      <dt>Residents</dt><dd><span id="panel-residents">${fmt(w.residents)}</span> <span class="muted">(Census 2021)</span></dd>
      <dt>LSOAs</dt><dd>${w.lsoa_count}</dd>
      <dt>IMD score 2019 → 2025</dt><dd id="panel-imd-score">${y19.imd_score ?? '–'} → ${y25.imd_score ?? '–'} <span class="muted">(weighted by Census 2021 residents)</span></dd>
      <dt>Residents in England's most deprived 10% / 20%</dt><dd id="panel-top-shares">${pct(y25.resident_share_top10)} / ${pct(y25.resident_share_top20)} <span class="muted">(IMD 2025)</span></dd>
      <dt>LSOAs by IMD 2025 decile</dt><dd id="panel-by-decile">${esc(byDecile || '–')}</dd>
      ${s.lsoas_unknown_residents ? `<dt>LSOAs with unknown residents</dt><dd>${s.lsoas_unknown_residents} <span class="muted">(no weight)</span></dd>` : ''}
    </dl>
    <p><a id="ward-profile-link" href="/wards/${encodeURIComponent(w.code)}${wardProfileQuery()}">Full ward profile (printable) →</a>
      · <a id="ward-compare-link" href="/web/static/compare.html?areas=ward:${encodeURIComponent(w.code)}">Compare with other areas →</a></p>
    <h3>Residents in England's most deprived 20%, 2025</h3>
    <table><thead><tr><th>Indicator</th><th class="num">Ward</th><th class="num">District</th></tr></thead><tbody>${rows}</tbody></table>
    <p class="hint">${esc(w.note)}</p>
    <h3>Assets in the ward</h3>
    <table><tbody>${assets}</tbody></table>`;
}

/** The map's gap thresholds for the ward profile link (empty without a gap query). */
function wardProfileQuery() {
  if (!state.gap) return '';
  return `?${new URLSearchParams({ max_decile: String(state.gap.max_decile), min_distance_m: String(state.gap.min_distance_m) })}`;
}

function refreshSelection() {
  const s = state.selection;
  if (!s) return;
  if (s.kind === 'lsoa') selectLsoa(s.code);
  else if (s.kind === 'ward') selectWard(s.code);
  else if (s.kind === 'district') selectDistrict(s.code);
}

function assetPopup(f, lngLat) {
  const p = f.properties;
  const html = `<strong>${esc(p.name)}</strong><br>${esc(p.category_label)}${p.address ? `<br>${esc(p.address)}` : ''}${p.postcode ? ` ${esc(p.postcode)}` : ''}
    <br><span class="muted">${esc(p.source_title)}, ${esc(p.vintage)}${p.in_region === false ? ' · outside the region (kept: near its edge)' : ''}</span>`;
  new maplibregl.Popup({ closeButton: true, maxWidth: '260px' }).setLngLat(lngLat).setHTML(html).addTo(map);
}

function onMapClick(e) {
  if (drawClick(e)) return;
  if (registerClick(e)) return;
  const assetLayers = meta.categories.filter((c) => state.assets.has(c.id)).map((c) => `asset-${c.id}`);
  const asset = e.lngLat ? map.queryRenderedFeatures(e.point, { layers: assetLayers })[0] : null;
  if (asset) { assetPopup(asset, asset.geometry.coordinates); return; }
  if (state.pick === 'ward') {
    // The ward layer itself, so the 2019 view (2011 LSOAs) selects wards too.
    const f = map.queryRenderedFeatures(e.point, { layers: ['ward-fill'] })[0]
      ?? map.queryRenderedFeatures(e.point, { layers: ['lsoa25-fill'] })[0];
    const wardCode = f?.properties.ward_code ?? f?.properties.code;
    if (wardCode) { selectWard(wardCode); return; }
  }
  const layer = activeFillLayer();
  const f = map.queryRenderedFeatures(e.point, { layers: [layer] })[0];
  if (!f) return;
  if (layer === 'lsoa19-fill') selectLsoa11(f.properties);
  else selectLsoa(f.properties.code);
}

// ---------------------------------------------------------------- gaps

function gapParams() {
  const g = state.gap;
  return new URLSearchParams({
    category: g.category,
    max_decile: String(g.max_decile),
    min_distance_m: String(g.min_distance_m),
    domain: state.domain,
    year: '2025',
  });
}

function gapCode(f) {
  const p = f.properties || {};
  return p.code ?? p.lsoa21_code ?? p.lsoa_code ?? p.lsoa ?? f.id;
}

function summaryRows(summary, fc) {
  const s = summary || {};
  const lsoas = s.lsoas ?? s.lsoa_count ?? s.count ?? fc.features.length;
  const residents = s.residents ?? s.population ?? fc.features.reduce((t, f) => t + (Number(f.properties?.residents) || 0), 0);
  const wardsRaw = s.wards ?? s.ward_count;
  const wards = Array.isArray(wardsRaw) ? wardsRaw.length : wardsRaw;
  const wardList = Array.isArray(wardsRaw) ? wardsRaw : s.ward_codes;
  const wardName = new Map((window.gapmap.data.wards?.features ?? []).map((f) => [f.properties.code, f.properties.name]));
  const wardNames = Array.isArray(s.ward_names) ? s.ward_names.join(', ')
    : Array.isArray(wardList) ? wardList.map((w) => (typeof w === 'string' ? wardName.get(w) ?? w : w.name ?? w.code)).join(', ') : null;
  return { lsoas, residents, wards, wardNames };
}

async function runGap() {
  const body = $('#panel-body');
  const params = gapParams();
  const url = `/gaps?${params}`;
  const cat = meta.categories.find((c) => c.id === state.gap.category);
  body.innerHTML = '<h2>Gaps</h2><p>Searching…</p>';
  closeControlsOnPhone();
  let fc;
  try {
    const r = await fetch(url, { headers: { Accept: 'application/geo+json, application/json', ...authHeaders() } });
    if (r.status === 404) {
      state.gapCodes = [];
      body.innerHTML = `<h2>Gaps</h2><p class="error" id="gap-error">The gap analysis endpoint (/gaps) is not available on this server (HTTP 404). The planner API may not be deployed yet.</p>`;
      applyGapHighlight();
      return;
    }
    if (!r.ok) {
      const text = await r.text();
      throw new Error(`HTTP ${r.status}: ${text.slice(0, 300)}`);
    }
    fc = await r.json();
  } catch (e) {
    state.gapCodes = [];
    body.innerHTML = `<h2>Gaps</h2><p class="error" id="gap-error">Gap query failed: ${esc(e.message)}</p>`;
    applyGapHighlight();
    return;
  }
  const features = fc.features || [];
  state.gapCodes = features.map(gapCode).filter(Boolean);
  state.noDataCodes = (fc.cannot_answer?.features ?? []).map((f) => f.properties.lsoa21_code);
  applyGapHighlight();
  const s = summaryRows(fc.summary, fc);
  const dom = indicator(state.domain)?.label ?? state.domain;
  const csv = `/gaps?${params}&f=csv`;
  const geojson = `/gaps?${params}&f=json`;
  const list = features.slice(0, 200).map((f) => {
    const p = f.properties || {};
    const code = gapCode(f);
    const dist = p.distance_m ?? p.mean_distance_m;
    return `<li><a href="#" data-lsoa="${esc(code)}">${esc(p.lsoa21_name ?? p.name ?? code)}</a> ${p.decile ? chip(p.decile) : ''} ${dist !== undefined ? fmtDist(dist) : ''} <span class="muted">${p.ward_name ? `${esc(p.ward_name)} · ` : ''}${esc(code)}</span></li>`;
  }).join('');
  body.innerHTML = `
    <h2 id="gap-title">Gaps: ${esc(cat?.label ?? state.gap.category)}</h2>
    ${gapHeadlineHtml(fc)}
    <p>Deprived: ${esc(dom)} decile ${state.gap.max_decile} or below (2025). Gap: the average distance from the LSOA's postcodes to the nearest ${esc(nounOf(state.gap.category))} is at least ${fmtDist(state.gap.min_distance_m)}.</p>
    ${caveatHtml(meta, state.gap.category)}
    <dl class="facts" id="gap-summary">
      <dt>LSOAs</dt><dd data-key="lsoas">${fmt(s.lsoas)}</dd>
      <dt>Residents</dt><dd data-key="residents">${fmt(s.residents)}</dd>
      <dt>Wards</dt><dd data-key="wards">${fmt(s.wards)}${s.wardNames ? ` <span class="muted">(${esc(s.wardNames)})</span>` : ''}</dd>
    </dl>
    <div class="downloads"><a id="gap-csv" href="${esc(csv)}" download="gaps.csv">Download CSV</a><a id="gap-geojson" href="${esc(geojson)}" download="gaps.geojson">Download GeoJSON</a></div>
    <p class="hint">Distances are straight lines, not travel routes. The downloads list the gaps and, with their reason, the deprived LSOAs without an answer.</p>
    ${features.length ? `<h3>Gap LSOAs (${features.length})</h3><ol class="gap-list">${list}</ol>` : ''}
    ${cannotAnswerHtml(fc, { chip })}`;
  for (const a of body.querySelectorAll('[data-lsoa]')) {
    a.addEventListener('click', (e) => { e.preventDefault(); selectLsoa(a.dataset.lsoa, { fly: true }); });
  }
}

function applyGapHighlight() {
  const filter = ['in', ['get', 'code'], ['literal', state.gapCodes]];
  map.setFilter('gap-line', filter);
  map.setFilter('gap-casing', filter);
  map.setFilter('nodata-fill', ['in', ['get', 'code'], ['literal', state.gap ? state.noDataCodes : []]]);
  applyDeprivationStyle();
}

function clearGap() {
  state.gap = null;
  state.gapCodes = [];
  state.noDataCodes = [];
  applyGapHighlight();
  $('#panel-body').innerHTML = '<h2>Select an area</h2><p>Gap highlighting cleared.</p>';
}

// ---------------------------------------------------------------- after a register write

/**
 * Reloads what a register write changes: the asset layer (open entries are
 * assets), the category counts, and the gap view (unless `keepPanel`, as
 * the panel then shows something the user is reading).
 */
async function refreshData({ keepPanel = false } = {}) {
  // Tiled view not yet at town zoom: the assets load when it gets there.
  const want = !state.tiles || tiledAssets !== null;
  const [assets, fresh] = await Promise.all([
    want ? getJson('/web/api/assets', { cache: 'no-cache' }) : null,
    getJson('/web/api/meta', { cache: 'no-cache' }),
  ]);
  if (assets) map.getSource('assets').setData(assets);
  for (const c of fresh.categories) {
    const known = meta.categories.find((k) => k.id === c.id);
    if (known) known.count = c.count;
    const count = document.querySelector(`#asset-toggles input[value="${CSS.escape(c.id)}"]`)?.parentElement.querySelector('.count');
    if (count) count.textContent = c.count;
  }
  if (state.gap && !keepPanel) await runGap();
}

// ---------------------------------------------------------------- search

function setupSearch() {
  const form = $('#search-form');
  const input = $('#search-input');
  const list = $('#search-results');
  let results = [];
  let active = -1;
  const close = () => { list.hidden = true; list.innerHTML = ''; active = -1; input.setAttribute('aria-expanded', 'false'); };
  const choose = (r) => {
    close();
    input.value = r.name;
    if (r.kind === 'ward') selectWard(r.code, { fly: true });
    else if (r.kind === 'district') selectDistrict(r.code, { fly: true, bbox: r.bbox });
    else if (r.kind === 'region') selectRegion({ fly: true, bbox: r.bbox });
    else if (r.lsoa && (r.kind === 'lsoa' || r.kind === 'postcode' || r.kind === 'place' || r.kind === 'asset')) {
      if (r.kind !== 'lsoa') map.jumpTo({ center: [r.lon, r.lat], zoom: r.kind === 'place' ? 15 : 14 });
      if (state.year === 2019 && state.mode === 'level') {
        state.year = 2025;
        for (const y of document.querySelectorAll('input[name=year]')) y.checked = y.value === '2025';
        applyDeprivationStyle();
      }
      selectLsoa(r.lsoa, { fly: r.kind === 'lsoa' });
      // Say what was found: a locality or asset is not itself an area.
      if (r.kind === 'place' || r.kind === 'asset') map.once('idle', () => new maplibregl.Popup({ closeButton: true }).setLngLat([r.lon, r.lat]).setHTML(`<strong>${esc(r.name)}</strong><br><span class="muted">${esc(r.detail)}</span>`).addTo(map));
    } else if (r.bbox) map.fitBounds([[r.bbox[0], r.bbox[1]], [r.bbox[2], r.bbox[3]]], { padding: 40, duration: 0 });
  };
  const render = () => {
    list.innerHTML = results.length
      ? results.map((r, i) => `<li role="option" id="sr-${i}" aria-selected="${i === active}" data-i="${i}"><span class="kind">${esc(r.kind.replace(/_/g, ' '))}</span>${esc(r.name)} <span class="muted">${esc(r.kind === 'lsoa' ? r.code : r.detail)}</span></li>`).join('')
      : '<li role="option" aria-disabled="true">No match in this region</li>';
    list.hidden = false;
    input.setAttribute('aria-expanded', 'true');
    if (active >= 0) input.setAttribute('aria-activedescendant', `sr-${active}`); else input.removeAttribute('aria-activedescendant');
    for (const li of list.querySelectorAll('li[data-i]')) li.addEventListener('mousedown', (e) => { e.preventDefault(); choose(results[Number(li.dataset.i)]); });
  };
  const search = async () => {
    const q = input.value.trim();
    if (q.length < 2) { close(); return; }
    const data = await getJson(`/search?q=${encodeURIComponent(q)}`);
    if (input.value.trim() !== q) return;
    results = data.results;
    active = results.length ? 0 : -1;
    render();
  };
  let timer = null;
  input.addEventListener('input', () => { clearTimeout(timer); timer = setTimeout(search, 200); });
  input.addEventListener('keydown', (e) => {
    if (list.hidden) return;
    if (e.key === 'ArrowDown') { e.preventDefault(); active = Math.min(active + 1, results.length - 1); render(); }
    if (e.key === 'ArrowUp') { e.preventDefault(); active = Math.max(active - 1, 0); render(); }
    if (e.key === 'Escape') close();
  });
  input.addEventListener('blur', () => setTimeout(close, 150));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearTimeout(timer);
    if (list.hidden || !results.length) await search();
    if (results.length) choose(results[Math.max(active, 0)]);
  });
}

// ---------------------------------------------------------------- start

async function main() {
  readHash();
  // The first data request: a server that shares data only with signed-in
  // users (`--read-access token`) answers 401, and the sign-in form shows.
  // The page started this request already (index.html); if it failed (a
  // server that wants a token answers 401), ask again with the sign-in form.
  const early = window.gapmapEarlyMeta?.then((r) => (r.ok ? r.json() : null)).catch(() => null);
  meta = (early && await early) || await getJsonSignedIn('/web/api/meta');
  window.gapmap.meta = meta;
  $('#region-name').textContent = `· ${meta.region.name}`;
  const regionLink = $('#region-link');
  if (regionLink) regionLink.textContent = `${meta.region.name} profile: deprivation, districts' official figures, gaps by category →`;
  document.title = `GapMap — ${meta.region.name}`;
  buildControls();
  buildAttribution();
  const b = meta.region.bbox;
  map = new maplibregl.Map({
    container: 'map',
    style: buildStyle(),
    transformRequest,
    bounds: state.view ? undefined : [[b[0], b[1]], [b[2], b[3]]],
    center: state.view ? [state.view.lon, state.view.lat] : undefined,
    zoom: state.view ? state.view.zoom : undefined,
    fitBoundsOptions: { padding: 20 },
    attributionControl: { compact: true, customAttribution: 'Boundaries: ONS (OGL v3). Deprivation: MHCLG IoD 2019 and 2025 (OGL v3).' },
    canvasContextAttributes: { preserveDrawingBuffer: true },
    maxZoom: 17,
  });
  window.gapmap.map = map;
  map.addControl(new maplibregl.NavigationControl({ showCompass: false }), 'top-right');
  map.addControl(new maplibregl.ScaleControl({ unit: 'metric' }), 'bottom-right');
  map.getCanvas().setAttribute('aria-label', 'Map of deprivation by LSOA. Arrow keys pan, plus and minus zoom, Enter selects the area at the centre.');
  await new Promise((resolve) => map.on('load', resolve));
  // Compact attribution starts folded (the footer has the full credits), so it covers no map.
  document.querySelector('.maplibregl-ctrl-attrib')?.classList.remove('maplibregl-compact-show');
  await loadLayers();
  await setupRegister({
    map,
    maplibregl,
    meta,
    esc,
    panel: () => $('#panel-body'),
    refreshData,
    gapShown: () => Boolean(state.gap),
    visible: () => state.register,
    setVisible: (on) => { state.register = on; writeHash(); },
  });
  setupDraw({ map, maplibregl, esc });
  map.on('click', onMapClick);
  map.on('mousemove', (e) => {
    const f = map.queryRenderedFeatures(e.point, { layers: [activeFillLayer()] })[0];
    map.getCanvas().style.cursor = f || registerHovering(e.point) ? 'pointer' : '';
  });
  setupHover(map, maplibregl, (point) => coverageAt(map, point, coverageLayerIds(meta)) || areaAt(map, point, activeFillLayer(), hoverLabel));
  map.on('moveend', writeHash);
  map.on('moveend', updateLabels);
  map.getCanvas().addEventListener('keydown', (e) => {
    if (e.key === 'Enter') {
      const c = map.getCanvas();
      onMapClick({ point: { x: c.clientWidth / 2, y: c.clientHeight / 2 } });
    }
  });
  setupSearch();
  if (state.selection?.kind === 'lsoa') await selectLsoa(state.selection.code, { fly: !state.view });
  else if (state.selection?.kind === 'ward') await selectWard(state.selection.code, { fly: !state.view });
  else if (state.selection?.kind === 'lsoa11') await selectLsoa11Code(state.selection.code, { fly: !state.view });
  else if (state.selection?.kind === 'district') await selectDistrict(state.selection.code);
  else if (state.selection?.kind === 'region') selectRegion();
  if (state.gap) await runGap();
  writeHash();
  await new Promise((resolve) => { if (map.loaded()) resolve(); else map.once('idle', resolve); });
}

window.gapmap = {
  state,
  data: {},
  maplibregl,
  selectLsoa: (c) => selectLsoa(c),
  selectWard: (c) => selectWard(c),
  runGap: () => runGap(),
  ready: null,
};
window.gapmap.ready = main().then(() => { document.body.dataset.ready = 'true'; }).catch((e) => {
  $('#map-status').textContent = `The map could not start: ${e.message}`;
  document.body.dataset.ready = 'error';
  console.error(e);
});
