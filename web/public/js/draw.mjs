// Draw an area on the map: a small click-to-add-vertices tool (no extra
// library). "Draw area" starts; each click adds a vertex; clicking the
// first vertex, double-clicking or "Finish" closes the polygon; Backspace
// removes the last vertex, Escape cancels. Then: "Profile this area" opens
// the printable area profile, "Save area" stores it as a saved area (an
// editor's token, as for the register), "Compare" opens the compare page.
import { authHeaders, token } from './auth.mjs';
import { geometryToken } from './areaprofile.mjs';

let ctx = null; // { map, esc }
let drawing = false;
let vertices = []; // [[lon, lat], ...]
let finished = null; // GeoJSON Polygon once closed
let panel = null;

const EMPTY = { type: 'FeatureCollection', features: [] };

function data() {
  const features = [];
  if (finished) features.push({ type: 'Feature', properties: {}, geometry: finished });
  else if (vertices.length >= 2) features.push({ type: 'Feature', properties: {}, geometry: { type: 'LineString', coordinates: vertices } });
  vertices.forEach((c, i) => features.push({ type: 'Feature', properties: { first: i === 0 }, geometry: { type: 'Point', coordinates: c } }));
  return { type: 'FeatureCollection', features };
}

function redraw() {
  ctx.map.getSource('draw')?.setData(data());
  render();
}

function polygonOf(coords) {
  return { type: 'Polygon', coordinates: [[...coords, coords[0]]] };
}

function finish() {
  if (vertices.length < 3) return;
  finished = polygonOf(vertices);
  drawing = false;
  ctx.map.doubleClickZoom.enable();
  ctx.map.getCanvas().style.cursor = '';
  redraw();
}

function cancel() {
  drawing = false;
  vertices = [];
  finished = null;
  ctx.map.doubleClickZoom.enable();
  redraw();
}

function start() {
  cancel();
  drawing = true;
  ctx.map.doubleClickZoom.disable();
  ctx.map.getCanvas().style.cursor = 'crosshair';
  render();
}

function say(text, error = false) {
  const s = panel.querySelector('#draw-status');
  s.textContent = text;
  s.classList.toggle('error', error);
}

async function save() {
  if (!finished) return;
  if (!token()) {
    say('Sign in with an editor token (Community asset register, below) to save areas.', true);
    return;
  }
  const name = panel.querySelector('#draw-name').value.trim();
  if (!name) {
    say('Give the area a name first.', true);
    panel.querySelector('#draw-name').focus();
    return;
  }
  const r = await fetch('/collections/areas/items', {
    method: 'POST',
    headers: { 'Content-Type': 'application/geo+json', Accept: 'application/geo+json', ...authHeaders() },
    body: JSON.stringify({ type: 'Feature', geometry: finished, properties: { name } }),
  });
  const body = await r.json().catch(() => ({}));
  if (!r.ok) {
    say(`Not saved: ${body.detail ?? `HTTP ${r.status}`}`, true);
    return;
  }
  const id = body.id ?? body.properties?.id;
  panel.querySelector('#draw-saved').innerHTML = `Saved as <a id="draw-saved-link" href="/web/static/area.html?area=${encodeURIComponent(id)}" target="_blank" rel="noopener">${ctx.esc(id)}</a>.`;
  say('');
}

function render() {
  if (!panel) return;
  const closed = Boolean(finished);
  panel.hidden = !drawing && !closed;
  const t = closed ? geometryToken(finished) : null;
  panel.querySelector('#draw-help').textContent = drawing
    ? `${vertices.length} point${vertices.length === 1 ? '' : 's'}: click to add, click the first point or double-click to finish (Backspace undoes, Escape cancels).`
    : 'Area drawn.';
  panel.querySelector('#draw-finish').hidden = !drawing;
  panel.querySelector('#draw-finish').disabled = vertices.length < 3;
  panel.querySelector('#draw-actions').hidden = !closed;
  panel.querySelector('#draw-cancel').textContent = closed ? 'Clear' : 'Cancel';
  if (closed) {
    panel.querySelector('#draw-profile').href = `/web/static/area.html?area=${encodeURIComponent(t)}`;
    panel.querySelector('#draw-compare').href = `/web/static/compare.html?areas=${encodeURIComponent(t)}`;
  }
}

/** The map's click, while drawing: adds a vertex or closes the polygon. Returns whether it took the click. */
export function onMapClick(e) {
  if (!ctx || !drawing) return false;
  const l = e.lngLat ?? ctx.map.unproject([e.point.x, e.point.y]);
  if (vertices.length >= 3) {
    const first = ctx.map.project(vertices[0]);
    if (Math.hypot(first.x - e.point.x, first.y - e.point.y) < 10) {
      finish();
      return true;
    }
  }
  vertices.push([l.lng, l.lat]);
  redraw();
  return true;
}

/** Whether a drawing is under way (the map's other click handlers stand aside). */
export function isDrawing() {
  return drawing;
}

class DrawControl {
  onAdd() {
    const div = document.createElement('div');
    div.className = 'maplibregl-ctrl maplibregl-ctrl-group';
    div.innerHTML = '<button type="button" id="draw-start" title="Draw an area to profile, save or compare" aria-label="Draw an area" style="width:auto;padding:0 .5em">Draw area</button>';
    div.querySelector('button').addEventListener('click', start);
    return div;
  }

  onRemove() {}
}

/** Adds the draw control, its layers and its panel. `c` = { map, maplibregl, esc }. */
export function setupDraw(c) {
  ctx = c;
  const { map } = c;
  map.addSource('draw', { type: 'geojson', data: EMPTY });
  map.addLayer({ id: 'draw-fill', type: 'fill', source: 'draw', filter: ['==', ['geometry-type'], 'Polygon'], paint: { 'fill-color': '#e7298a', 'fill-opacity': 0.2 } });
  map.addLayer({ id: 'draw-line', type: 'line', source: 'draw', filter: ['!=', ['geometry-type'], 'Point'], paint: { 'line-color': '#e7298a', 'line-width': 2.5, 'line-dasharray': [2, 1] } });
  map.addLayer({ id: 'draw-vertex', type: 'circle', source: 'draw', filter: ['==', ['geometry-type'], 'Point'], paint: { 'circle-radius': ['case', ['get', 'first'], 6, 4], 'circle-color': '#fff', 'circle-stroke-color': '#e7298a', 'circle-stroke-width': 2 } });
  map.addControl(new DrawControl(), 'top-right');
  panel = document.createElement('div');
  panel.id = 'draw-panel';
  panel.hidden = true;
  panel.setAttribute('role', 'region');
  panel.setAttribute('aria-label', 'Drawn area');
  panel.style.cssText = 'position:absolute;top:10px;left:50%;transform:translateX(-50%);z-index:3;background:#fff;border:1px solid #888;border-radius:6px;padding:.5em .8em;max-width:28em;font-size:.9em;box-shadow:0 1px 4px rgba(0,0,0,.3)';
  panel.innerHTML = `<p id="draw-help" style="margin:.2em 0"></p>
    <button type="button" id="draw-finish">Finish</button> <button type="button" id="draw-cancel">Cancel</button>
    <div id="draw-actions" hidden>
      <a id="draw-profile" target="_blank" rel="noopener">Profile this area</a> ·
      <a id="draw-compare" target="_blank" rel="noopener">Compare</a>
      <form id="draw-save" style="margin-top:.4em"><label>Name <input id="draw-name" maxlength="200" required></label> <button type="submit">Save area</button></form>
      <p id="draw-saved" style="margin:.2em 0"></p>
    </div>
    <p id="draw-status" role="status" style="margin:.2em 0"></p>`;
  map.getContainer().append(panel);
  panel.querySelector('#draw-finish').addEventListener('click', finish);
  panel.querySelector('#draw-cancel').addEventListener('click', cancel);
  panel.querySelector('#draw-save').addEventListener('submit', (e) => { e.preventDefault(); save().catch((err) => say(`Not saved: ${err.message}`, true)); });
  map.on('dblclick', (e) => {
    if (!drawing) return;
    e.preventDefault();
    // The double-click's two clicks added one vertex too many.
    vertices.pop();
    finish();
  });
  window.addEventListener('keydown', (e) => {
    if (!drawing) return;
    if (e.key === 'Escape') cancel();
    if (e.key === 'Backspace' && !/^(INPUT|TEXTAREA)$/.test(document.activeElement?.tagName ?? '')) {
      vertices.pop();
      redraw();
    }
  });
  render();
}
