// The priority-areas page: wards containing the most deprived LSOAs, for
// IMD 2025 (2024 wards) and IMD 2019 (2017 wards), from /priority-areas,
// with a name for every ward: a 2017 ward ONS published without a name and
// whose code was replaced is named by the 2024 wards its LSOAs now lie in.
import { authHeaders } from './auth.mjs';

const $ = (s) => document.querySelector(s);
const esc = (s) => String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
const fmt = (n) => (n === null || n === undefined ? '–' : Number(n).toLocaleString('en-GB'));

async function getJson(url) {
  const r = await fetch(url, { headers: { Accept: 'application/json', ...authHeaders() } });
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
  return r.json();
}

/** The 2024 wards a 2011 LSOA's area now lies in (2011 → 2021 lookup, then the 2021 LSOA's ward). */
async function wardsNow(lsoa11) {
  const found = await getJson(`/search?q=${encodeURIComponent(lsoa11)}`);
  const lsoas = found.results.filter((r) => r.kind === 'lsoa' && r.lsoa11 === lsoa11).map((r) => r.code);
  const wards = await Promise.all(lsoas.map((c) => getJson(`/web/api/lsoa/${encodeURIComponent(c)}`).then((l) => l.ward?.name).catch(() => null)));
  return [...new Set(wards.filter(Boolean))];
}

async function table(year, maxDecile) {
  const d = await getJson(`/priority-areas?year=${year}&max_decile=${maxDecile}`);
  const rows = await Promise.all(d.wards.map(async (w) => {
    let name = w.ward_name ? esc(w.ward_name) : null;
    let note = '';
    if (!name) {
      const now = await wardsNow(w.lsoas[0]).catch(() => []);
      name = now.length ? `<em>now in ${esc(now.join(', '))}</em>` : '<em>unnamed</em>';
      note = ' <span class="note">(2017 ward; ONS published no name and the code has since changed: named by the 2024 ward its LSOAs lie in)</span>';
    }
    const link = year === 2025 ? `<a href="/wards/${encodeURIComponent(w.ward_code)}">${name}</a>` : name;
    return `<tr><th scope="row">${link}${note}</th><td><span class="note">${esc(w.ward_code)}</span></td><td>${esc(w.district_name ?? '')}</td>
      <td class="num">${w.lsoas.length}</td><td class="num">${fmt(w.residents)}</td><td><span class="note">${w.lsoas.map(esc).join(', ')}</span></td></tr>`;
  }));
  return `<h2>IMD ${year} <span class="note">(${year === 2025 ? '2024 wards, 2021 LSOAs, Census 2021 residents' : '2017 wards, 2011 LSOAs, mid-2015 population'})</span></h2>
    <p>${fmt(d.summary.wards)} wards with ${fmt(d.summary.lsoas)} LSOAs in decile ${maxDecile} or below (${fmt(d.summary.residents)} residents).</p>
    <table id="priority-${year}"><thead><tr><th>Ward</th><th>Code</th><th>District</th><th class="num">LSOAs</th><th class="num">Residents</th><th>LSOAs</th></tr></thead><tbody>${rows.join('')}</tbody></table>
    <p class="note">${esc(d.method)}</p>`;
}

async function render() {
  const max = Number($('#max-decile').value);
  const params = new URLSearchParams({ max_decile: String(max) });
  window.history.replaceState(null, '', `?${params}`);
  $('#y2025').innerHTML = await table(2025, max);
  $('#y2019').innerHTML = await table(2019, max);
}

async function main() {
  const sel = $('#max-decile');
  for (let d = 1; d <= 10; d += 1) sel.insertAdjacentHTML('beforeend', `<option value="${d}">${d} (most deprived ${d * 10}%)</option>`);
  sel.value = new URLSearchParams(window.location.search).get('max_decile') ?? '2';
  sel.addEventListener('change', () => { render().catch((e) => { $('#y2025').innerHTML = `<p class="error">${esc(e.message)}</p>`; }); });
  await render();
  $('#sources').innerHTML = '<p>MHCLG English Indices of Deprivation 2019 and 2025; ONS ward and LSOA lookups and boundaries; Census 2021 (all OGL v3).</p>';
}

$('#print').addEventListener('click', () => window.print());
main().then(() => { document.body.dataset.ready = 'true'; }).catch((e) => {
  $('#y2025').innerHTML = `<p class="error">${esc(e.message)}</p>`;
  document.body.dataset.ready = 'error';
});
