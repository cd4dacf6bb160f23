// Compare two to four areas side by side: saved areas, drawn geometries,
// wards, districts and LSOAs, each profiled by the area-profile process.
// The areas are the URL's `areas` parameter (comma-separated tokens, see
// areaprofile.mjs), so a comparison is a link; the table exports as CSV
// and the page prints.
import { getJsonSignedIn } from './auth.mjs';
import { colourOfDecile } from './style.mjs';
import { esc, parseToken, describe, profileOf, measuresOf, attributionLines } from './areaprofile.mjs';

const $ = (s) => document.querySelector(s);
const MAX = 4;
const COLOURS = ['#1b9e77', '#d95f02', '#7570b3', '#e7298a'];

/**
 * The areas the link names, each once (by its normal form, so `ward:e05…`
 * and `ward:E05…` are one area): the first MAX, those left out beyond
 * them, and the tokens that name no area. Neither a repeat nor a bad token
 * takes one of the MAX places.
 */
function tokensFromUrl() {
  const q = new URLSearchParams(window.location.search);
  const list = [...q.getAll('areas').flatMap((v) => v.split(',')), ...q.getAll('area')]
    .map((t) => t.trim()).filter(Boolean);
  const seen = new Set();
  const valid = [];
  const bad = [];
  const repeats = [];
  for (const t of list) {
    let token;
    try {
      token = parseToken(t).token;
    } catch {
      bad.push(t);
      continue;
    }
    if (!seen.has(token)) {
      seen.add(token);
      valid.push(token);
    } else if (!repeats.includes(token)) {
      repeats.push(token);
    }
  }
  return { tokens: valid.slice(0, MAX), left: valid.slice(MAX), bad, repeats };
}

/** A token as people read it in a message. */
function shown(t) {
  return t.startsWith('geom:') ? 'a drawn area' : t.slice(0, 40);
}

function setTokens(tokens) {
  const q = new URLSearchParams(window.location.search);
  q.delete('area');
  q.set('areas', tokens.join(','));
  window.history.replaceState(null, '', `${window.location.pathname}?${q}`);
}

let current = []; // [{ area, info, profile, error }]
let rows = [];

function csvField(v) {
  const s = v === null || v === undefined ? '' : String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** The table as CSV: measure group, measure, then one column per area; sources last. */
export function toCsv(items, measureRows) {
  const ok = items.filter((x) => x.profile);
  const lines = [['group', 'measure', ...ok.map((x) => `${x.info.name} (${x.info.label ?? x.area.kind})`)]];
  for (const r of measureRows) {
    lines.push([r.group, r.label, ...ok.map((x) => { const v = r.get(x.profile); return v.noData ? 'no data' : v.value; })]);
  }
  lines.push([]);
  lines.push(['source', 'Areas profiled by GapMap (area-profile process); straight-line distances; Census 2021 residents apportioned by postcode units']);
  for (const l of ok[0] ? attributionLines(ok[0].profile) : []) lines.push(['source', l]);
  return `${lines.map((l) => l.map(csvField).join(',')).join('\r\n')}\r\n`;
}

function tableHtml(items) {
  const ok = items.filter((x) => x.profile);
  let group = '';
  let body = '';
  for (const r of rows) {
    if (r.group !== group) {
      group = r.group;
      body += `<tr class="group"><th colspan="${ok.length + 1}">${esc(group)}</th></tr>`;
    }
    body += `<tr${r.category ? ` data-category="${esc(r.category)}"` : ''}><th scope="row">${esc(r.label)}</th>${ok.map((x) => {
      const v = r.get(x.profile);
      const cls = v.noData ? 'no-data' : v.partial ? 'partial' : '';
      return `<td${cls ? ` class="${cls}"` : ''}>${esc(v.text)}</td>`;
    }).join('')}</tr>`;
  }
  const head = ok.map((x, i) => `<th scope="col"><span class="swatch" style="background:${COLOURS[i]}"></span>${esc(x.info.name)}<br><span class="note">${esc(x.info.label ?? 'drawn')}</span></th>`).join('');
  return `<table id="compare-table"><thead><tr><th>Measure</th>${head}</tr></thead><tbody>${body}</tbody></table>
    <p class="note">* partly covered: the category's sources reach only some of the area's LSOAs, so the figure counts only those. "no data": no source covers the area (not "no assets").</p>`;
}

/** Small multiples: residents by IMD 2025 decile per area; share in the most deprived 20%; mean distance per category. */
function chartsHtml(items) {
  const ok = items.filter((x) => x.profile);
  const w = 240;
  const bar = (xs, label, show) => {
    const max = Math.max(1e-9, ...xs.map((v) => v ?? 0));
    const h = 16 * xs.length + 8;
    return `<svg viewBox="0 0 ${w} ${h}" role="img" aria-label="${esc(label)}">${xs.map((v, i) => {
      const y = 4 + i * 16;
      if (v === null || v === undefined) return `<text x="4" y="${y + 11}" font-size="10" fill="#555">no data</text>`;
      const len = (v / max) * (w - 70);
      return `<rect x="0" y="${y}" width="${len}" height="12" fill="${COLOURS[i]}"/><text x="${len + 4}" y="${y + 10}" font-size="10">${esc(show(v))}</text>`;
    }).join('')}</svg>`;
  };
  const decileBars = ok.map((x, i) => {
    const r = x.profile.summary['2025']?.residents_by_decile ?? [];
    const total = r.reduce((a, b) => a + b, 0);
    let at = 0;
    const rects = r.map((n, k) => {
      const len = total ? (n / total) * (w - 10) : 0;
      const s = `<rect x="${at}" y="${4 + i * 18}" width="${len}" height="14" fill="${colourOfDecile(k + 1)}"><title>Decile ${k + 1}: ${Math.round(n)} residents</title></rect>`;
      at += len;
      return s;
    }).join('');
    return rects;
  }).join('');
  const share = bar(ok.map((x) => x.profile.summary['2025']?.resident_share_top20), 'Share in the most deprived 20%', (v) => `${(v * 100).toFixed(1)}%`);
  const residents = bar(ok.map((x) => x.profile.area.residents), 'Residents', (v) => Math.round(v).toLocaleString('en-GB'));
  const cats = (ok[0]?.profile.categories ?? []).map((c) => {
    const xs = ok.map((x) => {
      const y = x.profile.categories.find((z) => z.category === c.category);
      return !y || y.coverage === 'no data' ? null : y.access?.mean_distance_m;
    });
    return `<figure data-category="${esc(c.category)}"><figcaption>${esc(c.label)}: mean distance</figcaption>${bar(xs, `${c.label} mean distance`, (v) => (v >= 1000 ? `${(v / 1000).toFixed(1)} km` : `${Math.round(v)} m`))}</figure>`;
  }).join('');
  return `<div class="multiples" id="multiples">
    <figure><figcaption>Residents by IMD 2025 decile (share; 1 = most deprived)</figcaption><svg viewBox="0 0 ${w} ${ok.length * 18 + 8}" role="img" aria-label="Residents by IMD 2025 decile">${decileBars}</svg></figure>
    <figure><figcaption>Residents in England's most deprived 20% (IMD 2025)</figcaption>${share}</figure>
    <figure><figcaption>Residents (Census 2021)</figcaption>${residents}</figure>
    ${cats}
  </div>
  <p class="note">Bars in the order of the table's columns (${ok.map((x, i) => `<span style="color:${COLOURS[i]}">■</span> ${esc(x.info.name)}`).join(', ')}). Distances are straight-line, from each postcode unit to the nearest asset, weighted by residents.</p>`;
}

function renderList(tokens) {
  $('#area-list').innerHTML = tokens.map((t, i) => {
    const x = current.find((c) => c.token === t);
    const name = x?.info?.name ?? (t.startsWith('geom:') ? 'Drawn area' : t);
    return `<li data-token-index="${i}">${esc(name)} <span class="note">${esc(t.startsWith('geom:') ? 'drawn' : t)}</span><button type="button" data-remove="${i}">Remove</button></li>`;
  }).join('');
}

async function load(tokens) {
  renderList(tokens);
  const out = $('#comparison');
  if (tokens.length < 2) {
    out.innerHTML = `<p id="need-two">Add ${tokens.length ? 'another area' : 'two to four areas'} to compare (from the map: draw or pick an area, then "Compare").</p>`;
    $('#csv').disabled = true;
    return;
  }
  out.innerHTML = '<p>Profiling…</p>';
  current = await Promise.all(tokens.map(async (token) => {
    try {
      const area = parseToken(token);
      const [info, profile] = await Promise.all([describe(area), profileOf(area)]);
      return { token, area, info, profile };
    } catch (e) {
      return { token, error: e };
    }
  }));
  renderList(tokens);
  const failed = current.filter((x) => x.error);
  const ok = current.filter((x) => x.profile);
  const errors = failed.map((x) => `<p class="error" data-failed="${esc(x.token.slice(0, 40))}">${esc(x.token.startsWith('geom:') ? 'Drawn area' : x.token)}: ${esc(x.error.message)}</p>`).join('');
  if (!ok.length) {
    out.innerHTML = errors;
    return;
  }
  rows = measuresOf(ok[0].profile);
  const y = ok[0].profile.sources?.deprivation?.map((d) => d.title).join('; ') ?? '';
  out.innerHTML = `${errors}
    <p class="subtitle">${ok.length} areas · generated ${new Date().toISOString().slice(0, 10)} · ${esc(y)}</p>
    <section class="long"><h2>Side by side</h2>${tableHtml(current)}</section>
    <section><h2>Small multiples</h2>${chartsHtml(current)}</section>
    <section class="long"><h2>Method</h2><p class="note">${esc(ok[0].profile.method?.residents ?? '')}</p><p class="note">${esc(ok[0].profile.method?.access ?? '')}</p><p class="note">${esc(ok[0].profile.method?.coverage ?? '')}</p></section>`;
  $('#sources').innerHTML = `<p><strong>Sources, vintages and licences.</strong></p>${attributionLines(ok[0].profile).map((l) => `<p>${esc(l)}</p>`).join('')}`;
  $('#csv').disabled = false;
}

async function main() {
  await getJsonSignedIn('/web/api/meta');
  let { tokens, left, bad, repeats } = tokensFromUrl();
  // Said, not silently cut: the link named more areas than a comparison
  // takes, or something that is no area.
  const say = (id, text) => {
    const note = document.createElement('p');
    note.className = 'error';
    note.id = id;
    note.textContent = text;
    $('#add-area').before(note);
  };
  if (left.length) say('left-out', `A comparison takes at most ${MAX} areas; left out: ${left.map(shown).join(', ')}.`);
  if (repeats.length) say('repeats', `Named more than once, compared once: ${repeats.map(shown).join(', ')}.`);
  if (bad.length) say('not-areas', `Not areas, left out: ${bad.map(shown).join(', ')} (an area is areas-N, ward:E05…, district:E0…, lsoa:E01… or a drawn geometry).`);
  // A refusal (a bad token, a fifth area) is shown until the next edit:
  // left in place, it would block every later submit.
  $('#area-token').addEventListener('input', () => $('#area-token').setCustomValidity(''));
  $('#add-area').addEventListener('submit', (e) => {
    e.preventDefault();
    let t = $('#area-token').value.trim();
    if (!t) return;
    try {
      t = parseToken(t).token;
    } catch (err) {
      $('#area-token').setCustomValidity(err.message);
      $('#area-token').reportValidity();
      return;
    }
    if (tokens.includes(t)) {
      $('#area-token').setCustomValidity(`${shown(t)} is already in the comparison.`);
      $('#area-token').reportValidity();
      return;
    }
    if (tokens.length >= MAX) {
      $('#area-token').setCustomValidity(`A comparison takes at most ${MAX} areas: remove one first.`);
      $('#area-token').reportValidity();
      return;
    }
    $('#area-token').setCustomValidity('');
    tokens = [...tokens, t];
    $('#area-token').value = '';
    setTokens(tokens);
    load(tokens).then(() => { document.body.dataset.ready = 'true'; });
  });
  $('#area-list').addEventListener('click', (e) => {
    const i = e.target?.dataset?.remove;
    if (i === undefined) return;
    tokens = tokens.filter((_, k) => k !== Number(i));
    // Room again for the area a refusal held back.
    $('#area-token').setCustomValidity('');
    setTokens(tokens);
    load(tokens).then(() => { document.body.dataset.ready = 'true'; });
  });
  $('#csv').addEventListener('click', () => {
    const blob = new Blob([toCsv(current, rows)], { type: 'text/csv' });
    const a = document.createElement('a');
    a.href = URL.createObjectURL(blob);
    a.download = 'gapmap-compare.csv';
    document.body.append(a);
    a.click();
    a.remove();
  });
  await load(tokens);
}

$('#print').addEventListener('click', () => window.print());
main().then(() => { document.body.dataset.ready = 'true'; }).catch((e) => {
  $('#comparison').innerHTML = `<p class="error">${esc(e.message)}</p>`;
  document.body.dataset.ready = 'error';
});
