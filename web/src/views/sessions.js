// Home: start from a new photo, or go back to any earlier one and its objects.
import { deleteSession, imageUrl, listObjects, listSessions } from '../api.js';
import { sessionName } from '../names.js';
import { STAGES, h, showBanner, when } from '../ui.js';
import { uploader } from './upload.js';

const SESSION_STATES = { created: 'Waiting for the photo', uploaded: 'Uploaded', embedding: 'Preparing', ready: 'Ready', failed: 'Failed' };

export function renderSessions(root) {
  const list = h('ul.sessions', { testid: 'sessions' }, h('li.muted', { text: 'Loading your photos…' }));
  root.replaceChildren(
    uploader({ onSession: (id) => (location.hash = `#/sessions/${id}`) }),
    h('section.card', {}, h('h2', { text: 'My photos' }), list),
  );
  let alive = true;
  (async () => {
    try {
      const { sessions } = await listSessions();
      if (!alive) return;
      if (!sessions.length) return list.replaceChildren(h('li.muted', { text: 'No photos yet: add one above.' }));
      list.replaceChildren(...sessions.map(row));
    } catch (err) {
      list.replaceChildren(h('li.error', { text: `Could not load your photos: ${err.message}` }, h('button', { text: 'Reload', onclick: () => renderSessions(root) })));
    }
  })();
  return () => (alive = false);
}

function row(s) {
  const objects = h('span.objects', { text: '' });
  const thumb = h('a.thumb', { href: `#/sessions/${s.id}`, 'aria-hidden': 'true', tabindex: '-1' });
  if (s.thumbnail_url) {
    imageUrl(s.thumbnail_url).then((url) => {
      if (url) thumb.append(h('img', { src: url, alt: '', testid: 'session-thumb', onload: () => URL.revokeObjectURL(url) }));
    });
  }
  const li = h(
    'li',
    { testid: 'session-row' },
    thumb,
    h('a', { href: `#/sessions/${s.id}`, testid: 'session-name', text: sessionName(s) }),
    h('span.muted', { text: when(s.created_ms) }),
    h(`span.badge.${s.state}`, { text: SESSION_STATES[s.state] ?? s.state }),
    objects,
  );
  if (s.state !== 'uploaded' && s.state !== 'embedding') {
    const name = s.name ? `“${s.name}”` : s.image ? `this photo (${s.image.width}×${s.image.height})` : 'this photo';
    li.append(
      h('button.link.danger', {
        testid: 'delete-session',
        text: 'Delete',
        title: 'Delete the photo, its objects and their files',
        onclick: async () => {
          if (!confirm(`Delete ${name} with all its objects and files? This cannot be undone.`)) return;
          try {
            await deleteSession(s.id);
          } catch (err) {
            if (err.status !== 404) return showBanner(`Could not delete the photo: ${err.message}`);
          }
          const list = li.parentElement;
          li.remove();
          if (list && !list.children.length) list.append(h('li.muted', { text: 'No photos yet: add one above.' }));
        },
      }),
    );
  }
  if (s.state === 'ready') {
    listObjects(s.id)
      .then(({ objects: os }) => {
        objects.textContent = os.length ? os.map((o) => STAGES[o.state] ?? o.state).join(' · ') : 'no objects yet';
      })
      .catch(() => {});
  }
  return li;
}
