// The Gen3D HTTP API (docs/api.md) as the app uses it: bearer token, JSON errors turned
// into messages a person can act on, an upload with progress, authenticated downloads.
import { refresh } from './cognito.js';
import { config } from './config.js';

const TOKEN = 'gen3d.token';
const EMAIL = 'gen3d.email';
const REFRESH = 'gen3d.refresh';

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
  set(token, email, refreshToken) {
    localStorage.setItem(TOKEN, token);
    localStorage.setItem(EMAIL, email);
    if (refreshToken) localStorage.setItem(REFRESH, refreshToken);
  },
  clear() {
    for (const k of [TOKEN, EMAIL, REFRESH]) localStorage.removeItem(k);
  },
  /** With Cognito, a new ID token from the refresh token; false if there is none. */
  async renew() {
    const r = localStorage.getItem(REFRESH);
    if (config.auth !== 'cognito' || !r) return false;
    const token = await refresh(r);
    if (token) localStorage.setItem(TOKEN, token);
    return !!token;
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

/** Whether `url` is the API's (the token goes there only, never to presigned S3 URLs). */
function isApi(url) {
  return new URL(url, location.href).origin === new URL(apiUrl('/'), location.href).origin;
}

function headers(url) {
  const h = {};
  const t = auth.token();
  if (t && isApi(url)) h.Authorization = `Bearer ${t}`;
  return h;
}

/** The API's URL for `path` (API paths are relative to `config.apiBase`). */
export const apiUrl = (path) => (/^https?:/.test(path) ? path : config.apiBase + path);

/** A request to the API; JSON in (`json`) or raw (`body`), the Response back. */
export async function request(path, opts = {}) {
  try {
    return await send(path, opts);
  } catch (e) {
    // An expired Cognito ID token is renewed once from the refresh token.
    if (e.status === 401 && !opts.renewed && (await auth.renew())) return send(path, { ...opts, renewed: true });
    if (e.status === 401 && auth.token() && !path.startsWith('/v1/auth/')) throw expired();
    throw e;
  }
}

async function send(path, { method = 'GET', json, body, contentType, signal, extraHeaders } = {}) {
  const h = { ...headers(apiUrl(path)), ...(extraHeaders || {}) };
  if (json !== undefined) {
    h['Content-Type'] = 'application/json';
    body = JSON.stringify(json);
  } else if (contentType) {
    h['Content-Type'] = contentType;
  }
  let res;
  try {
    res = await fetch(apiUrl(path), { method, headers: h, body, signal });
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new ApiError(0, 'network', NETWORK);
  }
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

/**
 * Where to send `file` for a session: the API's route, or in AWS a presigned S3 URL bound
 * to the file's length and type that works once, with the headers it must carry.
 */
export const uploadTarget = (sessionId, file) =>
  getJson(`/v1/sessions/${sessionId}/upload`, { method: 'POST', json: { bytes: file.size, type: file.type } });

/** PUTs a file to an upload target from `uploadTarget` (the API, or S3 in AWS). */
export function upload(target, file, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    const url = apiUrl(target.url);
    xhr.open(target.method || 'PUT', url);
    const sameOrigin = isApi(url);
    if (sameOrigin && auth.token()) xhr.setRequestHeader('Authorization', `Bearer ${auth.token()}`);
    const headers = { 'content-type': file.type || 'application/octet-stream', ...(target.headers || {}) };
    for (const [name, value] of Object.entries(headers)) xhr.setRequestHeader(name, value);
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
/** Mails a reset code if the address has an account (the same answer either way). */
export const forgotPassword = (email) => getJson('/v1/auth/forgot', { method: 'POST', json: { email } });
/** The new password set with the mailed code: `{token, email, user}` as sign-in gives. */
export const resetPassword = (email, code, password) => getJson('/v1/auth/reset', { method: 'POST', json: { email, code, password } });
export const listSessions = () => getJson('/v1/sessions');
export const createSession = () => getJson('/v1/sessions', { method: 'POST' });
export const getSession = (id) => getJson(`/v1/sessions/${id}`);
export const listObjects = (id) => getJson(`/v1/sessions/${id}/objects`);
export const getObject = (s, o) => getJson(`/v1/sessions/${s}/objects/${o}`);
/** Deletes a photo with every object (204), or one object; 409 while still being made. */
export const deleteSession = (id) => request(`/v1/sessions/${id}`, { method: 'DELETE' });
export const deleteObject = (s, o) => request(`/v1/sessions/${s}/objects/${o}`, { method: 'DELETE' });
/** Names a photo or an object (`null` goes back to the default name). */
export const renameSession = (id, name) => getJson(`/v1/sessions/${id}`, { method: 'PATCH', json: { name } });
export const renameObject = (s, o, name) => getJson(`/v1/sessions/${s}/objects/${o}`, { method: 'PATCH', json: { name } });
/** Makes the photo's scene (every done object in one GLB, placed by its pose). */
export const makeScene = (id) => getJson(`/v1/sessions/${id}/scene`, { method: 'POST' });
/** An object URL for an API image (the token cannot ride on an <img src>); null when it
 * cannot be had (an object made before thumbnails existed, say). */
export async function imageUrl(path, signal) {
  try {
    return URL.createObjectURL(await (await request(path, { signal })).blob());
  } catch {
    return null;
  }
}
/** The click decoder's ONNX file: `config.decoderUrl` (in AWS, CloudFront next to the app,
 * since the file is larger than a Lambda may return), else the API's copy. Fetched
 * without a token. */
export const decoderUrl = () => config.decoderUrl || apiUrl('/v1/models/decoder.onnx');
/** The same decoder split in two for the browser (`config.decoderSplit`: {prepare,
 * click}, paths next to the app), or null where the deployment has no split. */
export function decoderSplit() {
  const split = config.decoderSplit;
  if (!split) return null;
  return { prepare: new URL(split.prepare, location.href).href, click: new URL(split.click, location.href).href };
}
/** Where to fetch a file of an object view: storage's own URL if offered, else the API. */
export const fileUrl = (link) => link.direct_url ?? link.url;
/** Submits a mask as a new object. The submission carries an `Idempotency-Key`, so a
 * retry after a network error or a 5xx (up to three tries) returns the object the first
 * try made instead of making a second one. */
export async function submitMask(id, png, options) {
  // getRandomValues works outside secure contexts too (randomUUID does not).
  const key = Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('');
  const headers = { 'Idempotency-Key': key };
  for (let attempt = 1; ; attempt++) {
    try {
      return await getJson(`/v1/sessions/${id}/objects?${new URLSearchParams(options)}`, { method: 'POST', body: png, contentType: 'image/png', extraHeaders: headers });
    } catch (e) {
      const transient = e.status === 0 || e.status >= 500;
      if (!transient || attempt >= 3) throw e;
      await new Promise((r) => setTimeout(r, 500 * attempt));
    }
  }
}
