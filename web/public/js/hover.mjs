// Hover tooltips: the name and value of the area under the pointer, and the
// source and vintage of a coverage outline near it.

const esc = (s) => String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));

/**
 * Shows a tooltip on `map` while the pointer moves. `describe(point)`
 * returns HTML for the thing under the pointer, or '' for nothing.
 */
export function setupHover(map, maplibregl, describe) {
  const tip = new maplibregl.Popup({ closeButton: false, closeOnClick: false, className: 'map-tooltip', offset: 14, maxWidth: '280px' });
  let shown = false;
  map.on('mousemove', (e) => {
    const html = describe(e.point);
    if (!html) {
      if (shown) { tip.remove(); shown = false; }
      return;
    }
    tip.setLngLat(e.lngLat).setHTML(html);
    if (!shown) { tip.addTo(map); shown = true; }
  });
  map.getCanvas().addEventListener('mouseleave', () => { tip.remove(); shown = false; });
}

/** The coverage outline within a few pixels of `point`, described, or ''. */
export function coverageAt(map, point, layerIds) {
  const layers = layerIds.filter((id) => map.getLayer(id) && map.getLayoutProperty(id, 'visibility') !== 'none');
  if (!layers.length) return '';
  const f = map.queryRenderedFeatures([[point.x - 4, point.y - 4], [point.x + 4, point.y + 4]], { layers })[0];
  if (!f) return '';
  const p = f.properties;
  return `<strong>Data coverage: ${esc(p.title)}</strong><br>${esc(p.vintage)} — ${esc(p.description)}<br><span class="muted">Outside this line the source has no data.</span>`;
}

/** An area under `point` in `layer`, described by `label(props)`, or ''. */
export function areaAt(map, point, layer, label) {
  const f = map.queryRenderedFeatures(point, { layers: [layer] })[0];
  return f ? label(f.properties) : '';
}
