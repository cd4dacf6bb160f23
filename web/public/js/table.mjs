// A sortable, filterable, exportable table of the region's LSOAs or wards
// (rank, score, decile, residents, share in England's most deprived 20%,
// distance to the nearest asset of chosen categories), each row linked to
// the map. Reads the OGC collections and /gaps (CSV, every LSOA).
import { authHeaders } from './auth.mjs';
import { caveatsOf } from './honesty.mjs';

const $ = (s) => document.querySelector(s);
const esc = (s) => String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));

async function get(url, accept = 'application/geo+json, application/json') {
  const r = await fetch(url, { headers: { Accept: accept, ...authHeaders() } });
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
  return accept.startsWith('text/csv') ? r.text() : r.json();
}

/** Every feature of an OGC collection (following `next` links). */
async function allItems(collection) {
  const out = [];
  let url = `/collections/${collection}/items?limit=1000`;
  while (url) {
    const page = await get(url);
    out.push(...page.features);
    const next = (page.links ?? []).find((l) => l.rel === 'next');
    url = next ? new URL(next.href, window.location.origin).pathname + new URL(next.href, window.location.origin).search : null;
  }
  return out;
}

function parseCsv(text) {
  const rows = [];
  let row = [];
  let f = '';
  let q = false;
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i];
    if (q) { if (c === '"' && text[i + 1] === '"') { f += '"'; i += 1; } else if (c === '"') q = false; else f += c; } else if (c === '"') q = true;
    else if (c === ',') { row.push(f); f = ''; } else if (c === '\n') { row.push(f); rows.push(row); row = []; f = ''; } else if (c !== '\r') f += c;
  }
  if (f || row.length) { row.push(f); rows.push(row); }
  return rows;
}

/** Mean distance (m) per LSOA for a category, from /gaps over every LSOA; no data = null with its status. */
async function distances(category) {
  const [header, ...rows] = parseCsv(await get(`/gaps?category=${encodeURIComponent(category)}&max_decile=10&min_distance_m=0&f=csv`, 'text/csv'));
  const col = (n) => header.indexOf(n);
  return new Map(rows.filter((r) => r.length > 1).map((r) => [r[col('lsoa21_code')], r[col('status')] === 'gap' ? Number(r[col('mean_distance_m')]) : null]));
}

const state = { level: 'lsoa', sort: { key: 'imd_rank', dir: 1 }, rows: [], columns: [] };
let meta;
let lsoas;
let wards;
const distanceCache = new Map();

function columnsFor(level, cats) {
  const base = level === 'lsoa'
    ? [['name', 'LSOA'], ['code', 'Code'], ['ward_name', 'Ward'], ['district_name', 'District'], ['residents', 'Residents'], ['imd_rank', 'IMD 2025 rank'], ['imd_score', 'IMD 2025 score'], ['imd_decile', 'IMD 2025 decile']]
    : [['name', 'Ward'], ['code', 'Code'], ['district_name', 'District'], ['residents', 'Residents'], ['imd_score_2025', 'IMD 2025 score (resident-weighted)'], ['imd_2025_resident_share_top20', 'Residents in most deprived 20%'], ['imd_2025_lsoas_top20', 'LSOAs in most deprived 20%']];
  return [...base, ...cats.map((c) => [`dist_${c.id}`, `${c.label}: mean distance (m)`])];
}

async function build() {
  const cats = [...$('#distance-cats').selectedOptions].map((o) => meta.categories.find((c) => c.id === o.value));
  state.level = $('#level').value;
  state.columns = columnsFor(state.level, cats);
  for (const c of cats) if (!distanceCache.has(c.id) && state.level === 'lsoa') distanceCache.set(c.id, await distances(c.id));
  const source = state.level === 'lsoa' ? lsoas : wards;
  state.rows = source.map((f) => {
    const p = { ...f.properties };
    if (state.level === 'lsoa') p.ward_name = p.ward_name ?? p.ward;
    for (const c of cats) p[`dist_${c.id}`] = state.level === 'lsoa' ? (distanceCache.get(c.id).get(p.code) ?? null) : (p[`${c.id}_mean_distance_m`] ?? null);
    return p;
  });
  const notes = cats.flatMap((c) => caveatsOf(meta, c.id).map((t) => `${c.label}: ${t}`));
  $('#table-notes').textContent = `Distances: straight line, mean over the area's postcode units (wards: resident-weighted over covered LSOAs); empty = no data (outside the source's coverage). ${notes.join(' ')}`;
  render();
}

function visibleRows() {
  const text = $('#filter-text').value.trim().toLowerCase();
  const district = $('#filter-district').value;
  const maxDecile = Number($('#filter-decile').value);
  const { key, dir } = state.sort;
  return state.rows
    .filter((r) => !text || `${r.name} ${r.code} ${r.ward_name ?? ''}`.toLowerCase().includes(text))
    .filter((r) => !district || r.district_name === district)
    .filter((r) => state.level !== 'lsoa' || maxDecile >= 10 || (r.imd_decile !== null && r.imd_decile <= maxDecile))
    .sort((a, b) => {
      const x = a[key];
      const y = b[key];
      if (x === null || x === undefined) return 1;
      if (y === null || y === undefined) return -1;
      return (typeof x === 'number' ? x - y : String(x).localeCompare(String(y))) * dir;
    });
}

function cell(key, v) {
  if (v === null || v === undefined) return key.startsWith('dist_') ? '<span class="note">no data</span>' : '–';
  if (key.includes('share')) return `${(v * 100).toFixed(1)}%`;
  if (typeof v === 'number') return v.toLocaleString('en-GB', { maximumFractionDigits: key.includes('score') ? 3 : 0 });
  return esc(v);
}

function render() {
  const rows = visibleRows();
  $('#area-table thead').innerHTML = `<tr>${state.columns.map(([k, l]) => `<th scope="col" data-key="${k}"${state.sort.key === k ? ` aria-sort="${state.sort.dir > 0 ? 'ascending' : 'descending'}"` : ''}><button type="button">${esc(l)}</button></th>`).join('')}</tr>`;
  const kind = state.level === 'lsoa' ? 'lsoa' : 'ward';
  $('#area-table tbody').innerHTML = rows.map((r) => `<tr data-code="${esc(r.code)}">${state.columns.map(([k], i) => `<td${typeof r[k] === 'number' ? ' class="num"' : ''}>${i === 0 ? `<a href="/map#sel=${kind}:${encodeURIComponent(r.code)}">${cell(k, r[k])}</a>` : cell(k, r[k])}</td>`).join('')}</tr>`).join('');
  $('#table-count').textContent = `${rows.length} of ${state.rows.length} ${state.level === 'lsoa' ? 'LSOAs' : 'wards'} shown.`;
  for (const th of document.querySelectorAll('#area-table th')) {
    th.querySelector('button').addEventListener('click', () => {
      const key = th.dataset.key;
      state.sort = { key, dir: state.sort.key === key ? -state.sort.dir : 1 };
      render();
    });
  }
  const csv = [state.columns.map(([, l]) => l), ...rows.map((r) => state.columns.map(([k]) => r[k] ?? ''))]
    .map((line) => line.map((v) => (/[",\n]/.test(String(v)) ? `"${String(v).replace(/"/g, '""')}"` : String(v))).join(',')).join('\n');
  $('#table-csv').href = URL.createObjectURL(new Blob([csv], { type: 'text/csv' }));
}

async function main() {
  meta = await get('/web/api/meta', 'application/json');
  [lsoas, wards] = await Promise.all([allItems('lsoa'), allItems('wards')]);
  for (const d of [...new Set(lsoas.map((f) => f.properties.district_name).filter(Boolean))].sort()) $('#filter-district').insertAdjacentHTML('beforeend', `<option>${esc(d)}</option>`);
  for (let d = 1; d <= 10; d += 1) $('#filter-decile').insertAdjacentHTML('beforeend', `<option value="${d}"${d === 10 ? ' selected' : ''}>${d}</option>`);
  for (const c of meta.categories) $('#distance-cats').insertAdjacentHTML('beforeend', `<option value="${esc(c.id)}"${['gp_practice', 'pharmacy', 'library'].includes(c.id) ? ' selected' : ''}>${esc(c.label)}</option>`);
  for (const id of ['#filter-text', '#filter-district', '#filter-decile']) $(id).addEventListener('input', render);
  for (const id of ['#level', '#distance-cats']) $(id).addEventListener('change', () => { build().catch(fail); });
  await build();
}

function fail(e) { $('#table-count').textContent = `Could not build the table: ${e.message}`; }

main().then(() => { document.body.dataset.ready = 'true'; }).catch((e) => { fail(e); document.body.dataset.ready = 'error'; });
