/**
 * The service worker that Tend's browser snippet registers (served as `/tend-sw.js` on the shop's
 * own origin, or pulled into the shop's existing worker with `importScripts`). It is plain browser
 * JavaScript, kept here as text so the server can serve it without a build step.
 *
 * It shows each push as a notification (title, body, icon, image, up to the browser's limit of
 * action buttons), tags it with the message's topic so a repeated delivery replaces the first one,
 * reports "shown" to Tend's receipt URL when the message carries one, and on a click opens the
 * notification's URL, or the clicked action's URL, focusing a tab that already shows it.
 */
export const SERVICE_WORKER_PATH = '/tend-sw.js';

export const serviceWorkerSource = String.raw`/* Tend web push service worker */
'use strict';

function tendSafeUrl(url) {
  try {
    var parsed = new URL(url, self.location.origin);
    return parsed.protocol === 'https:' || parsed.protocol === 'http:' ? parsed.href : null;
  } catch (e) {
    return null;
  }
}

self.addEventListener('install', function () {
  self.skipWaiting();
});

self.addEventListener('activate', function (event) {
  event.waitUntil(self.clients.claim());
});

self.addEventListener('push', function (event) {
  var message;
  try {
    message = event.data ? event.data.json() : null;
  } catch (e) {
    message = null;
  }
  if (!message || typeof message.title !== 'string') return;
  var actions = Array.isArray(message.actions) ? message.actions : [];
  var urls = {};
  actions.forEach(function (a) {
    urls[a.action] = tendSafeUrl(a.url);
  });
  var options = {
    body: message.body || '',
    tag: message.tag || message.id,
    data: { id: message.id, url: tendSafeUrl(message.url || ''), actions: urls },
    actions: actions.map(function (a) {
      return { action: a.action, title: a.title };
    }),
  };
  if (message.icon) options.icon = message.icon;
  if (message.image) options.image = message.image;
  var work = [self.registration.showNotification(message.title, options)];
  var receipt = message.receipt && tendSafeUrl(message.receipt);
  if (receipt) {
    work.push(
      fetch(receipt, {
        method: 'POST',
        mode: 'cors',
        keepalive: true,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ id: message.id, event: 'shown' }),
      }).catch(function () {}),
    );
  }
  event.waitUntil(Promise.all(work));
});

self.addEventListener('notificationclick', function (event) {
  var data = event.notification.data || {};
  event.notification.close();
  var url = (event.action && data.actions && data.actions[event.action]) || data.url;
  if (!url) return;
  event.waitUntil(
    self.clients.matchAll({ type: 'window', includeUncontrolled: true }).then(function (windows) {
      for (var i = 0; i < windows.length; i++) {
        if (windows[i].url === url && 'focus' in windows[i]) return windows[i].focus();
      }
      return self.clients.openWindow(url);
    }),
  );
});
`;
