// The Gen3D HTTP API (docs/api.md) as the app uses it: bearer token, JSON errors turned
// into messages a person can act on, an upload with progress, authenticated downloads.

const TOKEN = 'gen3d.token';
const EMAIL = 'gen3d.email';

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export const auth = {
  token: () => localStorage.getItem(TOKEN),
  email: () => localStorage.getItem(EMAIL),
  set(token, email) {
    localStorage.setItem(TOKEN, token);
    localStorage.setItem(EMAIL, email);
  },
  clear() {
    localStorage.removeItem(TOKEN);
    localStorage.removeItem(EMAIL);
  },
};

const NETWORK = 'Cannot reach the Gen3D server. Check your connection, then try again.';

function expired() {
  auth.clear();
  window.dispatchEvent(new CustomEvent('gen3d:signed-out', { detail: 'Your sign-in has expired. Please sign in again.' }));
  return new ApiError(401, 'unauthorized', 'Your sign-in has expired. Please sign in again.');
}

async function errorOf(res) {
  let code = 'http_' + res.status;
  let message = `The server answered ${res.status} ${res.statusText}.`;
  try {
    const body = await res.json();
    if (body?.error) ({ code, message } = body.error);
  } catch {
    /* not JSON: keep the status line */
  }
  return new ApiError(res.status, code, message);
}

function headers(extra = {}) {
  const h = { ...extra };
  const t = auth.token();
  if (t) h.Authorization = `Bearer ${t}`;
  return h;
}

/** A request to the API; JSON in (`json`) or raw (`body`), the Response back. */
export async function request(path, { method = 'GET', json, body, contentType, signal } = {}) {
  const h = headers();
  if (json !== undefined) {
    h['Content-Type'] = 'application/json';
    body = JSON.stringify(json);
  } else if (contentType) {
    h['Content-Type'] = contentType;
  }
  let res;
  try {
    res = await fetch(path, { method, headers: h, body, signal });
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new ApiError(0, 'network', NETWORK);
  }
  if (res.status === 401 && auth.token() && !path.startsWith('/v1/auth/')) throw expired();
  if (!res.ok) throw await errorOf(res);
  return res;
}

export async function getJson(path, opts) {
  return (await request(path, opts)).json();
}

/** Reads a response body with progress callbacks `(loaded, total)`. */
export async function readWithProgress(res, onProgress) {
  const total = Number(res.headers.get('content-length')) || 0;
  const reader = res.body.getReader();
  const chunks = [];
  let loaded = 0;
  for (;;) {
    let step;
    try {
      step = await reader.read();
    } catch {
      throw new ApiError(0, 'network', 'The download was interrupted. ' + NETWORK);
    }
    if (step.done) break;
    chunks.push(step.value);
    loaded += step.value.byteLength;
    onProgress?.(loaded, total);
  }
  const out = new Uint8Array(loaded);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out.buffer;
}

/** PUTs a file to the session's upload URL (the API, or a presigned S3 URL in AWS). */
export function upload(target, file, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open(target.method || 'PUT', target.url);
    const sameOrigin = new URL(target.url, location.href).origin === location.origin;
    if (sameOrigin && auth.token()) xhr.setRequestHeader('Authorization', `Bearer ${auth.token()}`);
    xhr.setRequestHeader('Content-Type', file.type || 'application/octet-stream');
    xhr.upload.onprogress = (e) => e.lengthComputable && onProgress(e.loaded, e.total);
    xhr.onerror = () => reject(new ApiError(0, 'network', 'The upload failed. ' + NETWORK));
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) {
        try {
          resolve(xhr.responseText ? JSON.parse(xhr.responseText) : null);
        } catch {
          resolve(null);
        }
        return;
      }
      if (xhr.status === 401 && sameOrigin) return reject(expired());
      let err = { code: 'http_' + xhr.status, message: `The upload was refused (${xhr.status}).` };
      try {
        err = JSON.parse(xhr.responseText).error ?? err;
      } catch {
        /* keep the status */
      }
      reject(new ApiError(xhr.status, err.code, err.message));
    };
    xhr.send(file);
  });
}

/** Downloads an API file as the browser's download (the token cannot ride on a link). */
export async function download(url, name) {
  const blob = await (await request(url)).blob();
  const href = URL.createObjectURL(blob);
  const a = Object.assign(document.createElement('a'), { href, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(href), 10_000);
}

export const signIn = (kind, email, password) => getJson(`/v1/auth/${kind}`, { method: 'POST', json: { email, password } });
export const listSessions = () => getJson('/v1/sessions');
export const createSession = () => getJson('/v1/sessions', { method: 'POST' });
export const getSession = (id) => getJson(`/v1/sessions/${id}`);
export const listObjects = (id) => getJson(`/v1/sessions/${id}/objects`);
export const submitMask = (id, png, options) =>
  getJson(`/v1/sessions/${id}/objects?${new URLSearchParams(options)}`, { method: 'POST', body: png, contentType: 'image/png' });
