/* The installable web app's page side (docs/offline.md): registers the service worker and, at
   sign-out, deletes every offline database and cache of this site before the sign-out form is
   sent, so that a phone handed on never shows the previous user's households.
   Loaded on every page through base.html's {% block pwa %}; the script tag carries the URLs. */
(function () {
  "use strict";
  const script = document.currentScript;
  const worker = script && script.dataset.serviceWorker;
  const logout = script && script.dataset.logout;

  if (worker && "serviceWorker" in navigator) {
    window.addEventListener("load", () => {
      navigator.serviceWorker.register(worker, { scope: "/" }).catch(() => {});
    });
  }

  function deleteDatabase(name) {
    return new Promise((resolve) => {
      const request = indexedDB.deleteDatabase(name);
      request.onsuccess = request.onerror = () => resolve();
      // An open page closes its connection on `versionchange`; the deletion then completes.
      request.onblocked = () => setTimeout(resolve, 2000);
    });
  }

  async function clearOfflineData() {
    const work = [];
    if (window.indexedDB && indexedDB.databases) {
      const databases = await indexedDB.databases();
      for (const database of databases) {
        if (database.name && database.name.startsWith("pa-offline-")) work.push(deleteDatabase(database.name));
      }
    }
    if (window.caches) {
      for (const name of await caches.keys()) {
        if (name.startsWith("pa-")) work.push(caches.delete(name));
      }
    }
    await Promise.all(work);
  }
  window.paClearOfflineData = clearOfflineData;

  if (logout) {
    document.addEventListener("submit", (event) => {
      const form = event.target;
      if (!(form instanceof HTMLFormElement)) return;
      if (new URL(form.action, location.href).pathname !== logout || form.dataset.cleared) return;
      event.preventDefault();
      form.dataset.cleared = "1";
      const timeout = new Promise((resolve) => setTimeout(resolve, 5000));
      Promise.race([clearOfflineData().catch(() => {}), timeout]).then(() => form.submit());
    });
  }
})();
