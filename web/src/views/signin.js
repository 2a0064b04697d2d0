// Sign in or create an account: Gen3D's own accounts locally, the Cognito user pool in
// AWS (sign up, confirm with the emailed code, sign in). A forgotten password: a code by
// mail, then a new password with it (both kinds of account; the mail links to #/reset).
import { auth, forgotPassword, resetPassword, signIn as localSignIn } from '../api.js';
import * as cognito from '../cognito.js';
import { config } from '../config.js';
import { h } from '../ui.js';

const TITLES = { login: 'Sign in', register: 'Create account', confirm: 'Confirm your email', forgot: 'Reset your password', reset: 'Choose a new password' };
const SUBMITS = { ...TITLES, forgot: 'Send me a code', reset: 'Set the new password' };

/** `start`: `{mode: 'reset', email}` opens the new-password form (the reset mail's link). */
export function renderSignIn(root, start = {}) {
  const useCognito = config.auth === 'cognito';
  const minLength = useCognito ? 10 : 8;
  let mode = 'login';
  const email = h('input', { type: 'email', name: 'email', required: true, autocomplete: 'username', testid: 'email' });
  if (start.email) email.value = start.email;
  const password = h('input', { type: 'password', name: 'password', required: true, minlength: String(minLength), autocomplete: 'current-password', testid: 'password' });
  const code = h('input', { name: 'code', inputmode: 'numeric', autocomplete: 'one-time-code', testid: 'code' });
  const passwordLabel = h('span', { text: 'Password' });
  const passwordField = h('label', {}, passwordLabel, ` (${minLength} characters or more)`, password);
  const codeField = h('label', { hidden: true }, 'The code we emailed you', code);
  const error = h('p.error', { testid: 'signin-error', role: 'alert' });
  const note = h('p.muted.small', { testid: 'signin-note' });
  const submit = h('button.primary', { type: 'submit', testid: 'signin-submit', text: 'Sign in' });
  const toggle = h('button.link', { type: 'button', testid: 'signin-toggle', text: 'New here? Create an account' });
  const resend = h('button.link', { type: 'button', testid: 'resend-code', text: 'Send the code again', hidden: true });
  const forgot = h('button.link', { type: 'button', testid: 'forgot', text: 'Forgot your password?' });
  const title = h('h1', { text: 'Sign in' });

  function setMode(m) {
    mode = m;
    title.textContent = TITLES[m];
    submit.textContent = SUBMITS[m];
    toggle.textContent = m === 'login' ? 'New here? Create an account' : 'Have an account? Sign in';
    password.autocomplete = m === 'register' || m === 'reset' ? 'new-password' : 'current-password';
    passwordLabel.textContent = m === 'reset' ? 'New password' : 'Password';
    passwordField.hidden = m === 'forgot';
    password.required = m !== 'forgot';
    codeField.hidden = resend.hidden = m !== 'confirm' && m !== 'reset';
    code.required = m === 'confirm' || m === 'reset';
    forgot.hidden = m !== 'login';
    error.textContent = '';
    note.textContent = '';
  }
  toggle.onclick = () => setMode(mode === 'login' ? 'register' : 'login');
  forgot.onclick = () => setMode('forgot');
  const sendResetCode = (who) => (useCognito ? cognito.forgotPassword(who) : forgotPassword(who));
  resend.onclick = async () => {
    try {
      const who = email.value.trim();
      await (mode === 'reset' ? sendResetCode(who) : cognito.resendCode(who));
      note.textContent = 'A new code is on its way.';
    } catch (err) {
      error.textContent = err.message;
    }
  };

  // Back to the page that asked for sign-in (e.g. a mail's link), else home.
  const onward = () => {
    const back = sessionStorage.getItem('gen3d.return');
    sessionStorage.removeItem('gen3d.return');
    location.hash = back || '#/';
  };

  async function done(token, refreshToken) {
    auth.set(token, email.value.trim(), refreshToken);
    onward();
  }

  /** Signed in with a local account's reply (`{token, email}`). */
  function doneLocal(r) {
    auth.set(r.token, r.email);
    onward();
  }

  /** A forgotten password, for both kinds of account: ask for the code… */
  async function submitForgot() {
    const who = email.value.trim();
    await sendResetCode(who);
    setMode('reset');
    note.textContent = `If ${who} has an account, we sent it a code. Enter it with your new password.`;
    code.focus();
  }

  /** …then set the new password with it, and sign in. */
  async function submitNewPassword() {
    const who = email.value.trim();
    if (!useCognito) return doneLocal(await resetPassword(who, code.value.trim(), password.value));
    await cognito.confirmForgotPassword(who, code.value.trim(), password.value);
    const { idToken, refreshToken } = await cognito.signIn(who, password.value);
    await done(idToken, refreshToken);
  }

  async function submitLocal() {
    doneLocal(await localSignIn(mode, email.value.trim(), password.value));
  }

  async function submitCognito() {
    const who = email.value.trim();
    if (mode === 'register') {
      const r = await cognito.signUp(who, password.value);
      if (!r.UserConfirmed) {
        setMode('confirm');
        note.textContent = `We sent a code to ${who}. Enter it to finish.`;
        return;
      }
    } else if (mode === 'confirm') {
      await cognito.confirm(who, code.value.trim());
    }
    try {
      const { idToken, refreshToken } = await cognito.signIn(who, password.value);
      await done(idToken, refreshToken);
    } catch (err) {
      if (err.type === 'UserNotConfirmedException') {
        setMode('confirm');
        note.textContent = `Enter the code we emailed to ${who}.`;
        return;
      }
      throw err;
    }
  }

  const form = h(
    'form.card.narrow',
    {
      onsubmit: async (e) => {
        e.preventDefault();
        error.textContent = '';
        submit.disabled = true;
        try {
          const step = { forgot: submitForgot, reset: submitNewPassword }[mode] ?? (useCognito ? submitCognito : submitLocal);
          await step();
        } catch (err) {
          error.textContent = err.message;
        } finally {
          submit.disabled = false;
        }
      },
    },
    title,
    h('p.muted', { text: 'Turn any object in a photo into a 3D model you can download.' }),
    h('label', {}, 'Email', email),
    passwordField,
    codeField,
    note,
    error,
    submit,
    toggle,
    forgot,
    resend,
  );
  root.replaceChildren(h('div.welcome', {}, form, example()));
  if (start.mode === 'reset') {
    setMode('reset');
    note.textContent = 'Enter the code from the mail and your new password.';
    code.focus();
  } else email.focus();
}

/** What Gen3D does, before signing in: a sample photo and what one click on it made.
 * The picture is the built-in models' own output for the truck's window (`gen3d run
 * truck.jpg --point 500,375` writes it as thumb.png), drawn from the photo's camera. */
function example() {
  return h(
    'figure.example.card',
    { testid: 'example' },
    h('div.pair', {}, h('img', { src: 'samples/truck.jpg', alt: 'A photo of a truck' }), h('span.arrow', { text: '→' }), h('img.result', { src: 'example/truck-window-3d.png', alt: 'The truck’s window as a 3D splat' })),
    h('figcaption.muted.small', { text: 'Example: one click on the truck’s window made this 3D model (its splats, seen from the photo’s camera), with a mesh to download as GLB, OBJ, PLY or STL. Sign in, then try it on this photo in one click.' }),
  );
}
