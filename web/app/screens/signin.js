// Sign-in: the admin token is checked against the server, then kept in this browser.
import { html, mount } from '../lib/html.js';
import { createApi, session } from '../lib/api.js';
import { icon } from '../lib/icons.js';

/** Shows the sign-in form in `root`; `onSignedIn` runs once a token has been accepted. */
export function renderSignIn(root, { message, onSignedIn }) {
  document.title = 'Sign in · Tend';
  mount(root, html`<div class="signin">
    <form class="signin-card" novalidate>
      <div class="brand brand-dark">${icon('leaf', 26)}<span>Tend</span></div>
      <h1>Sign in to your workspace</h1>
      <p class="muted">Paste your workspace's admin token. Tend prints it the first time it starts
        (<code>npm start</code>); operators can also set it with <code>TEND_ADMIN_TOKEN</code>.</p>
      ${message ? html`<div class="notice">${message}</div>` : ''}
      <label class="field">
        <span>Admin token</span>
        <input name="token" type="password" autocomplete="off" spellcheck="false" required autofocus placeholder="tat_…">
      </label>
      <div class="form-error" role="alert" hidden></div>
      <button class="button button-primary button-block" type="submit">Sign in</button>
      <p class="fine-print">The token stays in this browser until you sign out.</p>
    </form>
  </div>`);
  const form = root.querySelector('form');
  const error = form.querySelector('.form-error');
  const showError = (text) => {
    error.textContent = text;
    error.hidden = false;
  };
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const token = form.token.value.trim();
    if (!token) return showError('Paste the admin token first.');
    const button = form.querySelector('button');
    button.disabled = true;
    button.textContent = 'Checking…';
    try {
      await createApi({ token }).get('/api/workspace');
      session.save(token);
      onSignedIn();
    } catch (e) {
      showError(e.status === 401 ? 'That admin token was not accepted. Check that you copied all of it, for this Tend server.' : e.message);
      button.disabled = false;
      button.textContent = 'Sign in';
      form.token.select();
    }
  });
}
