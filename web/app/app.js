// Tend's web app: sign-in, the workspace shell (navigation, header) and the router. Screens live in
// ./screens/, one module each, listed in ./screens/index.js.
import { html, mount } from './lib/html.js';
import { session, createApi } from './lib/api.js';
import { startRouter } from './lib/router.js';
import { errorBox, loading } from './lib/ui.js';
import { icon } from './lib/icons.js';
import { screens, notFound } from './screens/index.js';
import { renderSignIn } from './screens/signin.js';

const root = document.getElementById('app');
let router = null;

function signOut(message) {
  session.clear();
  router?.stop();
  router = null;
  renderSignIn(root, { message, onSignedIn: start });
}

async function start() {
  const token = session.token;
  if (!token) return renderSignIn(root, { onSignedIn: start });
  mount(root, loading('Opening your workspace'));
  try {
    const workspace = await createApi({ token }).get('/api/workspace');
    showWorkspace(token, workspace);
  } catch (error) {
    if (error.status === 401) return signOut('Your admin token is no longer accepted. Sign in again.');
    mount(root, html`<div class="centered">${errorBox(error, 'Tend could not open your workspace')}<button class="button" data-retry>Try again</button></div>`);
    root.querySelector('[data-retry]').addEventListener('click', start);
  }
}

/** The navigation: every screen with a `menu` entry, grouped in the order the groups first appear. */
function navigation() {
  const groups = new Map();
  for (const screen of screens.filter((s) => s.menu)) {
    const list = groups.get(screen.menu.group) ?? [];
    list.push(screen);
    groups.set(screen.menu.group, list);
  }
  return [...groups].map(([group, items]) => html`<div class="nav-group">
    <div class="nav-heading">${group}</div>
    ${items.map((s) => html`<a class="nav-item" href="#${s.path}" data-nav="${s.nav}">${icon(s.menu.icon)}<span>${s.menu.label}</span></a>`)}
  </div>`);
}

function showWorkspace(token, workspace) {
  const initial = (workspace.name.trim()[0] ?? 'T').toUpperCase();
  mount(root, html`<div class="shell">
    <aside class="sidebar">
      <a class="brand" href="#/">${icon('leaf', 22)}<span>Tend</span></a>
      <nav aria-label="Main">${navigation()}</nav>
      <div class="sidebar-footer"><a href="/api/openapi.json" target="_blank" rel="noopener">API reference</a></div>
    </aside>
    <div class="main">
      <header class="topbar">
        <div class="workspace" title="Workspace ${workspace.id}">
          <span class="workspace-avatar">${initial}</span>
          <div><span class="workspace-label">Workspace</span><strong class="workspace-name">${workspace.name}</strong></div>
        </div>
        <button type="button" class="button button-quiet" data-sign-out>${icon('signout', 16)} Sign out</button>
      </header>
      <main id="outlet" tabindex="-1"></main>
    </div>
  </div>`);
  root.querySelector('[data-sign-out]').addEventListener('click', () => signOut());
  const links = [...root.querySelectorAll('.nav-item')];
  router = startRouter({
    screens,
    notFound,
    outlet: root.querySelector('#outlet'),
    makeApi: (signal) => createApi({ token, signal, onUnauthorized: () => signOut('Your admin token is no longer accepted. Sign in again.') }),
    onRoute: (screen) => {
      for (const link of links) link.classList.toggle('active', link.dataset.nav === screen.nav);
    },
  });
}

start();
