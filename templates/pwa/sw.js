{% load static %}/* The service worker of the installable web app (docs/offline.md), written for this system.

   It keeps no personal data of its own. What it does:
   - keeps the files the offline page needs (css, js, icons) in the shell cache;
   - when the offline visit page cannot be fetched (no signal), answers with the copy the page
     stored for the signed-in user, in the cache named `pa-offline-<user key>`; the user key of
     the last user who opened the page is kept in the `pa-current` cache, so that one user's
     copy is never shown for another; sign-out deletes every cache and database (static/js/pwa.js).
   Everything else goes to the network untouched. */
"use strict";

const SHELL = "pa-shell-v1";
const CURRENT = "pa-current";
const CURRENT_KEY = "/__offline-user__";
const USER_PREFIX = "pa-offline-";
const OFFLINE_PAGE = "{% url 'assistance:offline' %}";
const SHELL_FILES = [
  "{% static 'css/app.css' %}",
  "{% static 'css/offline.css' %}",
  "{% static 'vendor/htmx/htmx.min.js' %}",
  "{% static 'js/behaviours.js' %}",
  "{% static 'js/pwa.js' %}",
  "{% static 'js/offline.js' %}",
  "{% static 'js/offline-photos.js' %}",
  "{% static 'js/photo-resize.js' %}",
  "{% static 'icons/app-192.png' %}",
];

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(SHELL).then((cache) => cache.addAll(SHELL_FILES)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((names) => Promise.all(
        names.filter((name) => name.startsWith("pa-shell-") && name !== SHELL).map((name) => caches.delete(name)),
      ))
      .then(() => self.clients.claim()),
  );
});

async function currentUserCache() {
  const current = await caches.open(CURRENT);
  const marker = await current.match(CURRENT_KEY);
  if (!marker) return null;
  const key = (await marker.text()).trim();
  return key ? USER_PREFIX + key : null;
}

async function offlinePage(request) {
  try {
    return await fetch(request);
  } catch (error) {
    const name = await currentUserCache();
    if (name && (await caches.has(name))) {
      const cached = await (await caches.open(name)).match(OFFLINE_PAGE);
      if (cached) return cached;
    }
    throw error;
  }
}

async function shellFile(request) {
  const cache = await caches.open(SHELL);
  const cached = await cache.match(request);
  if (cached) return cached;
  const response = await fetch(request);
  if (response.ok) await cache.put(request, response.clone());
  return response;
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.mode === "navigate" && url.pathname === OFFLINE_PAGE) {
    event.respondWith(offlinePage(request));
  } else if (SHELL_FILES.includes(url.pathname)) {
    event.respondWith(shellFile(request));
  }
});
