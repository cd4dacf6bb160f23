// The district panel: MHCLG's official district summaries (IoD2025 and
// IoD2019, File 10) as the headline figures, with their source, and
// GapMap's own resident-weighted roll-ups beside them, labelled as such.
// Reads /collections/districts/items/{code} (the OGC collection).

const esc = (s) => String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
const fmt = (n, d = 0) => (n === null || n === undefined ? '–' : Number(n).toLocaleString('en-GB', { maximumFractionDigits: d, minimumFractionDigits: d }));

/** A readable label for an official summary key's measure ("average_score" → "Average score"). */
function measureLabel(m) {
  const text = m
    .replace(/^rank_of_/, 'rank of ')
    .replace(/^rank_/, 'rank of ')
    .replace(/proportion_of_lsoas_in_most_deprived_10_percent_nationally|proportion_bottom_decile/, 'proportion of LSOAs in the most deprived 10% nationally')
    .replace(/_/g, ' ');
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** The official IMD measures of one year, as [label, value, isRank] rows in a stable order. */
export function officialRows(props, year) {
  const prefix = `official_${year}_imd_`;
  return Object.keys(props).filter((k) => k.startsWith(prefix) && props[k] !== null)
    .map((k) => {
      const m = k.slice(prefix.length);
      const rank = m.startsWith('rank');
      const share = /proportion/.test(m) && !rank;
      return { key: k, label: measureLabel(m), value: props[k], rank, share };
    })
    .sort((a, b) => Number(a.rank) - Number(b.rank) || a.key.localeCompare(b.key));
}

/** The district panel's HTML for an OGC `districts` feature's properties. */
export function districtHtml(p, { regionName = '' } = {}) {
  const table = (year) => {
    const rows = officialRows(p, year).map((r) => `<tr data-key="${esc(r.key)}"><th scope="row">${esc(r.label)}</th><td class="num">${r.share ? `${fmt(r.value * 100, 1)}%` : fmt(r.value, r.rank ? 0 : 3)}</td></tr>`).join('');
    return rows ? `<table id="district-official-${year}"><caption>IoD${year}, official (MHCLG)</caption><tbody>${rows}</tbody></table>` : `<p class="hint">No official IoD${year} summary for this district code.</p>`;
  };
  return `
    <h2 id="panel-title">${esc(p.name)} <span class="muted">${esc(p.code)} · district${regionName ? ` in ${esc(regionName)}` : ''}</span></h2>
    <dl class="facts">
      <dt>Residents</dt><dd>${fmt(p.residents)} <span class="muted">(Census 2021)</span></dd>
      <dt>Wards</dt><dd>${fmt(p.ward_count)}</dd>
      <dt>LSOAs (2021)</dt><dd>${fmt(p.lsoa_count)}</dd>
    </dl>
    <h3>Official IoD summary measures</h3>
    <p class="hint">Ranks: 1 = most deprived district in England.</p>
    ${table(2025)}
    ${table(2019)}
    <p class="hint" id="district-official-source">${esc(p.official_source ?? '')}</p>
    <h3>GapMap's roll-up (not an official figure)</h3>
    <dl class="facts">
      <dt>IMD score 2019 → 2025</dt><dd id="district-rollup-score">${fmt(p.imd_score_2019, 3)} → ${fmt(p.imd_score_2025, 3)}</dd>
    </dl>
    <p class="hint">${esc(p.rollup_method ?? '')}</p>`;
}
