// Printable ward profile: reads the planner's /wards/{code}/profile JSON
// (where deployed) and the map's /web/api/ward/{code}, and draws inline SVG charts.
import { colourOfDecile, inkOn, colourOfChange } from './style.mjs';
import { authHeaders, getJsonSignedIn } from './auth.mjs';
import { caveatHtml } from './honesty.mjs';
import { locatorSvg } from './locator.mjs';

const $ = (s) => document.querySelector(s);
const esc = (s) => String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
const fmt = (n) => (n === null || n === undefined ? '–' : Number(n).toLocaleString('en-GB'));

async function getJson(url) {
  const r = await fetch(url, { headers: { Accept: 'application/json', ...authHeaders() } });
  if (!r.ok) {
    const e = new Error(`${url}: HTTP ${r.status}`);
    e.status = r.status;
    throw e;
  }
  return r.json();
}

const chip = (d) => (d === null || d === undefined
  ? '<span class="chip" style="background:#d0d0d0">–</span>'
  : `<span class="chip" style="background:${colourOfDecile(d)};color:${inkOn(d)}">${Number.isInteger(d) ? d : d.toFixed(1)}</span>`);

/** Stacked bars: the ward's residents by national decile, per domain (deciles are not averaged). */
function decileChart(domains) {
  const rowH = 22;
  const left = 300;
  const width = 720;
  const plotW = width - left - 20;
  const top = 30;
  const height = top + domains.length * rowH + 30;
  let s = `<svg class="chart" id="decile-chart" viewBox="0 0 ${width} ${height}" role="img" aria-labelledby="dc-title dc-desc">
    <title id="dc-title">Residents by national decile, per domain (2025)</title>
    <desc id="dc-desc">For each domain, the share of the ward's Census 2021 residents living in LSOAs of each national decile (1 = most deprived 10% of LSOAs in England). Dashed lines: England's 10% and 20% of LSOAs.</desc>`;
  s += `<text x="${left}" y="11" font-size="11">share of residents, decile 1 (most deprived) first</text>`;
  domains.forEach((dm, i) => {
    const y = top + i * rowH;
    s += `<text x="${left - 8}" y="${y + 14}" font-size="12" text-anchor="end"${dm.kind === 'subdomain' ? ' fill="#444"' : ' font-weight="600"'}>${esc(dm.label)}</text>`;
    const people = dm.ward?.residents_by_decile ?? [];
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
  const ly = top + domains.length * rowH + 18;
  s += `<text x="${left}" y="${ly}" font-size="11">Dashed: England, 10% and 20% of LSOAs (most deprived deciles 1 and 1–2)</text>`;
  return `${s}</svg>`;
}

/** Dumbbell chart of IMD decile per LSOA, 2019 (open) to 2025 (filled). */
function changeChart(lsoas) {
  const rowH = 20;
  const left = 270;
  const width = 700;
  const plotW = width - left - 60;
  const top = 24;
  const height = top + lsoas.length * rowH + 24;
  const x = (d) => left + ((d - 1) / 9) * plotW;
  let s = `<svg class="chart" id="change-chart" viewBox="0 0 ${width} ${height}" role="img" aria-labelledby="cc-title">
    <title id="cc-title">IMD decile of each LSOA, 2019 (open circle) and 2025 (filled circle)</title>`;
  for (let d = 1; d <= 10; d += 1) s += `<text x="${x(d)}" y="${top - 8}" font-size="11" text-anchor="middle">${d}</text>`;
  lsoas.forEach((l, i) => {
    const y = top + i * rowH + rowH / 2;
    s += `<text x="${left - 8}" y="${y + 4}" font-size="11" text-anchor="end">${esc(l.name)} (${esc(l.code)})</text>`;
    s += `<line x1="${left}" x2="${left + plotW}" y1="${y}" y2="${y}" stroke="#e4e4e4"/>`;
    if (l.imd_decile_2019 !== null && l.imd_decile !== null) {
      s += `<line x1="${x(l.imd_decile_2019)}" x2="${x(l.imd_decile)}" y1="${y}" y2="${y}" stroke="${colourOfChange(l.change)}" stroke-width="4"/>`;
    }
    if (l.imd_decile_2019 !== null) s += `<circle cx="${x(l.imd_decile_2019)}" cy="${y}" r="5" fill="#fff" stroke="#000"/>`;
    if (l.imd_decile !== null) s += `<circle cx="${x(l.imd_decile)}" cy="${y}" r="5" fill="${colourOfDecile(l.imd_decile)}" stroke="#000"/>`;
    if (l.change !== null) s += `<text x="${left + plotW + 10}" y="${y + 4}" font-size="11">${l.change > 0 ? '+' : ''}${l.change}</text>`;
  });
  return `${s}</svg>`;
}

/** Horizontal bars: assets in the ward by category. */
function assetChart(assets) {
  const rowH = 18;
  const left = 210;
  const width = 700;
  const max = Math.max(1, ...assets.map((a) => a.count));
  const plotW = width - left - 120;
  const height = assets.length * rowH + 10;
  let s = `<svg class="chart" id="asset-chart" viewBox="0 0 ${width} ${height}" role="img" aria-labelledby="ac-title"><title id="ac-title">Community assets in the ward by category</title>`;
  assets.forEach((a, i) => {
    const y = 5 + i * rowH;
    s += `<text x="${left - 8}" y="${y + 12}" font-size="11" text-anchor="end">${esc(a.label)}</text>`;
    if (a.covered) {
      s += `<rect x="${left}" y="${y + 2}" width="${(a.count / max) * plotW}" height="${rowH - 5}" fill="#1f9e89"/>`;
      s += `<text x="${left + (a.count / max) * plotW + 5}" y="${y + 12}" font-size="11">${a.count}</text>`;
    } else {
      s += `<text x="${left}" y="${y + 12}" font-size="11" fill="#a00">no data (outside the source's coverage)</text>`;
    }
  });
  return `${s}</svg>`;
}

function fmtDist(m) {
  if (m === null || m === undefined) return '–';
  return m >= 1000 ? `${(m / 1000).toFixed(1)} km` : `${Math.round(m)} m`;
}

/** The planner's access table: assets in and near the ward, distances, capacity, gaps. */
function accessSection(planner, meta) {
  const rows = planner.access.map((a) => `<tr data-category="${esc(a.category)}"><th>${esc(a.label)}${caveatHtml(meta, a.category, { tag: 'small' })}</th>
    ${a.no_data ? `<td colspan="6" class="note">${esc(a.no_data)}</td>` : `<td class="num">${fmt(a.assets_inside)}</td><td class="num">${fmt(a.assets_within_1km)}</td>
    <td class="num">${fmtDist(a.mean_distance_m)}</td><td class="num">${fmtDist(a.district_mean_distance_m)}</td>
    <td class="num">${a.per_10k_residents === null || a.per_10k_residents === undefined ? '–' : Math.abs(a.per_10k_residents).toFixed(2)}</td>
    <td class="num gap-count">${(a.gaps || []).length}</td>`}</tr>`).join('');
  return `<table id="access-table"><thead><tr><th>Category</th><th class="num">In ward</th><th class="num">Within 1 km</th><th class="num">Mean distance</th>
    <th class="num">District mean</th><th class="num">Per 10k residents</th><th class="num">Gap LSOAs</th></tr></thead><tbody>${rows}</tbody></table>
    <p class="note">${esc(planner.method?.distances ?? '')} ${esc(planner.method?.assets_within_1km ?? '')} ${esc(planner.method?.capacity ?? '')}</p>`;
}

/** One category's gap answer for the ward, in words: never "no gaps" where the data cannot say. */
function gapAnswer(a, names) {
  const name = (c) => `${esc(names.get(c) ?? c)} <span class="note">${esc(c)}</span>`;
  const cannot = a.cannot_answer ?? [];
  switch (a.status) {
    case 'gaps': {
      const list = a.gaps.map((g) => `${name(g.lsoa21_code)} (decile ${esc(g.decile)}, ${fmtDist(g.mean_distance_m)})`).join('; ');
      const more = cannot.length ? ` <span class="status-no-data">No data for ${cannot.length} more deprived LSOA${cannot.length === 1 ? '' : 's'}.</span>` : '';
      return `<span class="status-gaps">${a.gaps.length} gap LSOA${a.gaps.length === 1 ? '' : 's'}</span>: ${list}.${more}`;
    }
    case 'no_data': return `<span class="status-no-data">No data</span>: ${esc(a.no_data ?? "the category's sources do not cover this ward")}`;
    case 'cannot_answer': return `<span class="status-no-data">Cannot answer for ${cannot.length} of ${a.deprived_lsoas} deprived LSOA${a.deprived_lsoas === 1 ? '' : 's'}</span> (${esc(cannot[0]?.reason ?? 'no data')})${cannot.length < a.deprived_lsoas ? '; no gap among the rest' : ''}.`;
    case 'no_deprived_lsoas': return 'No LSOA of the ward is deprived by this threshold: nothing to answer.';
    case 'no_gaps': return `No gap: every deprived LSOA (${a.deprived_lsoas}) is nearer than the threshold.`;
    default: return (a.gaps || []).length ? `${a.gaps.length} gap LSOAs` : 'No gap';
  }
}

async function gapsSection(w, planner, gap) {
  if (planner && Array.isArray(planner.access)) {
    const names = new Map(w.lsoas.map((l) => [l.code, l.name]));
    const rows = planner.access.map((a) => `<tr data-category="${esc(a.category)}" data-status="${esc(a.status ?? '')}"><th>${esc(a.label)}</th><td>${gapAnswer(a, names)}</td></tr>`).join('');
    const noData = planner.access.filter((a) => a.status === 'no_data' || a.status === 'cannot_answer').length;
    return `<p class="note">${esc(planner.method?.gaps ?? 'Gap LSOAs of the ward')} (from /wards/${esc(w.code)}/profile).${noData ? ` For ${noData} of ${planner.access.length} categories the data cannot answer here (no data).` : ''}</p>
      <table id="gaps-table"><thead><tr><th>Category</th><th>Answer for this ward</th></tr></thead><tbody>${rows}</tbody></table>`;
  }
  const codes = new Set(w.lsoas.map((l) => l.code));
  const rows = [];
  for (const a of w.assets) {
    const q = new URLSearchParams({ category: a.category, max_decile: String(gap.max_decile), min_distance_m: String(gap.min_distance_m), domain: 'imd', year: '2025' });
    let fc;
    try {
      fc = await getJson(`/gaps?${q}`);
    } catch (e) {
      if (e.status === 404) return '<p class="note" id="gaps-unavailable">The gap analysis (/gaps) is not available on this server yet.</p>';
      return `<p class="error">Gap analysis failed: ${esc(e.message)}</p>`;
    }
    const mine = (fc.features || []).filter((f) => codes.has(f.properties?.code ?? f.properties?.lsoa21_code ?? f.id));
    rows.push(`<tr><th>${esc(a.label)}</th><td class="num">${mine.length}</td><td>${mine.map((f) => esc(f.properties?.code ?? f.id)).join(', ')}</td></tr>`);
  }
  return `<p class="note">LSOAs of this ward in IMD decile ${esc(gap.max_decile)} or below (2025) whose nearest asset of the category is at least ${fmtDist(gap.min_distance_m)} away (straight line), from /gaps.</p>
    <table><thead><tr><th>Category</th><th class="num">Gap LSOAs</th><th>LSOAs</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

/** The locator map: the ward within its district (OGC items; no map tiles, so it prints). */
async function drawLocator(w) {
  try {
    const [ward, district] = await Promise.all([
      getJson(`/collections/wards/items/${encodeURIComponent(w.code)}`),
      w.district ? getJson(`/collections/districts/items/${encodeURIComponent(w.district.code)}`) : null,
    ]);
    $('#locator').innerHTML = `${locatorSvg({ ward: ward.geometry, district: district?.geometry, wardName: w.name, districtName: w.district?.name ?? '' })}
      <p class="note">${esc(w.name)} (filled) in ${esc(w.district?.name ?? '')} (outlined). Boundaries: ONS.</p>`;
  } catch (e) {
    $('#locator').innerHTML = `<p class="note">No locator map (${esc(e.message)}).</p>`;
  }
}

async function main() {
  const code = decodeURIComponent(window.location.pathname.split('/').filter(Boolean)[1] ?? '');
  // First alone: a server that shares data only with signed-in users
  // answers 401 here, and the sign-in form shows before the rest is asked.
  const meta = await getJsonSignedIn('/web/api/meta');
  // The gap thresholds: the map's choice (carried in the link) or the shared defaults.
  const asked = new URLSearchParams(window.location.search);
  const thresholds = new URLSearchParams();
  for (const k of ['max_decile', 'min_distance_m']) if (asked.has(k)) thresholds.set(k, asked.get(k));
  const qs = thresholds.toString() ? `?${thresholds}` : '';
  const [w, planner] = await Promise.all([
    getJson(`/web/api/ward/${encodeURIComponent(code)}`),
    getJson(`/wards/${encodeURIComponent(code)}/profile${qs}`).catch(() => null),
  ]);
  const defaults = w.gap_defaults ?? meta.gap_defaults ?? { max_decile: 2, min_distance_m: 1600 };
  const gap = planner?.gap_thresholds ?? {
    max_decile: Number(thresholds.get('max_decile') ?? defaults.max_decile),
    min_distance_m: Number(thresholds.get('min_distance_m') ?? defaults.min_distance_m),
  };
  document.title = `${w.name} ward profile — GapMap`;
  $('#back-to-map').href = `/map#sel=ward:${encodeURIComponent(w.code)}`;
  $('#compare-link').href = `/web/static/compare.html?areas=ward:${encodeURIComponent(w.code)}`;
  const pct = (x) => (x === null || x === undefined ? '–' : `${(x * 100).toFixed(1)}%`);
  const sw = w.summary?.ward ?? {};
  const sd = w.summary?.district ?? {};
  const y25 = sw['2025'] ?? {};
  const y19 = sw['2019'] ?? {};
  const decileRow = (label, y) => `<tr><th>${esc(label)}</th>${(y.lsoas_by_decile ?? Array(10).fill(null)).map((n, i) => `<td class="num">${fmt(n)}<br><span class="note">${fmt(y.residents_by_decile?.[i])}</span></td>`).join('')}</tr>`;
  const report = $('#report');
  report.innerHTML = `
    <h1>${esc(w.name)} <span class="code">${esc(w.code)}</span></h1>
    <p class="subtitle">Ward profile · ${esc(w.district?.name ?? '')} · ${esc(meta.region.name)} · generated ${new Date().toISOString().slice(0, 10)}</p>
    <div class="keyfacts with-locator">
      <div id="locator" class="locator-box"></div>
      <div><span class="v" id="kf-residents">${fmt(w.residents)}</span><span class="k">residents (Census 2021)</span></div>
      <div><span class="v">${w.lsoa_count}</span><span class="k">LSOAs (2021)</span></div>
      <div><span class="v" id="kf-imd-score">${y25.imd_score ?? '–'}</span><span class="k">IMD 2025 score weighted by Census 2021 residents (district ${sd['2025']?.imd_score ?? '–'})</span></div>
      <div><span class="v" id="kf-top20">${pct(y25.resident_share_top20)}</span><span class="k">residents in England's most deprived 20% (10%: ${pct(y25.resident_share_top10)})</span></div>
    </div>
    <section id="summary">
      <h2>IMD by decile</h2>
      <table id="decile-table"><thead><tr><th>LSOAs<br><span class="note">residents</span></th>${[1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((d) => `<th class="num">${d}</th>`).join('')}</tr></thead>
      <tbody>${decileRow('2025', y25)}${decileRow('2019 (carried)', y19)}</tbody></table>
      <p class="note" id="summary-rule">${esc(sw.rule ?? w.note)}${sw.lsoas_unknown_residents ? ` ${sw.lsoas_unknown_residents} LSOA(s) with unknown residents.` : ''} IMD score 2019 (carried): ${y19.imd_score ?? '–'}.</p>
    </section>
    <section>
      <h2>Deprivation by domain: ward, district and England (2025)</h2>
      ${decileChart(w.domains)}
      <p class="note" id="england-note">Decile 1 = most deprived 10% of LSOAs in England. ${esc(w.england ?? '')}</p>
    </section>
    <section>
      <h2>Community assets in the ward</h2>
      ${assetChart(w.assets)}
      <p class="note">Counts of assets located in the ward's LSOAs.</p>
      <div id="asset-caveats">${w.assets.map((a) => caveatHtml(meta, a.category, { tag: 'p' }).replace('Source covers only:', `${esc(a.label)}: source covers only`)).filter(Boolean).join('')}</div>
    </section>
    ${planner && Array.isArray(planner.access) ? `<section class="long"><h2>Access to community assets</h2>${accessSection(planner, meta)}</section>` : ''}
    <section id="gaps">
      <h2>Gaps</h2>
      <p>Loading…</p>
    </section>
    <section class="long">
      <h2>Change since 2019 (IMD decile by LSOA)</h2>
      <p>Residents in the most deprived 20%: ${pct(y19.resident_share_top20)} (2019, carried) → ${pct(y25.resident_share_top20)} (2025);
      ${w.change.lsoas_less_deprived} LSOAs rose (less deprived relative to England), ${w.change.lsoas_more_deprived} fell.</p>
      ${changeChart(w.lsoas)}
      <p class="note">2019 deciles are for the matched 2011 LSOA (unchanged or split) or the linked 2011 LSOA with the largest mid-2015 population (merged or redrawn), using the ONS 2011→2021 LSOA lookup.</p>
    </section>
    <section class="long">
      <h2>LSOAs</h2>
      <table id="lsoa-table"><thead><tr><th>LSOA</th><th class="num">Residents</th><th class="num">IMD 2025</th><th class="num">IMD 2019</th><th class="num">Change</th></tr></thead>
      <tbody>${w.lsoas.map((l) => `<tr><td>${esc(l.name)} <span class="note">${esc(l.code)}</span></td><td class="num">${fmt(l.residents)}</td><td class="num">${chip(l.imd_decile)}</td><td class="num">${chip(l.imd_decile_2019)}</td><td class="num">${l.change ?? '–'}</td></tr>`).join('')}</tbody></table>
    </section>
`;
  const gapLine = `<p class="note" id="gap-thresholds">Gap: IMD 2025 decile ${gap.max_decile} or below and mean distance to the nearest asset at least ${fmt(gap.min_distance_m)} m (straight line). GapMap's defaults: decile ${defaults.max_decile} or below, at least ${fmt(defaults.min_distance_m)} m.</p>`;
  $('#gaps').innerHTML = `<h2>Gaps</h2>${gapLine}${await gapsSection(w, planner, gap)}`;
  await drawLocator(w);
  const lines = new Set();
  for (const r of meta.releases) lines.add(r.attribution);
  for (const s of [...meta.area_sources, ...meta.sources]) lines.add(`${s.attribution} (${s.title}, ${s.vintage})`);
  $('#sources').innerHTML = `<p><strong>Sources.</strong> ${w.geometry_note ? esc(w.geometry_note) + '.' : ''}</p>${[...lines].map((l) => `<p>${esc(l)}</p>`).join('')}`;
}

$('#print').addEventListener('click', () => window.print());
main().then(() => { document.body.dataset.ready = 'true'; }).catch((e) => {
  $('#report').innerHTML = `<h1>Ward profile</h1><p class="error">${esc(e.status === 404 ? 'No such ward in this atlas.' : e.message)}</p>`;
  document.body.dataset.ready = 'error';
});
