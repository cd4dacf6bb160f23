// What the map says when the data cannot answer: source caveats, coverage
// areas labelled by source and vintage, the "cannot answer" headline of a
// gap query and the hatched no-data shading. Pure helpers and MapLibre
// layers; app.mjs calls them.

const esc = (s) => String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));

/** Colours of coverage outlines, one per partial source (none is a boundary colour). */
const COVERAGE_COLOURS = ['#d55e00', '#0072b2', '#009e73', '#cc79a7', '#e69f00', '#56b4e9'];
/** Dash patterns, so outlines differ without colour too. */
const COVERAGE_DASHES = [[3, 2], [1, 1.5], [5, 1.5, 1, 1.5], [6, 3], [2, 3], [4, 1]];

/** Whether a source covers only part of England (a district list or a bounding box). */
export function isPartial(source) {
  return source && source.coverage && source.coverage.type !== 'code_prefix';
}

/** The caveats of a category's sources, for people: "Give Food food banks (2025): Oxfordshire food bank organisations (head offices, …)". */
export function caveatsOf(meta, categoryId) {
  const cat = meta.categories.find((c) => c.id === categoryId);
  if (!cat) return [];
  const sources = new Map(meta.sources.map((s) => [s.id, s]));
  return cat.sources.map((id) => sources.get(id)).filter(isPartial)
    .map((s) => `${s.title} (${s.vintage}): ${s.coverage.description}`);
}

/** An inline caveat line for a category, or '' when its sources cover England. */
export function caveatHtml(meta, categoryId, { tag = 'p' } = {}) {
  const list = caveatsOf(meta, categoryId);
  if (!list.length) return '';
  return `<${tag} class="caveat" data-caveat="${esc(categoryId)}">Source covers only: ${esc(list.join('; '))}.</${tag}>`;
}

/** Paint of the coverage outline layer: colour and dashes by source. */
export function coverageStyle(meta) {
  const partial = meta.sources.filter(isPartial);
  const colour = ['match', ['get', 'source']];
  partial.forEach((s, i) => colour.push(s.id, COVERAGE_COLOURS[i % COVERAGE_COLOURS.length]));
  colour.push('#555');
  return { partial, colour };
}

/** The colour and dash pattern of a source's coverage outline. */
export function coverageSwatch(meta, sourceId) {
  const i = meta.sources.filter(isPartial).findIndex((s) => s.id === sourceId);
  return { colour: COVERAGE_COLOURS[Math.max(i, 0) % COVERAGE_COLOURS.length], dash: COVERAGE_DASHES[Math.max(i, 0) % COVERAGE_DASHES.length] };
}

/**
 * Adds one coverage outline layer per partial source (its own colour and
 * dashes, under the symbols), plus an invisible fill for hover, to `map`.
 */
export function addCoverageLayers(map, meta, before) {
  for (const s of meta.sources.filter(isPartial)) {
    const { colour, dash } = coverageSwatch(meta, s.id);
    map.addLayer({
      id: `coverage-${s.id}`,
      type: 'line',
      source: 'coverage',
      filter: ['==', ['get', 'source'], s.id],
      paint: { 'line-color': colour, 'line-width': 3, 'line-dasharray': dash },
    }, before);
  }
}

/** The ids of the coverage layers of `addCoverageLayers`. */
export function coverageLayerIds(meta) {
  return meta.sources.filter(isPartial).map((s) => `coverage-${s.id}`);
}

/** Legend rows for the coverage outlines of the given sources. */
export function coverageLegend(meta, sourceIds) {
  const rows = meta.sources.filter((s) => isPartial(s) && sourceIds.has(s.id)).map((s) => {
    const { colour, dash } = coverageSwatch(meta, s.id);
    const svgDash = dash.map((d) => d * 3).join(' ');
    return `<div class="row coverage-row" data-source="${esc(s.id)}"><svg width="28" height="10" aria-hidden="true"><line x1="1" y1="5" x2="27" y2="5" stroke="${colour}" stroke-width="3" stroke-dasharray="${svgDash}"/></svg>
      <span><strong>Data coverage:</strong> ${esc(s.title)}, ${esc(s.vintage)} — ${esc(s.coverage.description)}</span></div>`;
  }).join('');
  return rows ? `<div id="coverage-legend"><h3>Where partial sources have data</h3>${rows}<p class="hint">Outside an outline, that source has <strong>no data</strong>: no symbol there does not mean no asset. Black and grey lines are district and ward boundaries.</p></div>` : '';
}

/** A diagonal hatch (grey lines on transparent) for the no-data shading. */
export function hatchImage(size = 12) {
  const c = document.createElement('canvas');
  c.width = size;
  c.height = size;
  const ctx = c.getContext('2d');
  ctx.fillStyle = 'rgba(255,255,255,0.55)';
  ctx.fillRect(0, 0, size, size);
  ctx.strokeStyle = '#333';
  ctx.lineWidth = 2;
  ctx.beginPath();
  ctx.moveTo(0, size);
  ctx.lineTo(size, 0);
  ctx.moveTo(-size / 2, size / 2);
  ctx.lineTo(size / 2, -size / 2);
  ctx.moveTo(size / 2, size * 1.5);
  ctx.lineTo(size * 1.5, size / 2);
  ctx.stroke();
  return { width: size, height: size, data: ctx.getImageData(0, 0, size, size).data };
}

/** The category's noun, singular, as the server's headline says it ("gp_practice" → "GP practice", "park" → "park"). */
export function nounOf(categoryId) {
  return String(categoryId ?? '').replace(/_/g, ' ').replace(/^gp /, 'GP ');
}

/**
 * The gap panel's headline and its cannot-answer list: the server's
 * headline in large type, and the deprived LSOAs without an answer, with
 * their reason.
 */
export function gapHeadlineHtml(fc) {
  const s = fc.summary ?? {};
  const cannot = s.cannot_answer?.lsoas ?? 0;
  const headline = s.headline ?? '';
  return `<p id="gap-headline" class="gap-headline${cannot ? ' cannot' : ''}" role="status">${esc(headline)}</p>`;
}

/** The list of deprived LSOAs the query cannot answer for. */
export function cannotAnswerHtml(fc, { chip = () => '' } = {}) {
  const features = fc.cannot_answer?.features ?? [];
  if (!features.length) return '';
  const reasons = [...new Set(features.map((f) => f.properties.reason))];
  const items = features.slice(0, 200).map((f) => {
    const p = f.properties;
    return `<li><a href="#" data-lsoa="${esc(p.lsoa21_code)}">${esc(p.lsoa21_name)}</a> ${chip(p.decile)} <span class="muted">${esc(p.ward_name ?? '')}${p.ward_name ? ' · ' : ''}${esc(p.lsoa21_code)}</span></li>`;
  }).join('');
  return `<h3 id="cannot-answer-title">Cannot answer: deprived LSOAs without ${features.length === 1 ? 'an answer' : 'answers'} (${features.length})</h3>
    <p class="hint">Hatched on the map. Why: ${esc(reasons.join(' '))}.</p>
    <ol class="gap-list" id="cannot-answer-list">${items}</ol>`;
}
