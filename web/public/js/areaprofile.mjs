// Areas as the pages name them, and their profiles from the area-profile
// process (POST /processes/area-profile/execution): the same endpoint
// standard OGC API – Processes clients call.
//
// An area in a URL is one token:
//   areas-3            a saved area (collection `areas`)
//   ward:E05009999     a 2024 ward       district:E07000178  a district
//   lsoa:E01028524     a 2021 LSOA
//   geom:<base64url>   a drawn GeoJSON Polygon/MultiPolygon in CRS84
import { authHeaders } from './auth.mjs';

export const esc = (s) => String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
export const fmt = (n) => (n === null || n === undefined ? '–' : Number(n).toLocaleString('en-GB'));
export const pct = (x) => (x === null || x === undefined ? '–' : `${(x * 100).toFixed(1)}%`);
export const fmtDist = (m) => {
  if (m === null || m === undefined) return '–';
  return m >= 1000 ? `${(m / 1000).toFixed(1)} km` : `${Math.round(m)} m`;
};

/** base64url of UTF-8 text, and back. */
export function toBase64Url(text) {
  const bytes = new TextEncoder().encode(text);
  let bin = '';
  bytes.forEach((b) => { bin += String.fromCharCode(b); });
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}
export function fromBase64Url(s) {
  const bin = atob(s.replace(/-/g, '+').replace(/_/g, '/'));
  return new TextDecoder().decode(Uint8Array.from(bin, (c) => c.charCodeAt(0)));
}

/** The token of a drawn geometry (coordinates rounded to 6 places, about 0.1 m). */
export function geometryToken(geometry) {
  const round = (c) => (Array.isArray(c[0]) ? c.map(round) : c.map((v) => Math.round(v * 1e6) / 1e6));
  return `geom:${toBase64Url(JSON.stringify({ type: geometry.type, coordinates: round(geometry.coordinates) }))}`;
}

/**
 * What a token means: { token, kind, code?, geometry?, inputs } where
 * `inputs` is the process's area input. Throws on a token it cannot read.
 */
export function parseToken(token) {
  const t = String(token).trim();
  if (/^areas-[1-9][0-9]*$/.test(t)) return { token: t, kind: 'saved', code: t, inputs: { area: t } };
  const m = t.match(/^(ward|district|lsoa):([A-Z][0-9]{8})$/i);
  if (m) {
    const kind = m[1].toLowerCase();
    const code = m[2].toUpperCase();
    return { token: `${kind}:${code}`, kind, code, inputs: { [`${kind}s`]: [code] } };
  }
  if (t.startsWith('geom:')) {
    const geometry = JSON.parse(fromBase64Url(t.slice(5)));
    if (!['Polygon', 'MultiPolygon'].includes(geometry?.type)) throw new Error('a drawn area must be a polygon');
    return { token: t, kind: 'drawn', geometry, inputs: { geometry } };
  }
  throw new Error(`'${t.slice(0, 40)}' is not an area (areas-N, ward:E05…, district:E0…, lsoa:E01… or a drawn geometry)`);
}

async function fetchJson(url, init = {}) {
  const r = await fetch(url, { ...init, headers: { Accept: 'application/json', ...authHeaders(), ...(init.headers ?? {}) } });
  const text = await r.text();
  let body = null;
  try { body = JSON.parse(text); } catch { body = null; }
  if (!r.ok) {
    const e = new Error(body?.detail ?? `${url}: HTTP ${r.status}`);
    e.status = r.status;
    e.parameter = body?.parameter;
    throw e;
  }
  return body;
}

/** The area's name and boundary (for saved areas, wards, districts, LSOAs; a drawn area is its own). */
export async function describe(area) {
  const collection = { saved: 'areas', ward: 'wards', district: 'districts', lsoa: 'lsoa' }[area.kind];
  if (!collection) return { name: 'Drawn area', geometry: area.geometry, description: null };
  const f = await fetchJson(`/collections/${collection}/items/${encodeURIComponent(area.code)}`);
  const label = { saved: 'saved area', ward: 'ward', district: 'district', lsoa: 'LSOA' }[area.kind];
  return {
    name: f.properties?.name ? `${f.properties.name}` : area.code,
    label: `${label} ${area.code}`,
    description: f.properties?.description ?? null,
    geometry: f.geometry,
  };
}

/** The area's profile (the process's JSON output). */
export function profileOf(area, params = {}) {
  return fetchJson('/processes/area-profile/execution', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ inputs: { ...area.inputs, ...params } }),
  });
}

/** A category's value, or "no data" where its sources do not cover the area. */
export function covered(c, value) {
  if (c.coverage === 'no data') return { text: 'no data', value: null, noData: true };
  return { text: value, value, partial: c.coverage === 'partly covered' };
}

/**
 * The measures compared, in order: [{ group, label, get(profile) → { text, value, noData?, partial? } }],
 * built from the first profile's categories and domains (every profile of
 * one server has the same ones).
 */
export function measuresOf(p) {
  const plain = (f, show = fmt) => (q) => { const v = f(q); return { text: show(v), value: v ?? null }; };
  const rows = [
    { group: 'Area', label: 'Residents (Census 2021, apportioned)', get: plain((q) => q.area.residents) },
    { group: 'Area', label: 'Area (km²)', get: plain((q) => q.area.area_km2) },
    { group: 'Area', label: 'LSOAs counted (2021)', get: plain((q) => q.area.lsoas_counted) },
  ];
  for (const y of ['2025', '2019']) {
    const note = y === '2019' ? ' (carried onto 2021 LSOAs)' : '';
    rows.push(
      { group: `IMD ${y}`, label: `Residents in England's most deprived 10%${note}`, get: plain((q) => q.summary[y]?.resident_share_top10, pct) },
      { group: `IMD ${y}`, label: `Residents in England's most deprived 20%${note}`, get: plain((q) => q.summary[y]?.resident_share_top20, pct) },
      { group: `IMD ${y}`, label: `IMD score, weighted by residents${note}`, get: plain((q) => q.summary[y]?.imd_score) },
    );
  }
  for (const s of p.deprivation['2025'].scores) {
    if (s.id === 'imd') continue;
    rows.push({ group: 'Domain scores 2025', label: `${s.label}${s.kind === 'subdomain' ? ' (sub-domain)' : ''}`, get: plain((q) => q.deprivation['2025'].scores.find((x) => x.id === s.id)?.score) });
  }
  for (let d = 1; d <= 10; d += 1) {
    rows.push({ group: 'Residents by IMD 2025 decile', label: `Decile ${d}${d === 1 ? ' (most deprived)' : ''}`, get: plain((q) => q.summary['2025']?.residents_by_decile?.[d - 1]) });
  }
  for (let d = 1; d <= 10; d += 1) {
    rows.push({ group: 'LSOAs by IMD 2025 decile', label: `Decile ${d}`, get: plain((q) => q.summary['2025']?.lsoas_by_decile?.[d - 1]) });
  }
  for (const c of p.categories) {
    const cat = (q) => q.categories.find((x) => x.category === c.category);
    const per = (f, show) => (q) => { const x = cat(q); if (!x) return { text: '–', value: null }; const r = covered(x, f(x)); return { ...r, text: r.noData ? 'no data' : (r.value == null && x.access?.cannot_answer ? 'cannot answer' : show(r.value)) }; };
    rows.push(
      { group: c.label, label: 'Assets inside', category: c.category, get: per((x) => x.assets_inside, fmt) },
      { group: c.label, label: 'Assets within 800 m', category: c.category, get: per((x) => x.assets_within_m?.['800'], fmt) },
      { group: c.label, label: "Residents' mean distance to the nearest", category: c.category, get: per((x) => x.access?.mean_distance_m, fmtDist) },
      { group: c.label, label: 'Deprived-and-far residents (gap)', category: c.category, get: per((x) => x.access?.gap_residents, fmt) },
    );
  }
  return rows;
}

/** Sources, vintages, licences and attributions of a profile, as text lines. */
export function attributionLines(p) {
  const lines = new Set();
  const s = p.sources ?? {};
  for (const d of s.deprivation ?? []) lines.add(`${d.title}. ${d.attribution}`);
  for (const a of [...(s.areas ?? []), ...(s.assets ?? [])]) lines.add(`${a.title} (${a.publisher}; ${a.vintage}; ${a.licence}). ${a.attribution}`);
  return [...lines];
}
