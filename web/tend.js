/*! tend.js: first-party page views, events and identify for Tend. No dependencies.
 *
 * Add one line to every page of the shop:
 *   <script async src="https://tend.example.com/tend.js" data-write-key="wk_…"></script>
 * or queue calls before the script has loaded (like analytics.js):
 *   <script>window.tend=window.tend||function(){(tend.q=tend.q||[]).push(arguments)};
 *     tend('init','wk_…',{host:'https://tend.example.com'});</script>
 *   <script async src="https://tend.example.com/tend.js"></script>
 *
 * Then: tend.page(name?, properties?), tend.track(event, properties?), tend.identify(userId, traits?),
 * tend.reset(). A page view is sent on load unless data-auto-page="false" (or {autoPage: false}).
 * Calls are batched to <host>/v1/batch; what is left when the page is hidden goes by sendBeacon.
 */
(() => {
  'use strict';
  if (window.tend && window.tend.version) return; // loaded twice
  const VERSION = '0.1.0';
  const ANON = 'tend_aid';
  const USER = 'tend_uid';
  const script = document.currentScript;
  const queued = (typeof window.tend === 'function' && window.tend.q) || [];

  const cfg = { writeKey: null, host: null, autoPage: true };
  if (script) {
    cfg.writeKey = script.getAttribute('data-write-key');
    cfg.host = script.getAttribute('data-host') || new URL(script.src, location.href).origin;
    cfg.autoPage = script.getAttribute('data-auto-page') !== 'false';
  }
  const pending = [];
  let timer = null;

  // Storage: localStorage, with a first-party cookie as fallback and second copy.
  const read = (key) => {
    try {
      const value = localStorage.getItem(key);
      if (value) return value;
    } catch { /* storage blocked: use the cookie */ }
    const m = document.cookie.match(new RegExp(`(?:^|; )${key}=([^;]*)`));
    return m ? decodeURIComponent(m[1]) : null;
  };
  const write = (key, value) => {
    try {
      if (value === null) localStorage.removeItem(key);
      else localStorage.setItem(key, value);
    } catch { /* storage blocked: the cookie still works */ }
    const life = value === null ? '; Max-Age=0' : `${encodeURIComponent(value)}; Max-Age=31536000`;
    document.cookie = `${key}=${life}; Path=/; SameSite=Lax${location.protocol === 'https:' ? '; Secure' : ''}`;
  };
  const uuid = () => {
    if (crypto.randomUUID) return crypto.randomUUID();
    // randomUUID needs a secure context (https); getRandomValues does not.
    const b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 15) | 64;
    b[8] = (b[8] & 63) | 128;
    const h = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  };
  const anonymousId = () => {
    const id = read(ANON) || uuid();
    write(ANON, id); // refreshes both copies and the cookie's expiry
    return id;
  };

  const pageInfo = () => ({ path: location.pathname, referrer: document.referrer, search: location.search, title: document.title, url: location.href });
  const context = () => {
    let timezone;
    try {
      timezone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    } catch { /* no Intl time zones */ }
    return {
      library: { name: 'tend.js', version: VERSION }, page: pageInfo(), userAgent: navigator.userAgent,
      locale: navigator.language, timezone, screen: { width: screen.width, height: screen.height },
    };
  };
  const obj = (v) => (v && typeof v === 'object' && !Array.isArray(v) ? v : {});

  const enqueue = (message) => {
    if (!cfg.writeKey) return;
    const userId = read(USER);
    pending.push({
      ...message, messageId: uuid(), timestamp: new Date().toISOString(), anonymousId: anonymousId(),
      userId: message.userId || userId || undefined, context: context(),
    });
    if (pending.length >= 20) flush();
    else if (!timer) timer = setTimeout(flush, 300);
  };

  // A keepalive fetch and a beacon may carry about 64 KB, so batches are cut below that.
  const take = () => {
    const batch = [];
    let size = 0;
    while (pending.length && (batch.length === 0 || size + JSON.stringify(pending[0]).length < 60000)) {
      size += JSON.stringify(pending[0]).length;
      batch.push(pending.shift());
    }
    return batch;
  };
  const post = (batch, attempt) =>
    fetch(`${cfg.host}/v1/batch`, {
      method: 'POST', keepalive: true, credentials: 'omit',
      headers: { 'content-type': 'application/json', authorization: `Basic ${btoa(`${cfg.writeKey}:`)}` },
      body: JSON.stringify({ batch, sentAt: new Date().toISOString() }),
    }).then((res) => {
      if (res.status >= 500 || res.status === 429) throw new Error(`HTTP ${res.status}`);
      if (!res.ok) console.warn(`tend.js: the server refused events (HTTP ${res.status})`);
    }).catch(() => {
      // Network trouble or a busy server: try again. Tend stores a messageId once, however often it arrives.
      if (attempt < 4) return new Promise((r) => setTimeout(r, 1000 * 2 ** attempt)).then(() => post(batch, attempt + 1));
    });
  const flush = () => {
    clearTimeout(timer);
    timer = null;
    const sends = [];
    while (pending.length) sends.push(post(take(), 0));
    return Promise.all(sends).then(() => undefined);
  };
  // A hidden page may never come back: hand what is left to the browser to deliver. sendBeacon
  // cannot set headers, so the write key travels inside the text/plain JSON body.
  const beacon = () => {
    clearTimeout(timer);
    timer = null;
    while (pending.length) {
      const batch = take();
      const body = JSON.stringify({ batch, writeKey: cfg.writeKey, sentAt: new Date().toISOString() });
      if (!navigator.sendBeacon?.(`${cfg.host}/v1/batch`, body)) post(batch, 3);
    }
  };
  document.addEventListener('visibilitychange', () => document.visibilityState === 'hidden' && beacon());
  window.addEventListener('pagehide', beacon);

  const api = {
    version: VERSION,
    init(writeKey, options) {
      const o = obj(options);
      cfg.writeKey = writeKey || cfg.writeKey;
      if (o.host) cfg.host = String(o.host).replace(/\/+$/, '');
      if (o.autoPage === false) cfg.autoPage = false;
    },
    page(name, properties) {
      if (typeof name === 'object' && name !== null) [name, properties] = [undefined, name];
      enqueue({ type: 'page', name: name == null ? undefined : String(name), properties: { ...pageInfo(), ...obj(properties) } });
    },
    track(event, properties) {
      enqueue({ type: 'track', event: String(event), properties: obj(properties) });
    },
    identify(userId, traits) {
      if (typeof userId === 'object' && userId !== null) [userId, traits] = [null, userId];
      if (userId != null && userId !== '') write(USER, String(userId));
      enqueue({ type: 'identify', traits: obj(traits) });
    },
    /** Forgets the person on this browser (call it on log-out): a new anonymous id from now on. */
    reset() {
      flush();
      write(USER, null);
      write(ANON, null);
    },
    anonymousId,
    userId: () => read(USER),
    /** Sends what is queued now; resolves once the server has answered. */
    flush,
    // Web push subscription belongs here: reserved for Tend's web-push channel, not available yet.
    // It will be `subscribeToPush()`: ask permission, subscribe through a service worker served by
    // Tend with the workspace's VAPID key, and send the subscription to the tracking API.
  };

  function tend(method, ...args) {
    if (typeof api[method] !== 'function') return console.warn(`tend.js: unknown call "${method}"`);
    return api[method](...args);
  }
  Object.assign(tend, api);
  window.tend = tend;

  // Replay calls made before the script loaded: init first, then the automatic page view (it
  // happened on load), then the rest in order.
  for (const call of queued) if (call[0] === 'init') tend(...call);
  if (!cfg.writeKey) console.warn('tend.js: no write key; add data-write-key to the script tag or call tend("init", "wk_…")');
  if (cfg.autoPage) api.page();
  for (const call of queued) if (call[0] !== 'init') tend(...call);
})();
