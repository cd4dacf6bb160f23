// A locator map for the printable ward profile: the ward (filled) within
// its district (outlined), as inline SVG so it prints without map tiles.

const esc = (s) => String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));

function rings(geometry) {
  if (!geometry) return [];
  if (geometry.type === 'Polygon') return geometry.coordinates;
  if (geometry.type === 'MultiPolygon') return geometry.coordinates.flat();
  return [];
}

/**
 * SVG markup of `ward` (a GeoJSON geometry) inside `district`, in an
 * equirectangular projection scaled by cos(latitude) (fine at this size).
 */
export function locatorSvg({ ward, district, wardName, districtName, size = 320 }) {
  const all = [...rings(district), ...rings(ward)].flat();
  if (!all.length) return '';
  const lons = all.map((c) => c[0]);
  const lats = all.map((c) => c[1]);
  const [x0, x1, y0, y1] = [Math.min(...lons), Math.max(...lons), Math.min(...lats), Math.max(...lats)];
  const k = Math.cos((((y0 + y1) / 2) * Math.PI) / 180);
  const w = (x1 - x0) * k || 1e-6;
  const h = (y1 - y0) || 1e-6;
  const s = (size - 20) / Math.max(w, h);
  const width = Math.round(w * s + 20);
  const height = Math.round(h * s + 20);
  const path = (g) => rings(g).map((r) => `M${r.map((c) => `${(10 + (c[0] - x0) * k * s).toFixed(1)},${(10 + (y1 - c[1]) * s).toFixed(1)}`).join('L')}Z`).join('');
  return `<svg class="locator" id="locator-map" viewBox="0 0 ${width} ${height}" role="img" aria-labelledby="loc-title">
    <title id="loc-title">Locator: ${esc(wardName)} (filled) within ${esc(districtName)} (outlined)</title>
    <path d="${path(district)}" fill="#f0f0ee" stroke="#333" stroke-width="1.2" fill-rule="evenodd"/>
    <path d="${path(ward)}" fill="#e7298a" fill-opacity=".8" stroke="#000" stroke-width="1" fill-rule="evenodd"/>
  </svg>`;
}
