// Small DOM helpers shared by the views.
import { PALETTE } from './colours.js';

/** h('div.card', {onclick}, child, ...) -> an element. */
export function h(tag, attrs = {}, ...children) {
  const [name, ...classes] = tag.split('.');
  const el = document.createElement(name);
  if (classes.length) el.className = classes.join(' ');
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'testid') el.dataset.testid = v;
    else if (k === 'text') el.textContent = v;
    else if (k in el && typeof v !== 'string') el[k] = v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  // Children may nest arrays at any depth (e.g. a list of [heading, paragraph] pairs).
  for (const c of children.flat(Infinity)) if (c !== null && c !== undefined && c !== false) el.append(c);
  return el;
}

const banner = () => document.querySelector('[data-testid=banner]');

/**
 * An inline name field in place of `shown` (a title): Enter or leaving the field saves
 * (`save(name or null)` when the name changed; null goes back to the default), Escape
 * cancels; then `after()` puts the page back. A failed save shows a banner naming `what`.
 */
export function renameField(shown, { current, placeholder, label, testid, what, save, after }) {
  const field = h('input.rename', { testid, value: current ?? '', placeholder, maxLength: 80, 'aria-label': label });
  let done = false;
  const finish = async (keep) => {
    if (done) return;
    done = true;
    const name = field.value.trim();
    if (keep && name !== (current ?? '')) {
      try {
        await save(name || null);
      } catch (err) {
        showBanner(`Could not rename ${what}: ${err.message}`);
      }
    }
    after(field);
  };
  field.onkeydown = (e) => {
    if (e.key === 'Enter') finish(true);
    if (e.key === 'Escape') finish(false);
  };
  field.onblur = () => finish(true);
  shown.replaceWith(field);
  field.focus();
  field.select();
  return field;
}

/** A message across the top of the page, with an optional action button. */
export function showBanner(message, { kind = 'error', action, label } = {}) {
  const b = banner();
  b.className = `banner ${kind}`;
  b.replaceChildren(h('span', { text: message }));
  if (action) b.append(h('button', { text: label ?? 'Try again', onclick: () => (hideBanner(), action()) }));
  b.append(h('button.link', { text: 'Dismiss', onclick: hideBanner }));
  b.hidden = false;
}

export function hideBanner() {
  banner().hidden = true;
}

/** A progress bar element with `.set(fraction, text)`. */
export function progressBar(testid) {
  const fill = h('div.fill');
  const label = h('span.label');
  const el = h('div.progress', { testid, role: 'progressbar' }, fill, label);
  el.set = (fraction, text) => {
    if (fraction === null) el.classList.add('indeterminate');
    else {
      el.classList.remove('indeterminate');
      fill.style.width = `${Math.round(Math.max(0, Math.min(1, fraction)) * 100)}%`;
      el.setAttribute('aria-valuenow', String(Math.round(fraction * 100)));
    }
    label.textContent = text ?? '';
  };
  return el;
}

export const bytes = (n) => (n >= 1 << 20 ? `${(n / (1 << 20)).toFixed(1)} MB` : `${Math.ceil(n / 1024)} kB`);

export function when(ms) {
  return new Date(ms).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** The palette's colours in turn (before an object's pixels are known). */
export const colourOf = (i) => PALETTE[i % PALETTE.length];
export const css = ([r, g, b], a = 1) => `rgba(${r},${g},${b},${a})`;

export const STAGES = {
  submitted: 'Queued',
  reconstructing: 'Reconstructing (SAM 3D Objects)',
  meshing: 'Meshing',
  done: 'Done',
  failed: 'Failed',
};
