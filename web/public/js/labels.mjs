// Collision-free area labels: HTML markers (the map has no glyph server,
// so no MapLibre text), hidden greedily where they would overlap a label
// already placed, in priority order (districts before wards, then the
// order given). Runs after each move.

/**
 * Shows the markers of each group whose `visible()` holds, hiding any whose
 * box overlaps one already shown (with `pad` pixels of room). Groups come
 * in priority order.
 */
export function declutter(groups, pad = 4) {
  const placed = [];
  const overlaps = (r) => placed.some((p) => r.left < p.right + pad && r.right + pad > p.left && r.top < p.bottom + pad && r.bottom + pad > p.top);
  for (const { markers, visible } of groups) {
    for (const m of markers) {
      const el = m.getElement();
      if (!visible(m)) { el.style.display = 'none'; continue; }
      el.style.display = '';
      el.style.visibility = 'hidden';
      const r = el.getBoundingClientRect();
      const onScreen = r.right > 0 && r.bottom > 0 && r.left < window.innerWidth && r.top < window.innerHeight;
      if (!onScreen || overlaps(r)) { el.style.display = 'none'; el.style.visibility = ''; continue; }
      placed.push(r);
      el.style.visibility = '';
    }
  }
}

/**
 * Keeps markers only for the labels inside the map's current bounds (at
 * most `max`), so England's 7,000 ward names cost a few dozen DOM nodes at
 * street zoom. `markers` is the array the caller declutters; it is updated
 * in place.
 */
export function syncViewportMarkers(map, maplibregl, features, markers, className, max = 400) {
  const b = map.getBounds();
  const inside = new Set();
  for (const f of features) {
    if (inside.size >= max) break;
    const [x, y] = f.geometry.coordinates;
    if (b.contains([x, y])) inside.add(f);
  }
  const kept = markers.filter((m) => inside.has(m.feature));
  for (const m of markers) if (!inside.has(m.feature)) m.remove();
  const have = new Set(kept.map((m) => m.feature));
  for (const f of inside) {
    if (have.has(f)) continue;
    const el = document.createElement('div');
    el.className = className;
    el.textContent = f.properties.name;
    el.setAttribute('aria-hidden', 'true');
    const m = new maplibregl.Marker({ element: el }).setLngLat(f.geometry.coordinates).addTo(map);
    m.feature = f;
    kept.push(m);
  }
  markers.splice(0, markers.length, ...kept);
}
