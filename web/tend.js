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
 * Web push: tend.push.subscribe({ serviceWorker: '/tend-sw.js' }) from a click handler (it asks
 * for permission), tend.push.unsubscribe(), tend.push.supported().
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
    push: {
      /** Whether this browser can receive web push (a service worker, the Push API, notifications, a secure page). */
      supported: () => window.isSecureContext && 'serviceWorker' in navigator && 'PushManager' in window && 'Notification' in window,
      /**
       * Asks for permission to show notifications and subscribes this browser with Tend's VAPID key:
       * registers the service worker (options.serviceWorker, default /tend-sw.js on the shop's
       * origin, which serves or imports Tend's), subscribes, and stores the subscription for this
       * person. Call it from a click: browsers ignore permission prompts that nobody asked for.
       * Resolves to the PushSubscription, or null when permission was not given.
       */
      async subscribe(options) {
        const o = obj(options);
        if (!api.push.supported()) throw new Error('tend.js: this browser cannot receive web push');
        if (!cfg.writeKey) throw new Error('tend.js: no write key');
        if ((await window.Notification.requestPermission()) !== 'granted') return null;
        const res = await fetch(`${cfg.host}/v1/push/vapid-public-key`, { credentials: 'omit' });
        if (!res.ok) throw new Error(`tend.js: web push is not configured on the Tend server (HTTP ${res.status})`);
        const key = pushKey((await res.json()).publicKey);
        const registration = await navigator.serviceWorker.register(o.serviceWorker || '/tend-sw.js', o.scope ? { scope: o.scope } : undefined);
        await activated(registration);
        let subscription = await registration.pushManager.getSubscription();
        // A subscription made with another key cannot receive Tend's messages: replace it.
        const current = subscription && subscription.options && subscription.options.applicationServerKey;
        if (subscription && current && !sameBytes(new Uint8Array(current), key)) {
          await subscription.unsubscribe();
          subscription = null;
        }
        if (!subscription) subscription = await registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: key });
        await send('/v1/push/subscribe', { ...subscription.toJSON(), userId: read(USER) || undefined, anonymousId: anonymousId() });
        return subscription;
      },
      /** Unsubscribes this browser and tells Tend to forget it. Resolves to whether there was a subscription. */
      async unsubscribe(options) {
        const o = obj(options);
        if (!api.push.supported()) return false;
        const registration = await navigator.serviceWorker.getRegistration(o.scope || o.serviceWorker || '/tend-sw.js');
        const subscription = registration && (await registration.pushManager.getSubscription());
        if (!subscription) return false;
        const endpoint = subscription.endpoint;
        await subscription.unsubscribe();
        await send('/v1/push/unsubscribe', { endpoint });
        return true;
      },
    },
  };

  // Web push helpers: the VAPID key arrives as URL-safe base64; the Push API wants its bytes.
  const pushKey = (base64url) => {
    const base64 = String(base64url).replace(/-/g, '+').replace(/_/g, '/');
    const raw = window.atob(base64 + '='.repeat((4 - (base64.length % 4)) % 4));
    return Uint8Array.from(raw, (c) => c.charCodeAt(0));
  };
  const sameBytes = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);
  // pushManager.subscribe needs an active worker; a fresh registration is still installing.
  const activated = (registration) =>
    new Promise((resolve) => {
      const worker = registration.installing || registration.waiting || registration.active;
      if (!worker || worker.state === 'activated') return resolve(registration);
      worker.addEventListener('statechange', () => worker.state === 'activated' && resolve(registration));
    });
  const send = (path, body) =>
    fetch(`${cfg.host}${path}`, {
      method: 'POST', credentials: 'omit',
      headers: { 'content-type': 'application/json', authorization: `Basic ${btoa(`${cfg.writeKey}:`)}` },
      body: JSON.stringify(body),
    }).then((res) => {
      if (!res.ok) throw new Error(`tend.js: ${path} answered HTTP ${res.status}`);
    });

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
