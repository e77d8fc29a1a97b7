/* The installable web app's page side (docs/offline.md): registers the service worker and, at
   sign-out, deletes every offline database and cache of this site before the sign-out form is
   sent, so that a phone handed on never shows the previous user's households; entries not yet
   synced are counted first and the user asked before they are deleted.
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

  // The entries of one offline database not yet accepted by the server (waiting, or refused
  // and waiting for the user's decision: conflict, out of scope, invalid).
  // `failed`: the count to assume when the database cannot be read (sign-out asks about what it
  // can count; the sign-in clean-up keeps what it cannot read).
  function unsyncedIn(name, failed = 0) {
    return new Promise((resolve) => {
      const request = indexedDB.open(name);
      request.onerror = () => resolve(failed);
      request.onsuccess = () => {
        const database = request.result;
        if (!database.objectStoreNames.contains("entries")) {
          database.close();
          resolve(0);
          return;
        }
        const all = database.transaction("entries", "readonly").objectStore("entries").getAll();
        all.onsuccess = () => {
          database.close();
          // An entry applied with a photo still waiting to upload is not synced yet either.
          resolve(all.result.filter((e) => (e.state !== "applied" && e.state !== "replayed") || (e.photos || []).some((p) => p.state === "pending")).length);
        };
        all.onerror = () => {
          database.close();
          resolve(failed);
        };
      };
    });
  }

  async function unsyncedCount() {
    if (!window.indexedDB || !indexedDB.databases) return 0;
    let count = 0;
    for (const database of await indexedDB.databases()) {
      if (database.name && database.name.startsWith("pa-offline-")) count += await unsyncedIn(database.name);
    }
    return count;
  }

  // After a sign-in (a phone handed on without signing out): the offline page the worker keeps
  // is answered only for the user named in `pa-current`; when another user is signed in now,
  // that mark is removed, and the other users' databases and page caches with nothing left to
  // sync are deleted. One still holding unsynced entries is kept unopened for its owner.
  async function forgetOtherUsers(key) {
    // The offline page writes its own user's mark (offline.js): leave it to the page there.
    if (window.caches && !document.getElementById("offline-app")) {
      const current = await caches.open("pa-current");
      const marker = await current.match("/__offline-user__");
      if (marker && (await marker.text()).trim() !== key) await current.delete("/__offline-user__");
    }
    if (!window.indexedDB || !indexedDB.databases) return;
    for (const { name } of await indexedDB.databases()) {
      if (!name || !name.startsWith("pa-offline-") || name === "pa-offline-" + key) continue;
      if ((await unsyncedIn(name, 1)) > 0) continue;
      await deleteDatabase(name);
      if (window.caches) await caches.delete(name);
    }
  }
  const userKey = script && script.dataset.userKey;
  if (userKey) forgetOtherUsers(userKey).catch(() => {});

  if (logout) {
    document.addEventListener("submit", (event) => {
      const form = event.target;
      if (!(form instanceof HTMLFormElement)) return;
      if (new URL(form.action, location.href).pathname !== logout || form.dataset.cleared) return;
      event.preventDefault();
      const timeout = (ms, value) => new Promise((resolve) => setTimeout(() => resolve(value), ms));
      // Sign-out deletes the offline data (a phone handed on shows nothing of this user): ask
      // first when entries typed without signal have not reached the server, never lose them
      // silently.
      Promise.race([unsyncedCount().catch(() => 0), timeout(3000, 0)]).then((count) => {
        const question = (script.dataset.msgUnsynced || "").replace("{n}", String(count));
        if (count > 0 && !window.confirm(question)) return;
        form.dataset.cleared = "1";
        Promise.race([clearOfflineData().catch(() => {}), timeout(5000)]).then(() => form.submit());
      });
    });
  }
})();
