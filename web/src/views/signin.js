// Sign in or create an account (the local token scheme; Cognito's hosted UI in AWS).
import { auth, signIn } from '../api.js';
import { h } from '../ui.js';

export function renderSignIn(root) {
  let mode = 'login';
  const email = h('input', { type: 'email', name: 'email', required: true, autocomplete: 'username', testid: 'email' });
  const password = h('input', { type: 'password', name: 'password', required: true, minlength: '8', autocomplete: 'current-password', testid: 'password' });
  const error = h('p.error', { testid: 'signin-error', role: 'alert' });
  const submit = h('button.primary', { type: 'submit', testid: 'signin-submit', text: 'Sign in' });
  const toggle = h('button.link', { type: 'button', testid: 'signin-toggle', text: 'New here? Create an account' });
  const title = h('h1', { text: 'Sign in' });
  toggle.onclick = () => {
    mode = mode === 'login' ? 'register' : 'login';
    title.textContent = submit.textContent = mode === 'login' ? 'Sign in' : 'Create account';
    toggle.textContent = mode === 'login' ? 'New here? Create an account' : 'Have an account? Sign in';
    password.autocomplete = mode === 'login' ? 'current-password' : 'new-password';
    error.textContent = '';
  };
  const form = h(
    'form.card.narrow',
    {
      onsubmit: async (e) => {
        e.preventDefault();
        error.textContent = '';
        submit.disabled = true;
        try {
          const r = await signIn(mode, email.value.trim(), password.value);
          auth.set(r.token, r.email);
          location.hash = '#/';
        } catch (err) {
          error.textContent = err.status === 404 ? 'This deployment signs in through its identity provider.' : err.message;
        } finally {
          submit.disabled = false;
        }
      },
    },
    title,
    h('p.muted', { text: 'Turn any object in a photo into a 3D model you can download.' }),
    h('label', {}, 'Email', email),
    h('label', {}, 'Password (8 characters or more)', password),
    error,
    submit,
    toggle,
  );
  root.replaceChildren(form);
  email.focus();
}
