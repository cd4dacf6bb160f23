// Printable profile of any area — a saved area (?area=areas-3), a drawn
// geometry (?area=geom:…), a ward, district or LSOA — in the style of the
// ward profile, from the area-profile process, with a locator map.
import { getJsonSignedIn, authHeaders } from './auth.mjs';
import { colourOfDecile, inkOn } from './style.mjs';
import { locatorSvg } from './locator.mjs';
import { esc, fmt, pct, fmtDist, parseToken, describe, profileOf, attributionLines } from './areaprofile.mjs';

const $ = (s) => document.querySelector(s);

function decileTable(p) {
  const row = (label, y) => `<tr><th>${esc(label)}</th>${(y?.lsoas_by_decile ?? Array(10).fill(null)).map((n, i) => `<td class="num">${fmt(n)}<br><span class="note">${fmt(y?.residents_by_decile?.[i] === undefined ? null : Math.round(y.residents_by_decile[i]))}</span></td>`).join('')}</tr>`;
  const head = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((d) => `<th class="num"><span class="chip" style="background:${colourOfDecile(d)};color:${inkOn(d)}">${d}</span></th>`).join('');
  return `<table id="decile-table"><thead><tr><th>LSOAs<br><span class="note">residents counted</span></th>${head}</tr></thead>
    <tbody>${row('IMD 2025', p.summary['2025'])}${row('IMD 2019 (carried)', p.summary['2019'])}</tbody></table>`;
}

function scoresTable(p) {
  const bms = p.benchmarks ?? [];
  const head = bms.map((b) => `<th class="num">${esc(b.name ?? b.kind)}<br><span class="note">${esc(b.kind)}</span></th>`).join('');
  const rows = p.deprivation['2025'].scores.map((s) => `<tr data-score="${esc(s.id)}"><th${s.kind === 'subdomain' ? ' class="sub"' : ''}>${esc(s.label)}</th><td class="num">${s.score ?? '–'}</td>${bms.map((b) => `<td class="num">${b['2025'].scores.find((x) => x.id === s.id)?.score ?? '–'}</td>`).join('')}</tr>`).join('');
  return `<table id="scores-table"><thead><tr><th>Score (2025), weighted by residents</th><th class="num">This area</th>${head}</tr></thead><tbody>${rows}</tbody></table>`;
}

function accessTable(p) {
  const rows = p.categories.map((c) => {
    if (c.coverage === 'no data') {
      return `<tr data-category="${esc(c.category)}" data-coverage="no data"><th>${esc(c.label)}</th><td colspan="6" class="note">${esc(c.no_data ?? 'no data: no source covers this area')}</td></tr>`;
    }
    const partial = c.coverage === 'partly covered' ? `<br><span class="caveat">${esc(c.no_data ?? 'partly covered')}</span>` : '';
    const w = c.assets_within_m ?? {};
    return `<tr data-category="${esc(c.category)}" data-coverage="${esc(c.coverage)}"><th>${esc(c.label)}${partial}</th>
      <td class="num">${fmt(c.assets_inside)}</td><td class="num">${fmt(w['400'])} / ${fmt(w['800'])} / ${fmt(w['1600'])}</td>
      <td class="num">${fmtDist(c.access?.mean_distance_m)}</td><td class="num">${fmtDist(c.access?.median_distance_m)}</td>
      ${c.access?.cannot_answer
    ? `<td class="note" colspan="2">${esc(c.access.cannot_answer)}</td></tr>`
    : `<td class="num">${fmt(c.access?.gap_residents == null ? null : Math.round(c.access.gap_residents))}</td>
      <td class="num">${fmt(c.access?.deprived_far_residents == null ? null : Math.round(c.access.deprived_far_residents))}</td></tr>`}`;
  }).join('');
  return `<table id="access-table"><thead><tr><th>Category</th><th class="num">Inside</th><th class="num">Within 400 / 800 / 1,600 m</th><th class="num">Mean distance</th><th class="num">Median</th><th class="num">Gap residents</th><th class="num">Deprived and far</th></tr></thead><tbody>${rows}</tbody></table>`;
}

function lsoaTable(p) {
  const rows = p.area.lsoas.map((l) => `<tr><td>${esc(l.name)} <span class="note">${esc(l.code)}</span></td><td class="num">${(l.share * 100).toFixed(1)}%</td><td class="num">${fmt(l.residents)}</td><td class="num">${fmt(Math.round(l.residents_counted))}</td></tr>`).join('');
  return `<table id="lsoa-table"><thead><tr><th>LSOA (2021)</th><th class="num">Share counted</th><th class="num">Residents</th><th class="num">Counted</th></tr></thead><tbody>${rows}</tbody></table>`;
}

async function drawLocator(info, p) {
  const district = (p.benchmarks ?? []).find((b) => b.kind === 'district');
  let outline = null;
  if (district?.code) {
    try {
      const r = await fetch(`/collections/districts/items/${encodeURIComponent(district.code)}`, { headers: { Accept: 'application/geo+json', ...authHeaders() } });
      if (r.ok) outline = (await r.json()).geometry;
    } catch { outline = null; }
  }
  $('#locator').innerHTML = info.geometry
    ? `${locatorSvg({ ward: info.geometry, district: outline, wardName: info.name, districtName: district?.name ?? '' })}
       <p class="note">${esc(info.name)} (filled)${district ? ` in ${esc(district.name)} (outlined)` : ''}.</p>`
    : '<p class="note">No locator map.</p>';
}

async function main() {
  await getJsonSignedIn('/web/api/meta');
  const token = new URLSearchParams(window.location.search).get('area') ?? '';
  const area = parseToken(token);
  const [info, p] = await Promise.all([describe(area), profileOf(area)]);
  document.title = `${info.name} — area profile — GapMap`;
  $('#compare-link').href = `/web/static/compare.html?areas=${encodeURIComponent(area.token)}`;
  const s25 = p.summary['2025'] ?? {};
  const s19 = p.summary['2019'] ?? {};
  const region = (p.benchmarks ?? []).find((b) => b.kind === 'region');
  $('#report').innerHTML = `
    <h1 id="area-name">${esc(info.name)} <span class="code">${esc(info.label ?? 'drawn area')}</span></h1>
    <p class="subtitle">Area profile · ${esc(region?.name ?? '')} · generated ${new Date().toISOString().slice(0, 10)}${p.area.repaired ? ' · boundary repaired (it crossed itself)' : ''}</p>
    ${info.description ? `<p>${esc(info.description)}</p>` : ''}
    <div class="keyfacts with-locator">
      <div id="locator" class="locator-box"></div>
      <div><span class="v" id="kf-residents">${fmt(p.area.residents)}</span><span class="k">residents (Census 2021, apportioned by postcode units)</span></div>
      <div><span class="v">${fmt(p.area.lsoas_counted)}</span><span class="k">LSOAs counted (${fmt(p.area.lsoas_whole)} whole); ${fmt(p.area.area_km2)} km²</span></div>
      <div><span class="v" id="kf-imd-score">${s25.imd_score ?? '–'}</span><span class="k">IMD 2025 score weighted by residents (region ${region?.['2025']?.imd_score ?? '–'})</span></div>
      <div><span class="v" id="kf-top20">${pct(s25.resident_share_top20)}</span><span class="k">residents in England's most deprived 20% (10%: ${pct(s25.resident_share_top10)}; 2019: ${pct(s19.resident_share_top20)})</span></div>
    </div>
    <section><h2>IMD by decile</h2>${decileTable(p)}<p class="note">${esc(p.summary.rule ?? '')}</p></section>
    <section class="long"><h2>Deprivation scores: area and benchmarks (2025)</h2>${scoresTable(p)}<p class="note">${esc(p.england?.note ?? '')}</p></section>
    <section class="long"><h2>Community assets and access</h2>${accessTable(p)}
      <p class="note">Gap: IMD 2025 decile ${esc(p.parameters?.max_decile)} or below, mean distance at least ${fmt(p.parameters?.min_distance_m)} m. ${esc(p.method?.access ?? '')} ${esc(p.method?.coverage ?? '')}</p></section>
    <section class="long"><h2>LSOAs counted</h2>${lsoaTable(p)}<p class="note">${esc(p.method?.residents ?? '')}</p></section>`;
  $('#sources').innerHTML = `<p><strong>Sources, vintages and licences.</strong></p>${attributionLines(p).map((l) => `<p>${esc(l)}</p>`).join('')}`;
  $('#csv').disabled = false;
  $('#csv').addEventListener('click', async () => {
    const r = await fetch('/processes/area-profile/execution?f=csv', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...authHeaders() },
      body: JSON.stringify({ inputs: area.inputs }),
    });
    const a = document.createElement('a');
    a.href = URL.createObjectURL(await r.blob());
    a.download = 'gapmap-area-profile.csv';
    document.body.append(a);
    a.click();
    a.remove();
  });
  await drawLocator(info, p);
}

$('#print').addEventListener('click', () => window.print());
main().then(() => { document.body.dataset.ready = 'true'; }).catch((e) => {
  const msg = e.status === 404 ? 'No such area.' : e.message;
  $('#report').innerHTML = `<h1>Area profile</h1><p class="error" data-parameter="${esc(e.parameter ?? '')}">${esc(msg)}</p>`;
  document.body.dataset.ready = 'error';
});
