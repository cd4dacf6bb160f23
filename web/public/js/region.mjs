// Printable region (county) profile: reads /web/api/region (GapMap's
// roll-up of the official LSOA data for the loaded region, the districts'
// official IoD summaries as MHCLG publishes them, and the gap answer per
// asset category) and /web/api/meta (sources, vintages, attribution).
import { colourOfDecile, inkOn } from './style.mjs';
import { authHeaders, getJsonSignedIn } from './auth.mjs';
import { caveatHtml } from './honesty.mjs';

const $ = (s) => document.querySelector(s);
const esc = (s) => String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
const fmt = (n, d = 0) => (n === null || n === undefined ? '–' : Number(n).toLocaleString('en-GB', { maximumFractionDigits: d, minimumFractionDigits: d }));
const pct = (x) => (x === null || x === undefined ? '–' : `${(x * 100).toFixed(1)}%`);
const fmtDist = (m) => (m === null || m === undefined ? '–' : m >= 1000 ? `${(m / 1000).toFixed(1)} km` : `${Math.round(m)} m`);

async function getJson(url) {
  const r = await fetch(url, { headers: { Accept: 'application/json', ...authHeaders() } });
  if (!r.ok) {
    let detail = '';
    try { detail = (await r.json()).detail ?? ''; } catch { /* not a problem document */ }
    throw new Error(`${url}: HTTP ${r.status}${detail ? ` (${detail})` : ''}`);
  }
  return r.json();
}

/** The first of `keys` an object has (the 2019 and 2025 files name measures differently). */
const pick = (o, ...keys) => {
  for (const k of keys) if (o && o[k] !== undefined && o[k] !== null) return o[k];
  return null;
};

/** Stacked bars: residents by national decile, per domain, 2025. */
function decileChart(domains) {
  const rowH = 22;
  const left = 300;
  const width = 720;
  const plotW = width - left - 20;
  const top = 30;
  const height = top + domains.length * rowH + 30;
  let s = `<svg class="chart" id="region-decile-chart" viewBox="0 0 ${width} ${height}" role="img" aria-labelledby="rdc-title rdc-desc">
    <title id="rdc-title">Residents by national decile, per domain (2025)</title>
    <desc id="rdc-desc">For each domain, the share of the region's Census 2021 residents living in LSOAs of each national decile (1 = most deprived 10% of LSOAs in England). Dashed lines: England's 10% and 20% of LSOAs.</desc>`;
  s += `<text x="${left}" y="11" font-size="12">share of residents, decile 1 (most deprived) first</text>`;
  domains.forEach((dm, i) => {
    const y = top + i * rowH;
    s += `<text x="${left - 8}" y="${y + 14}" font-size="12" text-anchor="end"${dm.kind === 'subdomain' ? ' fill="#444"' : ' font-weight="600"'}>${esc(dm.label ?? dm.id)}</text>`;
    const people = dm['2025']?.residents_by_decile ?? [];
    const total = people.reduce((a, b) => a + b, 0);
    let x = left;
    people.forEach((n, k) => {
      if (!total || !n) return;
      const wpx = (n / total) * plotW;
      s += `<rect x="${x}" y="${y + 3}" width="${wpx}" height="${rowH - 6}" fill="${colourOfDecile(k + 1)}"><title>Decile ${k + 1}: ${n.toLocaleString('en-GB')} residents</title></rect>`;
      x += wpx;
    });
  });
  for (const f of [0.1, 0.2]) {
    s += `<line x1="${left + f * plotW}" x2="${left + f * plotW}" y1="${top}" y2="${top + domains.length * rowH}" stroke="#333" stroke-dasharray="4 3"/>`;
  }
  s += `<text x="${width - 10}" y="${top + domains.length * rowH + 18}" font-size="12" text-anchor="end">Dashed: England, 10% and 20% of LSOAs (most deprived deciles 1 and 1–2)</text>`;
  return `${s}</svg>`;
}

/** One category's gap answer for the region, in words: never "no gaps" where the data cannot say. */
function gapAnswer(a) {
  const cannot = a.cannot_answer_lsoas
    ? ` <span class="status-no-data">No data for ${fmt(a.cannot_answer_lsoas)} deprived LSOA${a.cannot_answer_lsoas === 1 ? '' : 's'} (${fmt(a.cannot_answer_residents)} residents).</span>`
    : '';
  switch (a.status) {
    case 'gaps': return `<span class="status-gaps">${fmt(a.gap_lsoas)} gap LSOA${a.gap_lsoas === 1 ? '' : 's'}</span>, ${fmt(a.gap_residents)} residents.${cannot}`;
    case 'no_data': return `<span class="status-no-data">No data</span>: ${esc(a.no_data ?? "the category's sources do not cover this region")}`;
    case 'cannot_answer': return `<span class="status-no-data">Cannot answer for ${fmt(a.cannot_answer_lsoas)} of ${fmt(a.deprived_lsoas)} deprived LSOAs</span> (${esc(a.cannot_answer_reasons?.[0] ?? 'no data')})${a.cannot_answer_lsoas < a.deprived_lsoas ? '; no gap among the rest' : ''}.`;
    case 'no_deprived_lsoas': return 'No LSOA of the region is deprived by this threshold: nothing to answer.';
    case 'no_gaps': return `No gap: every deprived LSOA (${fmt(a.deprived_lsoas)}) is nearer than the threshold.`;
    default: return esc(a.headline ?? '');
  }
}

function districtTable(districts) {
  const row = (d) => {
    const o25 = d.official_imd?.['2025'];
    const o19 = d.official_imd?.['2019'];
    return `<tr data-district="${esc(d.code)}"><th scope="row"><a href="/map#sel=district:${encodeURIComponent(d.code)}">${esc(d.name)}</a> <span class="note">${esc(d.code)}</span></th>
      <td class="num">${fmt(d.residents)}</td>
      <td class="num" data-key="official-2025-score">${fmt(pick(o25, 'average_score'), 2)}</td>
      <td class="num" data-key="official-2025-rank">${fmt(pick(o25, 'rank_of_average_score'))}</td>
      <td class="num">${o25 ? pct(pick(o25, 'proportion_of_lsoas_in_most_deprived_10_percent_nationally')) : '–'}</td>
      <td class="num">${fmt(pick(o25, 'rank_of_average_rank'))}</td>
      <td class="num" data-key="official-2019-score">${fmt(pick(o19, 'average_score'), 2)}</td>
      <td class="num">${fmt(pick(o19, 'rank_average_score', 'rank_of_average_score'))}</td>
      <td class="num rollup">${fmt(d.rollup?.imd_score?.['2025'], 2)}</td></tr>`;
  };
  return `<table id="district-table"><thead>
    <tr><th rowspan="2">District</th><th rowspan="2" class="num">Residents<br><span class="note">Census 2021</span></th><th colspan="4">IoD2025 IMD, official (MHCLG)</th><th colspan="2">IoD2019 IMD, official</th><th rowspan="2" class="num">GapMap roll-up<br><span class="note">IMD 2025 score</span></th></tr>
    <tr><th class="num">Average score</th><th class="num">Rank of average score</th><th class="num">LSOAs in most deprived 10%</th><th class="num">Rank of average rank</th><th class="num">Average score</th><th class="num">Rank of average score</th></tr>
    </thead><tbody>${districts.map(row).join('')}</tbody></table>`;
}

function accessTable(access, meta) {
  const rows = access.map((a) => {
    const sources = (a.sources ?? []).map((s) => `${esc(s.title)} (${esc(s.vintage)})${s.partial ? `: covers ${esc(s.coverage)}` : ''}`).join('; ');
    return `<tr data-category="${esc(a.category)}" data-status="${esc(a.status)}"><th scope="row">${esc(a.label)}${caveatHtml(meta, a.category, { tag: 'small' })}</th>
      <td>${gapAnswer(a)}</td>
      <td class="num">${a.covered_lsoas === 0 ? '<span class="status-no-data">no data</span>' : fmt(a.assets_inside)}</td>
      <td class="num">${fmt(a.covered_lsoas)}</td>
      <td class="num">${fmtDist(a.mean_distance_m)}</td>
      <td class="note">${sources}</td></tr>`;
  }).join('');
  return `<table id="region-access"><thead><tr><th>Category</th><th>Gap answer for the region</th><th class="num">Assets in the region</th><th class="num">LSOAs covered</th><th class="num">Mean distance</th><th>Source (vintage)</th></tr></thead><tbody>${rows}</tbody></table>`;
}

async function main() {
  // First alone: a server that shares data only with signed-in users
  // answers 401 here, and the sign-in form shows before the rest is asked.
  const meta = await getJsonSignedIn('/web/api/meta');
  const asked = new URLSearchParams(window.location.search);
  const thresholds = new URLSearchParams();
  for (const k of ['max_decile', 'min_distance_m']) if (asked.has(k)) thresholds.set(k, asked.get(k));
  const r = await getJson(`/web/api/region${thresholds.toString() ? `?${thresholds}` : ''}`);
  const name = r.region.name;
  document.title = `${name} profile — GapMap`;
  $('#back-to-map').href = `/map#sel=region:${encodeURIComponent(r.region.id)}`;
  const s = r.summary;
  const y25 = s['2025'] ?? {};
  const y19 = s['2019'] ?? {};
  const gap = r.gap_thresholds;
  const decileRow = (label, y) => `<tr><th>${esc(label)}</th>${(y.lsoas_by_decile ?? Array(10).fill(null)).map((n, i) => `<td class="num">${fmt(n)}<br><span class="note">${fmt(y.residents_by_decile?.[i])}</span></td>`).join('')}</tr>`;
  const chip = (d) => `<span class="chip" style="background:${colourOfDecile(d)};color:${inkOn(d)}">${d}</span>`;
  const noData = r.access.filter((a) => a.status === 'no_data' || a.status === 'cannot_answer').length;
  $('#report').innerHTML = `
    <h1>${esc(name)} <span class="code">region profile</span></h1>
    <p class="subtitle">${fmt(r.region.districts)} districts · ${fmt(r.region.wards)} wards · generated ${new Date().toISOString().slice(0, 10)}</p>
    <p class="notice" id="region-method"><strong>Not an official figure.</strong> ${esc(r.method.region)}</p>
    <div class="keyfacts">
      <div><span class="v" id="rf-residents">${fmt(s.residents)}</span><span class="k">residents (Census 2021)</span></div>
      <div><span class="v" id="rf-lsoas">${fmt(s.lsoas)}</span><span class="k">LSOAs (2021)</span></div>
      <div><span class="v" id="rf-imd-score">${fmt(y25.imd_score, 2)}</span><span class="k">IMD 2025 score weighted by Census 2021 residents (2019, carried: ${fmt(y19.imd_score, 2)})</span></div>
      <div><span class="v" id="rf-top20">${pct(y25.resident_share_top20)}</span><span class="k">residents in England's most deprived 20% of LSOAs (10%: ${pct(y25.resident_share_top10)})</span></div>
    </div>
    <section id="region-deciles">
      <h2>IMD by national decile</h2>
      <table id="region-decile-table"><thead><tr><th>LSOAs<br><span class="note">residents</span></th>${[1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((d) => `<th class="num">${chip(d)}</th>`).join('')}</tr></thead>
      <tbody>${decileRow('2025', y25)}${decileRow('2019 (carried)', y19)}</tbody></table>
      <p class="note">${esc(s.rule ?? '')}${s.lsoas_unknown_residents ? ` ${s.lsoas_unknown_residents} LSOA(s) with unknown residents.` : ''} Decile 1 = most deprived 10% of LSOAs in England.</p>
    </section>
    <section>
      <h2>Deprivation by domain (2025)</h2>
      ${decileChart(r.deprivation)}
    </section>
    <section class="long" id="region-districts">
      <h2>Districts: official IoD summary measures</h2>
      <p class="note" id="official-source">${esc(r.method.official)}</p>
      ${districtTable(r.districts)}
      <p class="note">The last column is GapMap's roll-up (resident-weighted mean of the district's LSOA scores), not a published figure; it differs from MHCLG's average score, which is computed on each release's own LSOAs and populations.</p>
    </section>
    <section class="long" id="region-gaps">
      <h2>Community assets and gaps</h2>
      <p class="note" id="region-gap-thresholds">Gap: IMD 2025 decile ${esc(gap.max_decile)} or below and mean straight-line distance to the nearest asset at least ${fmt(gap.min_distance_m)} m (GapMap's defaults: decile ${esc(gap.defaults.max_decile)}, ${fmt(gap.defaults.min_distance_m)} m).${noData ? ` For ${noData} of ${r.access.length} categories the data cannot answer for some or all of the region (no data).` : ''}</p>
      ${accessTable(r.access, meta)}
      <p class="note">${esc(r.method.gaps)} ${esc(r.method.distances)}</p>
    </section>`;
  const lines = new Set();
  for (const rel of meta.releases) lines.add(`${rel.attribution} (${rel.title})`);
  for (const src of [...meta.area_sources, ...meta.sources]) lines.add(`${src.attribution} (${src.title}, ${src.vintage})`);
  $('#sources').innerHTML = `<p><strong>Sources and vintages.</strong></p>${[...lines].map((l) => `<p>${esc(l)}</p>`).join('')}`;
}

$('#print').addEventListener('click', () => window.print());
main().then(() => { document.body.dataset.ready = 'true'; }).catch((e) => {
  $('#report').innerHTML = `<h1>Region profile</h1><p class="error">${esc(e.message)}</p>`;
  document.body.dataset.ready = 'error';
});
