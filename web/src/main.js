// The app shell: sign-in state, a hash router, and the banner for signed-out events.
import './style.css';
import { auth } from './api.js';
import { loadConfig } from './config.js';
import { hideBanner, showBanner } from './ui.js';
import { renderSignIn } from './views/signin.js';
import { renderSessions } from './views/sessions.js';
import { renderWorkspace } from './views/workspace.js';
import { renderGuide } from './views/guide.js';

const app = document.getElementById('app');
let teardown = null;

function header() {
  const signedIn = !!auth.token();
  document.querySelector('[data-testid=who]').textContent = signedIn ? auth.email() : '';
  const out = document.querySelector('[data-testid=sign-out]');
  out.hidden = !signedIn;
  out.onclick = () => {
    auth.clear();
    location.hash = '#/signin';
  };
  const route = location.hash.split('/')[1] || '';
  for (const a of document.querySelectorAll('[data-nav]')) a.classList.toggle('active', a.dataset.nav === (route === 'guide' ? 'guide' : 'sessions'));
}

async function route() {
  teardown?.();
  teardown = null;
  // #/sessions/{id}[/objects/{object}] (the links in Gen3D's mails), #/reset?email=…
  // (the reset mail's), #/guide, #/signin, #/
  const [, page = '', id, sub, object] = location.hash.split('/');
  header();
  if (page === 'guide') return (teardown = renderGuide(app));
  const [name, query = ''] = page.split('?');
  if (name === 'reset') return (teardown = renderSignIn(app, { mode: 'reset', email: new URLSearchParams(query).get('email') }));
  if (!auth.token()) {
    if (page === 'sessions' || page === 's') {
      // Remember the link; the hash changes to #/signin so signing in can change it back.
      sessionStorage.setItem('gen3d.return', location.hash);
      location.replace('#/signin');
      return;
    }
    return (teardown = renderSignIn(app));
  }
  if ((page === 'sessions' || page === 's') && id) return (teardown = renderWorkspace(app, id, { object: sub === 'objects' ? object : null }));
  teardown = renderSessions(app);
}

// A message that must outlive the navigation it causes (hashchange clears the banner).
let carried = null;
window.addEventListener('hashchange', () => {
  hideBanner();
  route();
  if (carried) showBanner(carried, { kind: 'warn' });
  carried = null;
});
window.addEventListener('gen3d:signed-out', (e) => {
  if (location.hash === '#/signin') {
    route();
    showBanner(e.detail, { kind: 'warn' });
  } else {
    carried = e.detail;
    location.hash = '#/signin';
  }
});
window.addEventListener('unhandledrejection', (e) => {
  if (e.reason?.name === 'AbortError') return;
  showBanner(e.reason?.message ?? String(e.reason));
});
loadConfig().then(route);
