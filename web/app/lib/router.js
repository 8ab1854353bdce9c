// A small hash router. Screens are plain modules `{ path, nav, title, render(view, ctx) }`; a path
// like `/contacts/:id` matches `#/contacts/42`. Every navigation renders into a fresh element and
// aborts the previous screen's requests, so a slow screen that finishes late writes into a
// detached element instead of over the screen the person has moved on to.
import { mount } from './html.js';
import { errorBox } from './ui.js';

/** Splits a location hash into a path and its query parameters. */
export function parseHash(hash) {
  const text = hash.replace(/^#/, '') || '/';
  const [path, search = ''] = text.split('?');
  return { path: path.startsWith('/') ? path : `/${path}`, query: Object.fromEntries(new URLSearchParams(search)) };
}

/** Builds a hash for a path and query, leaving out empty values. */
export function toHash(path, query = {}) {
  const search = new URLSearchParams(Object.entries(query).filter(([, v]) => v !== undefined && v !== null && v !== ''));
  const qs = search.toString();
  return `#${path}${qs ? `?${qs}` : ''}`;
}

/** The screen whose path matches, with the decoded parameters; null when none does. */
export function matchScreen(screens, path) {
  const parts = path.split('/').filter(Boolean);
  for (const screen of screens) {
    const pattern = screen.path.split('/').filter(Boolean);
    if (pattern.length !== parts.length) continue;
    const params = {};
    const ok = pattern.every((p, i) => {
      if (p.startsWith(':')) {
        try {
          params[p.slice(1)] = decodeURIComponent(parts[i]);
          return true;
        } catch {
          return false;
        }
      }
      return p === parts[i];
    });
    if (ok) return { screen, params };
  }
  return null;
}

/**
 * Starts routing: renders the current hash now and on every change. `makeApi(signal)` gives each
 * screen an API client whose requests end with it; `onRoute(screen)` updates the navigation.
 */
export function startRouter({ screens, outlet, makeApi, onRoute, notFound }) {
  let controller = null;

  async function render() {
    controller?.abort();
    controller = new AbortController();
    const { path, query } = parseHash(location.hash);
    const match = matchScreen(screens, path);
    const screen = match?.screen ?? notFound;
    const view = document.createElement('div');
    view.className = 'view';
    outlet.replaceChildren(view);
    window.scrollTo(0, 0);
    onRoute(screen);
    document.title = `${screen.title} · Tend`;
    const ctx = {
      params: match?.params ?? {},
      query,
      signal: controller.signal,
      api: makeApi(controller.signal),
      setTitle: (title) => (document.title = `${title} · Tend`),
      /** Records screen state (a search, a page) in the address without rendering again. */
      setQuery: (next) => history.replaceState(null, '', toHash(path, next)),
    };
    try {
      await screen.render(view, ctx);
    } catch (error) {
      if (error?.name === 'AbortError') return;
      mount(view, errorBox(error, 'This page could not be shown'));
    }
  }

  window.addEventListener('hashchange', render);
  render();
  return { refresh: render, stop: () => window.removeEventListener('hashchange', render) };
}
