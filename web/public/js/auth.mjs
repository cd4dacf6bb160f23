// The register token this browser tab signed in with (session storage),
// shared by every script that talks to the server. A server started with
// `--read-access token` answers data requests only with a valid token, so
// the map, the ward page and MapLibre's tile requests all send it; the
// pages' shell (HTML, scripts) loads without one, so that the sign-in form
// below can be shown.

export const TOKEN_KEY = 'gapmap.register.token';

/** The signed-in token, or null. */
export function token() {
  return window.sessionStorage.getItem(TOKEN_KEY);
}

/** `Authorization` for the signed-in token, or no header. */
export function authHeaders() {
  const t = token();
  return t ? { Authorization: `Bearer ${t}` } : {};
}

/** MapLibre's `transformRequest`: the token goes to this server only. */
export function transformRequest(url) {
  const t = token();
  if (t && new URL(url, window.location.href).origin === window.location.origin) {
    return { url, headers: { Authorization: `Bearer ${t}` } };
  }
  return { url };
}

/**
 * Checks `candidate` with `GET /register/session`: `{ ok, who }` for a valid
 * token, else `{ ok: false, status, detail }`.
 */
export async function checkToken(candidate) {
  const r = await fetch('/register/session', {
    headers: { Accept: 'application/json', Authorization: `Bearer ${candidate}` },
    cache: 'no-store',
  });
  if (r.ok) return { ok: true, who: await r.json() };
  let detail = `HTTP ${r.status}`;
  try {
    const p = await r.json();
    detail = p.detail ?? p.title ?? detail;
  } catch { /* not JSON */ }
  return { ok: false, status: r.status, detail };
}

/**
 * The server needs a token before it shows anything: a modal sign-in form
 * over the page. Resolves once a valid token is stored.
 */
export function signInGate() {
  window.sessionStorage.removeItem(TOKEN_KEY);
  return new Promise((resolve) => {
    const dialog = document.createElement('dialog');
    dialog.id = 'signin-gate';
    dialog.setAttribute('aria-labelledby', 'signin-gate-title');
    dialog.innerHTML = `
      <form method="dialog" autocomplete="off" novalidate>
        <h2 id="signin-gate-title">Sign in to see this atlas</h2>
        <p>This GapMap server shares its data only with signed-in users. Paste the token your administrator gave you (made with <code>gapmap token add</code>).</p>
        <label for="signin-gate-token">Token</label>
        <input id="signin-gate-token" type="password" autocomplete="off" spellcheck="false" placeholder="gm_…" required aria-describedby="signin-gate-error">
        <p id="signin-gate-error" class="field-error" role="alert"></p>
        <div class="buttons"><button type="submit">Sign in</button></div>
      </form>`;
    document.body.append(dialog);
    const input = dialog.querySelector('input');
    const error = dialog.querySelector('#signin-gate-error');
    // Escape must not leave the page half-started behind a closed form.
    dialog.addEventListener('cancel', (e) => e.preventDefault());
    dialog.querySelector('form').addEventListener('submit', async (e) => {
      e.preventDefault();
      const candidate = input.value.trim();
      error.textContent = '';
      if (!candidate) { error.textContent = 'Paste a token first.'; return; }
      let res;
      try {
        res = await checkToken(candidate);
      } catch (ex) {
        error.textContent = `Could not reach the server (${ex.message}).`;
        return;
      }
      if (!res.ok) {
        error.textContent = res.status === 401 ? 'This is not a valid token.' : res.detail;
        input.setAttribute('aria-invalid', 'true');
        return;
      }
      window.sessionStorage.setItem(TOKEN_KEY, candidate);
      dialog.close();
      dialog.remove();
      resolve(res.who);
    });
    dialog.showModal();
    input.focus();
  });
}

/**
 * `fetch(url)` as JSON with the token; when the server asks for one (401)
 * before anything was shown, the sign-in form first, then once more.
 */
export async function getJsonSignedIn(url, init = {}) {
  const go = () => fetch(url, { ...init, headers: { Accept: 'application/json, application/geo+json', ...authHeaders(), ...(init.headers ?? {}) } });
  let r = await go();
  if (r.status === 401) {
    await signInGate();
    r = await go();
  }
  if (!r.ok) {
    const err = new Error(`${url}: HTTP ${r.status}`);
    err.status = r.status;
    throw err;
  }
  return r.json();
}
