// A continuous "distance to the nearest asset" layer: each 2021 LSOA
// coloured by the mean straight-line distance from its postcode units to
// the nearest asset of one category (from /gaps over every LSOA), grey
// where the category's sources do not cover it (no data).

const esc = (s) => String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));

/** Breaks (m) and colours (ColorBrewer YlGnBu, 6: near = light, far = dark). */
export const DISTANCE_STOPS = [
  [0, '#ffffcc'], [400, '#c7e9b4'], [800, '#7fcdbb'], [1600, '#41b6c4'], [3200, '#2c7fb8'], [6400, '#253494'],
];

/** MapLibre fill colour from the `dist` feature state (-1 or absent = no data). */
export function distanceColour(noData) {
  const expr = ['step', ['coalesce', ['feature-state', 'dist'], -1], noData];
  for (const [m, c] of DISTANCE_STOPS) expr.push(m, c);
  return expr;
}

/** Mean distance (m) per 2021 LSOA code for a category; null where no data. */
export async function loadDistances(category, fetchText) {
  const text = await fetchText(`/gaps?category=${encodeURIComponent(category)}&max_decile=10&min_distance_m=0&f=csv`);
  const lines = text.split('\n').filter(Boolean);
  const header = lines[0].split(',');
  const code = header.indexOf('lsoa21_code');
  const mean = header.indexOf('mean_distance_m');
  const status = header.indexOf('status');
  const out = new Map();
  for (const line of lines.slice(1)) {
    // The first columns hold no commas; the name may be quoted, so split from the known code column.
    const cells = line.match(/("([^"]|"")*"|[^,]*)(,|$)/g).map((c) => c.replace(/,$/, '').replace(/^"|"$/g, ''));
    out.set(cells[code], cells[status] === 'gap' ? Number(cells[mean]) : null);
  }
  return out;
}

/** Sets each LSOA's `dist` feature state on the 2021 LSOA source. */
export function applyDistances(map, distances, sourceLayer) {
  const target = (id) => (sourceLayer ? { source: 'lsoa25', sourceLayer, id } : { source: 'lsoa25', id });
  map.removeFeatureState(sourceLayer ? { source: 'lsoa25', sourceLayer } : { source: 'lsoa25' });
  for (const [code, m] of distances) map.setFeatureState(target(code), { dist: m === null ? -1 : m });
}

/** Legend HTML for the distance layer. */
export function distanceLegend(label, noData, caveat = '') {
  const rows = DISTANCE_STOPS.map(([m, c], i) => {
    const next = DISTANCE_STOPS[i + 1]?.[0];
    const f = (x) => (x >= 1000 ? `${x / 1000} km` : `${x} m`);
    return `<div class="row"><span class="sw" style="background:${c}"></span> ${next ? `${f(m)} to ${f(next)}` : `${f(m)} or more`}</div>`;
  }).join('');
  return `<h3 id="distance-title">Distance to the nearest ${esc(label)}</h3>${rows}
    <div class="row"><span class="sw" style="background:${noData}"></span> No data: the source does not cover this LSOA</div>
    <p class="hint">Mean straight-line distance from the LSOA's postcode units (not a travel distance).</p>${caveat}`;
}
