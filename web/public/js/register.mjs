// The community asset register in the map: sign in with a token, the
// register's entries as their own layer, adding an entry (a click on the map
// or a postcode), and an entry's popup to edit, close, delete it or read its
// history. Writes go to the server's OGC API – Features Part 4 endpoints
// (/collections/register/items) with the bearer token; the server checks
// everything, and its problem+json details are shown beside the field they
// name.
//
// The token lives in sessionStorage only: never localStorage, a cookie or
// the URL (the sign-in input has no name, so even a form submitted without
// this script sends nothing).

import { TOKEN_KEY, token, authHeaders } from './auth.mjs';

const ITEMS = '/collections/register/items';

/** Writable properties, in form order, with their labels. */
const FIELDS = [
  ['name', 'Name'],
  ['category', 'Category'],
  ['address', 'Address'],
  ['postcode', 'Postcode'],
  ['organisation', 'Organisation'],
  ['contact', 'Contact'],
  ['opening_hours', 'Opening hours'],
  ['capacity', 'Capacity'],
  ['valid_from', 'Open from'],
  ['valid_to', 'Open until'],
  ['description', 'Description'],
];
const LABEL = Object.fromEntries(FIELDS);
/** Properties the server keeps about an entry that are not its fields. */
const BOOKKEEPING = new Set(['id', 'version', 'created_by', 'created_at', 'updated_by', 'updated_at', 'lon', 'lat']);

let ctx; // { map, maplibregl, meta, esc, panel, refreshData, visible }
let session = null; // { name, role } of the signed-in token
let current = null; // the entry whose popup is open: { fid, feature, etag }
let popup = null;
let form = null; // the open add/edit form: { mode, fid, etag, original, point, picking }
let marker = null;
let entries = { type: 'FeatureCollection', features: [] };

const $ = (sel) => document.querySelector(sel);


function canWrite() {
  return session !== null && (session.role === 'editor' || session.role === 'admin');
}

/** Today in the browser's calendar, YYYY-MM-DD. */
function today() {
  const d = new Date();
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}

function when(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return ctx.esc(iso);
  return `<time datetime="${ctx.esc(iso)}">${ctx.esc(d.toLocaleString('en-GB', { dateStyle: 'medium', timeStyle: 'short' }))}</time>`;
}

/** The problem+json of a failed response, or a stand-in. */
async function problem(r) {
  const text = await r.text();
  try {
    const p = JSON.parse(text);
    if (p && typeof p === 'object') return { ...p, detail: p.detail ?? p.title ?? `HTTP ${r.status}` };
  } catch { /* not JSON */ }
  return { status: r.status, detail: text.slice(0, 300) || `HTTP ${r.status}` };
}

function status(text, isError = false) {
  const el = $('#register-status');
  el.textContent = text;
  el.classList.toggle('field-error', isError);
}

function categoryLabel(id) {
  return ctx.meta.categories.find((c) => c.id === id)?.label ?? id;
}

// ---------------------------------------------------------------- session

async function checkSession(candidate) {
  const r = await fetch('/register/session', {
    headers: { Accept: 'application/json', Authorization: `Bearer ${candidate}` },
    cache: 'no-store',
  });
  if (r.ok) return { ok: true, who: await r.json() };
  return { ok: false, status: r.status, problem: await problem(r) };
}

function renderSession() {
  const signedIn = session !== null;
  $('#register-signin').hidden = signedIn;
  $('#register-signed-in').hidden = !signedIn;
  if (signedIn) {
    $('#register-who').textContent = session.name;
    $('#register-role').textContent = `(${session.role})`;
    $('#register-add').hidden = !canWrite();
  }
  if (current && popup?.isOpen()) renderPopup();
}

async function signIn(e) {
  e.preventDefault();
  const input = $('#register-token');
  const candidate = input.value.trim();
  const err = $('#register-signin-error');
  err.textContent = '';
  if (!candidate) { err.textContent = 'Paste the token that `gapmap token add` printed.'; return; }
  let res;
  try {
    res = await checkSession(candidate);
  } catch (ex) {
    err.textContent = `Could not reach the server (${ex.message}).`;
    return;
  }
  if (!res.ok) {
    err.textContent = res.status === 401 ? 'This is not a valid register token.' : res.problem.detail;
    input.setAttribute('aria-invalid', 'true');
    return;
  }
  input.value = '';
  input.removeAttribute('aria-invalid');
  window.sessionStorage.setItem(TOKEN_KEY, candidate);
  session = res.who;
  renderSession();
  status(canWrite() ? `Signed in as ${session.name}: click an entry to change it, or add one.` : `Signed in as ${session.name} (${session.role}): this token can read but not change the register.`);
}

function signOut() {
  window.sessionStorage.removeItem(TOKEN_KEY);
  session = null;
  closeForm();
  renderSession();
  status('Signed out: the token is no longer kept in this tab.');
}

/** A 401/403 on a write: the token was revoked or is no longer valid. */
function lostSession(p) {
  window.sessionStorage.removeItem(TOKEN_KEY);
  session = null;
  renderSession();
  status(`Signed out: ${p.detail}`, true);
}

// ---------------------------------------------------------------- layer

/** Every entry of the register (open and closed), following `next` links. */
async function loadEntries() {
  const features = [];
  let url = `${ITEMS}?limit=10000`;
  for (let page = 0; url && page < 100; page += 1) {
    // no-cache: the server marks items cacheable for an hour, but they change.
    const r = await fetch(url, { headers: { Accept: 'application/geo+json', ...authHeaders() }, cache: 'no-cache' });
    if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
    const fc = await r.json();
    features.push(...fc.features);
    url = fc.links?.find((l) => l.rel === 'next')?.href ?? null;
  }
  entries = { type: 'FeatureCollection', features };
  ctx.map.getSource('register').setData(entries);
  window.gapmap.data.register = entries;
  return entries;
}

function applyVisibility() {
  ctx.map.setLayoutProperty('register-points', 'visibility', ctx.visible() ? 'visible' : 'none');
}

// ---------------------------------------------------------------- popup

async function fetchEntry(fid) {
  const r = await fetch(`${ITEMS}/${encodeURIComponent(fid)}`, { headers: { Accept: 'application/geo+json', ...authHeaders() }, cache: 'no-cache' });
  if (!r.ok) return { ok: false, status: r.status, problem: await problem(r) };
  return { ok: true, feature: await r.json(), etag: r.headers.get('ETag') };
}

function sourceNote(p) {
  const src = ctx.meta.sources.find((s) => s.id === 'register');
  const title = src?.title ?? 'Community asset register';
  const licence = p.licence ?? src?.licence ?? '';
  return `Source: ${ctx.esc(p.source ?? 'register')} — ${ctx.esc(title)}${licence ? `, ${ctx.esc(licence)}` : ''}. Version ${ctx.esc(p.version)}, last changed ${when(p.updated_at)} by ${ctx.esc(p.updated_by)}.`;
}

function renderPopup(message = '') {
  const { esc } = ctx;
  const p = current.feature.properties;
  const open = p.open_today;
  const dates = p.valid_from || p.valid_to ? `${esc(p.valid_from ?? '…')} to ${esc(p.valid_to ?? '…')}` : 'no dates';
  const row = (label, v) => (v === null || v === undefined || v === '' ? '' : `<dt>${label}</dt><dd>${esc(v)}</dd>`);
  const el = document.createElement('div');
  el.className = 'register-popup';
  el.dataset.fid = current.fid;
  el.innerHTML = `<strong class="reg-name">${esc(p.name)}</strong> <span class="badge ${open ? 'open' : 'closed'}">${open ? 'open today' : 'closed today'}</span>
    <br>${esc(p.category_label ?? categoryLabel(p.category))}
    <dl>${row('Address', [p.address, p.postcode].filter(Boolean).join(', '))}${row('Organisation', p.organisation)}${row('Contact', p.contact)}
    ${row('Opening hours', p.opening_hours)}${row('Capacity', p.capacity)}<dt>Dates</dt><dd>${dates}</dd>${row('About', p.description)}</dl>
    <p class="hint">${sourceNote(p)}</p>
    ${message ? `<p class="field-error" role="alert">${esc(message)}</p>` : ''}
    <div class="buttons">
      <button type="button" data-act="history">History</button>
      ${canWrite() ? '<button type="button" data-act="edit">Edit</button><button type="button" data-act="close">Close…</button><button type="button" data-act="delete">Delete…</button>' : ''}
    </div>
    <div class="confirm" data-confirm="close" hidden>
      <label>Last day open <input type="date" id="register-close-date" value="${today()}"></label>
      <div class="buttons"><button type="button" data-act="close-yes">Close it</button><button type="button" data-act="cancel">Cancel</button></div>
      <p class="hint">The entry stays in the register and its history, marked closed after that day.</p>
    </div>
    <div class="confirm" data-confirm="delete" hidden>
      <p>Delete this entry? Its history is kept.</p>
      <div class="buttons"><button type="button" data-act="delete-yes">Yes, delete</button><button type="button" data-act="cancel">Cancel</button></div>
    </div>
    ${!session ? '<p class="hint">Sign in with a register token (left) to change it.</p>' : ''}`;
  const show = (which) => { for (const c of el.querySelectorAll('[data-confirm]')) c.hidden = c.dataset.confirm !== which; };
  el.addEventListener('click', (e) => {
    const act = e.target.closest('button')?.dataset.act;
    if (act === 'history') showHistory(current.fid);
    if (act === 'edit') openForm('edit', current.feature, current.etag);
    if (act === 'close') show('close');
    if (act === 'delete') show('delete');
    if (act === 'cancel') show(null);
    if (act === 'close-yes') closeEntry(el.querySelector('#register-close-date').value);
    if (act === 'delete-yes') deleteEntry();
  });
  popup.setDOMContent(el);
}

async function openPopup(fid, lngLat) {
  popup?.remove();
  popup = new ctx.maplibregl.Popup({ closeButton: true, maxWidth: '300px', className: 'register-popup-wrap' })
    .setLngLat(lngLat).setHTML('Loading…').addTo(ctx.map);
  const res = await fetchEntry(fid);
  if (!res.ok) {
    popup.setHTML(`<p class="field-error">${ctx.esc(res.problem.detail)}</p>`);
    return;
  }
  current = { fid, feature: res.feature, etag: res.etag };
  popup.setLngLat(res.feature.geometry.coordinates);
  renderPopup();
}

/** Runs a write on the open entry with its ETag; handles 412 by reloading. */
async function writeCurrent(method, body, done) {
  status('Saving…');
  const headers = { Accept: 'application/geo+json', ...authHeaders() };
  if (current.etag) headers['If-Match'] = current.etag;
  if (body) headers['Content-Type'] = 'application/merge-patch+json';
  const r = await fetch(`${ITEMS}/${encodeURIComponent(current.fid)}`, { method, headers, body: body ? JSON.stringify(body) : undefined });
  if (r.ok) {
    await done(r);
    return;
  }
  const p = await problem(r);
  if (r.status === 412) {
    const fresh = await fetchEntry(current.fid);
    if (fresh.ok) {
      current = { fid: current.fid, feature: fresh.feature, etag: fresh.etag };
      renderPopup(`Someone else changed this entry since you opened it (now version ${fresh.feature.properties.version}, by ${fresh.feature.properties.updated_by}). It has been reloaded: check it and try again.`);
    }
    status('Not saved: someone else changed the entry first.', true);
    await afterWrite(null, { quiet: true });
    return;
  }
  status(`Not saved: ${p.detail}`, true);
  if (r.status === 401 || (r.status === 403 && /revoked/.test(p.detail))) lostSession(p);
  if (r.status === 404) await afterWrite(null, { quiet: true });
  renderPopup(p.detail);
}

function closeEntry(date) {
  return writeCurrent('PATCH', { properties: { valid_to: date || today() } }, async (r) => {
    const feature = await r.json();
    current = { fid: current.fid, feature, etag: r.headers.get('ETag') };
    await afterWrite(feature);
    status(`Closed "${feature.properties.name}": last day open ${feature.properties.valid_to}.`);
  });
}

function deleteEntry() {
  const name = current.feature.properties.name;
  return writeCurrent('DELETE', null, async () => {
    popup?.remove();
    await afterWrite(null);
    status(`Deleted "${name}". Its history is kept.`);
  });
}

// ---------------------------------------------------------------- history

function describe(value, field) {
  if (value === null || value === undefined || value === '') return '—';
  if (field === 'category') return `${categoryLabel(value)} (${value})`;
  return String(value);
}

/** What a change did, as list items. */
function changeLines(c) {
  const { esc } = ctx;
  const before = c.before ?? {};
  const after = c.after ?? {};
  if (!c.after) return ['<li>entry deleted</li>'];
  const lines = [];
  if (before.lon !== after.lon || before.lat !== after.lat) {
    lines.push(`<li data-field="location">location: ${c.before ? `${Number(before.lat).toFixed(5)}, ${Number(before.lon).toFixed(5)} → ` : ''}${Number(after.lat).toFixed(5)}, ${Number(after.lon).toFixed(5)}</li>`);
  }
  const keys = [...new Set([...FIELDS.map(([k]) => k), ...Object.keys(after)])].filter((k) => !BOOKKEEPING.has(k));
  for (const k of keys) {
    const a = before[k] ?? null;
    const b = after[k] ?? null;
    if (a === b) continue;
    const label = LABEL[k] ?? k;
    lines.push(c.before
      ? `<li data-field="${esc(k)}">${esc(label)}: ${esc(describe(a, k))} → ${esc(describe(b, k))}</li>`
      : `<li data-field="${esc(k)}">${esc(label)}: ${esc(describe(b, k))}</li>`);
  }
  return lines.length ? lines : ['<li>no field changed</li>'];
}

const ACTION = { create: 'Created', replace: 'Replaced', update: 'Changed', delete: 'Deleted', import: 'Imported' };

async function showHistory(fid) {
  const { esc } = ctx;
  const body = ctx.panel();
  body.innerHTML = `<h2 id="panel-title">History <span class="muted">${esc(fid)}</span></h2><p>Loading…</p>`;
  const r = await fetch(`${ITEMS}/${encodeURIComponent(fid)}/history`, { headers: { Accept: 'application/json', ...authHeaders() }, cache: 'no-store' });
  if (!r.ok) {
    body.innerHTML = `<h2 id="panel-title">History <span class="muted">${esc(fid)}</span></h2><p class="error">${esc((await problem(r)).detail)}</p>`;
    return;
  }
  const h = await r.json();
  const last = [...h.changes].reverse().find((c) => c.after)?.after ?? {};
  const items = [...h.changes].reverse().map((c) => `<li data-seq="${esc(c.seq)}" data-action="${esc(c.action)}">
      <strong>${esc(ACTION[c.action] ?? c.action)}</strong> by <span class="actor">${esc(c.actor)}</span>, ${when(c.at)}${c.version ? ` <span class="muted">(version ${esc(c.version)})</span>` : ''}
      <ul>${changeLines(c).join('')}</ul></li>`).join('');
  body.innerHTML = `<h2 id="panel-title">History: ${esc(last.name ?? fid)} <span class="muted">${esc(fid)}</span></h2>
    ${h.deleted ? '<p class="muted">This entry has been deleted.</p>' : ''}
    <p class="hint">Every change, newest first: who made it, when, and what changed. Times in your time zone.</p>
    <ol class="register-history" id="register-history" reversed>${items}</ol>`;
}

// ---------------------------------------------------------------- form

function categoryOptions(selected) {
  const { esc } = ctx;
  const own = ctx.meta.categories.filter((c) => c.sources.length === 1 && c.sources[0] === 'register');
  const atlas = ctx.meta.categories.filter((c) => !own.includes(c));
  const opts = (cs) => cs.map((c) => `<option value="${esc(c.id)}"${c.id === selected ? ' selected' : ''}>${esc(c.label)}</option>`).join('');
  return `<option value=""${selected ? '' : ' selected'}>Choose a category…</option>
    <optgroup label="Register categories">${opts(own)}</optgroup><optgroup label="Also in national sources">${opts(atlas)}</optgroup>`;
}

function input(field, value, extra = '') {
  const { esc } = ctx;
  const v = value === null || value === undefined ? '' : String(value);
  const id = `rf-${field}`;
  const control = field === 'category'
    ? `<select id="${id}" data-field="${field}" aria-describedby="err-${field}">${categoryOptions(v)}</select>`
    : field === 'description'
      ? `<textarea id="${id}" data-field="${field}" rows="3" aria-describedby="err-${field}">${esc(v)}</textarea>`
      : `<input id="${id}" data-field="${field}" value="${esc(v)}" aria-describedby="err-${field}" ${extra}>`;
  return `<label for="${id}">${esc(LABEL[field])}${field === 'name' || field === 'category' ? ' *' : ''}</label>${control}<p class="field-error" id="err-${field}"></p>`;
}

function renderWhere() {
  const el = $('#register-where');
  if (!el) return;
  const pt = form.point;
  const where = pt ? `<span id="register-point">${pt[1].toFixed(5)}, ${pt[0].toFixed(5)}</span> (latitude, longitude)` : '<em>not placed yet</em>';
  const how = form.picking
    ? (form.mode === 'add' ? 'Click the map to place it, or leave it unplaced and give its postcode: the server places it there.' : 'Click the map where it is now.')
    : '';
  el.innerHTML = `<strong>Location:</strong> ${where}<br><span class="hint">${how}</span>
    <div class="buttons">${form.mode === 'edit' && !form.picking ? '<button type="button" data-act="move">Move it…</button>' : ''}
    ${form.mode === 'add' && pt ? '<button type="button" data-act="unplace">Place by postcode instead</button>' : ''}</div>`;
}

/** Sets the form's point: a click's, to 6 decimals (about 0.1 m), or `exact`. */
function setPoint(pt, { exact = false } = {}) {
  form.point = exact ? [pt[0], pt[1]] : [Number(pt[0].toFixed(6)), Number(pt[1].toFixed(6))];
  if (form.mode === 'edit') form.picking = false;
  if (!marker) {
    marker = new ctx.maplibregl.Marker({ color: '#d55e00', draggable: true }).setLngLat(form.point).addTo(ctx.map);
    marker.on('dragend', () => { const l = marker.getLngLat(); setPoint([l.lng, l.lat]); });
  } else marker.setLngLat(form.point);
  renderWhere();
  fieldError('geometry', '');
}

function closeForm() {
  form = null;
  marker?.remove();
  marker = null;
  ctx.map.getCanvas().style.cursor = '';
}

function fieldError(field, text) {
  const el = document.getElementById(`err-${field}`) ?? document.getElementById('err-form');
  if (!el) return;
  el.textContent = text;
  document.getElementById(`rf-${field}`)?.setAttribute('aria-invalid', text ? 'true' : 'false');
}

function clearErrors() {
  for (const el of document.querySelectorAll('#register-form .field-error')) el.textContent = '';
  for (const el of document.querySelectorAll('#register-form [aria-invalid]')) el.setAttribute('aria-invalid', 'false');
}

function openForm(mode, feature = null, etag = null, notice = '') {
  const { esc } = ctx;
  closeForm();
  popup?.remove();
  const p = feature?.properties ?? {};
  form = { mode, fid: feature?.id ?? null, etag, original: p, originalPoint: feature?.geometry?.coordinates ?? null, point: null, picking: mode === 'add' };
  const body = ctx.panel();
  body.innerHTML = `<h2 id="panel-title">${mode === 'add' ? 'New register entry' : `Edit ${esc(p.name)} <span class="muted">${esc(form.fid)}</span>`}</h2>
    ${notice ? `<p class="field-error" role="alert" id="register-notice">${esc(notice)}</p>` : ''}
    <form id="register-form" class="register-form" novalidate>
      <div id="register-where" class="where"></div>
      <p class="field-error" id="err-geometry"></p>
      ${input('name', p.name, 'autocomplete="off"')}
      ${input('category', p.category)}
      ${input('address', p.address)}
      ${input('postcode', p.postcode, 'autocomplete="off"')}
      ${input('organisation', p.organisation)}
      ${input('contact', p.contact)}
      ${input('opening_hours', p.opening_hours, 'placeholder="Mo-Fr 09:00-17:00" aria-label="Opening hours (OpenStreetMap opening_hours syntax)"')}
      <p class="hint">OpenStreetMap syntax, e.g. <code>Mo-Fr 09:00-17:00; Sa 10:00-12:00</code>.</p>
      ${input('capacity', p.capacity, 'inputmode="numeric"')}
      ${input('valid_from', p.valid_from, 'type="date"')}
      ${input('valid_to', p.valid_to, 'type="date"')}
      ${input('description', p.description)}
      <p class="field-error" id="err-form"></p>
      <div class="buttons"><button type="submit">Save</button><button type="button" data-act="cancel">Cancel</button></div>
    </form>`;
  if (feature) setPoint(feature.geometry.coordinates, { exact: true });
  renderWhere();
  const f = $('#register-form');
  f.addEventListener('click', (e) => {
    const act = e.target.closest('button')?.dataset.act;
    if (act === 'move') { form.picking = true; renderWhere(); }
    if (act === 'unplace') { form.point = null; marker?.remove(); marker = null; renderWhere(); }
    if (act === 'cancel') { closeForm(); body.innerHTML = '<h2>Select an area</h2><p>Nothing was saved.</p>'; }
  });
  f.addEventListener('submit', (e) => { e.preventDefault(); save(); });
  $('#rf-name').focus();
}

/** The form's values: null for empty fields; capacity a number when it is one. */
function values() {
  const out = {};
  for (const [k] of FIELDS) {
    const el = document.getElementById(`rf-${k}`);
    const v = el.value.trim();
    out[k] = v === '' ? null : v;
  }
  if (out.capacity !== null && /^\d+$/.test(out.capacity)) out.capacity = Number(out.capacity);
  return out;
}

async function save() {
  clearErrors();
  status('Saving…');
  const v = values();
  const headers = { Accept: 'application/geo+json', ...authHeaders() };
  let r;
  if (form.mode === 'add') {
    const properties = Object.fromEntries(Object.entries(v).filter(([, x]) => x !== null));
    const geometry = form.point ? { type: 'Point', coordinates: form.point } : null;
    r = await fetch(ITEMS, {
      method: 'POST',
      headers: { ...headers, 'Content-Type': 'application/geo+json' },
      body: JSON.stringify({ type: 'Feature', geometry, properties }),
    });
  } else {
    const changed = Object.fromEntries(Object.entries(v).filter(([k, x]) => x !== (form.original[k] ?? null)));
    const moved = form.point && (form.point[0] !== form.originalPoint?.[0] || form.point[1] !== form.originalPoint?.[1]);
    const patch = { properties: changed };
    if (moved) patch.geometry = { type: 'Point', coordinates: form.point };
    if (!Object.keys(changed).length && !moved) { fieldError('form', 'Nothing has changed.'); return; }
    if (form.etag) headers['If-Match'] = form.etag;
    r = await fetch(`${ITEMS}/${encodeURIComponent(form.fid)}`, {
      method: 'PATCH',
      headers: { ...headers, 'Content-Type': 'application/merge-patch+json' },
      body: JSON.stringify(patch),
    });
  }
  if (r.ok) {
    const feature = await r.json();
    const etag = r.headers.get('ETag');
    const verb = form.mode === 'add' ? 'Added' : 'Saved';
    closeForm();
    current = { fid: feature.id, feature, etag };
    await afterWrite(feature);
    // Last: once this shows, the layer, the assets and the gap view show the change.
    status(`${verb} "${feature.properties.name}" (${feature.id}, version ${feature.properties.version}).`);
    return;
  }
  const p = await problem(r);
  status('Not saved: see the form.', true);
  if (r.status === 400 || r.status === 415 || r.status === 422) {
    fieldError(p.parameter ?? 'form', p.detail);
    document.getElementById(`rf-${p.parameter}`)?.focus();
    return;
  }
  if (r.status === 412) {
    const fresh = await fetchEntry(form.fid);
    if (fresh.ok) {
      const q = fresh.feature.properties;
      openForm('edit', fresh.feature, fresh.etag, `Not saved: someone else changed this entry since you opened it (now version ${q.version}, by ${q.updated_by}). The form now shows their version: make your change again and save.`);
    } else fieldError('form', `Not saved: ${fresh.problem.detail}`);
    await afterWrite(null, { quiet: true });
    return;
  }
  if (r.status === 401 || (r.status === 403 && /revoked/.test(p.detail))) lostSession(p);
  fieldError('form', `Not saved: ${p.detail}`);
}

/** After a write: the register layer, the assets and the gap view follow. */
async function afterWrite(feature, { quiet = false } = {}) {
  await Promise.all([loadEntries(), ctx.refreshData({ keepPanel: quiet })]);
  if (feature && !quiet) {
    if (!ctx.gapShown()) await showHistory(feature.id);
    await openPopup(feature.id, feature.geometry.coordinates);
  }
}

// ---------------------------------------------------------------- wiring

/**
 * Handles a map click for the register: places the point of the open form,
 * or opens the popup of a clicked entry. Returns whether it took the click.
 */
export function onMapClick(e) {
  if (!ctx) return false;
  if (form?.picking) {
    const l = e.lngLat ?? ctx.map.unproject([e.point.x, e.point.y]);
    setPoint([l.lng, l.lat]);
    return true;
  }
  if (!ctx.visible() || !ctx.map.getLayer('register-points')) return false;
  const f = ctx.map.queryRenderedFeatures([e.point.x, e.point.y], { layers: ['register-points'] })[0];
  if (!f) return false;
  openPopup(f.properties.id, f.geometry.coordinates);
  return true;
}

/** Whether the register layer is under the pointer (for the cursor). */
export function hovering(point) {
  return Boolean(ctx && (form?.picking || (ctx.visible() && ctx.map.queryRenderedFeatures([point.x, point.y], { layers: ['register-points'] }).length)));
}

/** Adds the register layer and the sign-in; `c` gives the map and the app's hooks. */
export async function setupRegister(c) {
  ctx = c;
  const { map } = ctx;
  const src = ctx.meta.sources.find((s) => s.id === 'register');
  if (!src) {
    $('#register-section').hidden = true;
    return;
  }
  $('#register-source').textContent = `Source: register — ${src.title} (${src.publisher}), ${src.licence}; ${src.vintage}. Coverage: ${src.coverage.description}.`;
  map.addSource('register', { type: 'geojson', data: entries, attribution: `${src.attribution}` });
  map.addLayer({
    id: 'register-points',
    type: 'circle',
    source: 'register',
    paint: {
      'circle-radius': ['interpolate', ['linear'], ['zoom'], 8, 4, 14, 8],
      // Filled vs hollow, black and white: apart from the viridis deciles,
      // the Okabe–Ito asset symbols and the pink gap outlines.
      'circle-color': ['case', ['==', ['get', 'open_today'], true], '#111111', '#ffffff'],
      'circle-stroke-color': ['case', ['==', ['get', 'open_today'], true], '#ffffff', '#111111'],
      'circle-stroke-width': 2.5,
    },
  });
  applyVisibility();
  $('#show-register').addEventListener('change', () => { ctx.setVisible($('#show-register').checked); applyVisibility(); });
  $('#show-register').checked = ctx.visible();
  $('#register-signin').addEventListener('submit', signIn);
  $('#register-signout').addEventListener('click', signOut);
  $('#register-add').addEventListener('click', () => openForm('add'));
  try {
    await loadEntries();
  } catch (e) {
    status(`Could not load the register (${e.message}).`, true);
  }
  const saved = token();
  if (saved) {
    try {
      const res = await checkSession(saved);
      if (res.ok) session = res.who;
      else if (res.status === 401 || res.status === 403) {
        window.sessionStorage.removeItem(TOKEN_KEY);
        status(`Signed out: ${res.problem.detail}`, true);
      }
    } catch { /* offline: keep the token, try again on the next write */ }
  }
  renderSession();
}
