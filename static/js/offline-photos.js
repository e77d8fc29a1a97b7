/* Photos taken offline (docs/offline.md "Photos taken offline", issue 17).

   The offline form of a visit, a clue's 入户核实 and a procedure's 入户核实 step gets a photo
   input (the back camera, or the gallery). On 保存到本机 each chosen photo is resized on the
   phone (window.PhotoResize.resize: longest side ≤ 1600 px, JPEG) and kept in the entry itself,
   in IndexedDB, as a Blob with its own key (a UUID made here), the time from the camera file
   and, only when the user ticked 记录位置 and allowed the browser's prompt, the location. The
   entry's database is the user's `pa-offline-<user key>`, so sign-out and a second user's
   clean-up delete the photos with the entries.

   After the entry is applied (or replayed), each photo not yet uploaded is POSTed on its own to
   the page's data-sync-photo URL (multipart: entry key, photo key, file, taken_at, lat/lng).
   201/200 uploaded (200: uploaded before, stored once); 400 refused with the server's message
   (the photo stays on the phone, shown as refused); anything else (no signal, 409 entry not
   yet applied, signed out) leaves it waiting for the next sync. An entry counts as synced
   only when none of its photos waits (`waiting`).

   A refused photo can be dropped on its own (删除此照片): the entry keeps its other photos and
   the record stays synced; nothing of it is sent again.

   offline.js calls: attach(container, kind), collect(container), waiting(entry),
   upload(entry, csrf), describe(entry, save). Texts come from the page's data-msg-* attributes. */
(function () {
  "use strict";
  const root = document.getElementById("offline-app");
  if (!root) return;
  const msg = (name) => root.dataset["msg" + name.replace(/(^|-)(\w)/g, (_m, _d, c) => c.toUpperCase())] || name;
  const KINDS = ["visit", "clue_verify", "step"];

  function element(tag, attributes, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (name === "text") node.textContent = value;
      else node.setAttribute(name, value === true ? "" : value);
    }
    for (const child of children) if (child) node.append(child);
    return node;
  }

  function newKey() {
    if (crypto.randomUUID) return crypto.randomUUID();
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  }

  // The photo input of the form, for the kinds that take photos.
  function attach(container, kind) {
    if (!KINDS.includes(kind)) return;
    const input = element("input", { id: "offline-photos", type: "file", accept: "image/*",
      capture: "environment", multiple: true, "data-offline-photos": true });
    const tick = element("input", { type: "checkbox", "data-offline-photo-location": true });
    const status = element("small", { class: "muted", "aria-live": "polite", "data-offline-photo-status": true });
    let position = null;
    tick.addEventListener("change", () => {
      position = null;
      if (!tick.checked || !window.PhotoResize) return;
      // The browser's own permission prompt: asked only now, because the user ticked.
      status.textContent = msg("photo-locating");
      window.PhotoResize.locate().then((found) => {
        position = found;
        if (!found) tick.checked = false;
        status.textContent = found ? msg("photo-located") : msg("photo-no-location");
      });
    });
    input.photoPosition = () => (tick.checked ? position : null);
    container.append(element("div", { class: "offline-field", "data-field": "photos" },
      element("label", { for: input.id, text: msg("photo-label") }),
      input,
      element("p", { class: "help small", text: msg("photo-help") }),
      element("label", { class: "checkbox" }, tick, " ", msg("photo-location")),
      status));
  }

  // The chosen photos, resized, as they are kept with the entry.
  async function collect(container) {
    const input = container.querySelector("[data-offline-photos]");
    if (!input || !input.files || !input.files.length) return [];
    const status = container.querySelector("[data-offline-photo-status]");
    if (status) status.textContent = msg("photo-resizing");
    const where = input.photoPosition();
    const photos = [];
    for (const file of Array.from(input.files)) {
      let result = null;
      if (window.PhotoResize) {
        // Not decodable here (e.g. HEIC): the original is kept and the server says why.
        result = await window.PhotoResize.resize(file).catch(() => null);
      }
      const blob = result ? result.file : file;
      photos.push({
        key: newKey(),
        blob,
        name: blob.name || file.name || "photo.jpg",
        taken_at: result ? result.taken_at : new Date(file.lastModified || Date.now()).toISOString(),
        latitude: where ? where.latitude : "",
        longitude: where ? where.longitude : "",
        state: "pending",
        message: "",
      });
    }
    if (status) status.textContent = "";
    return photos;
  }

  const waiting = (entry) => (entry.photos || []).some((photo) => photo.state === "pending");

  // Upload the entry's photos not yet uploaded; false when the network or the session stopped it.
  async function upload(entry, csrf) {
    for (const photo of entry.photos || []) {
      if (photo.state !== "pending") continue;
      const body = new FormData();
      body.append("entry", entry.key);
      body.append("key", photo.key);
      body.append("photo", photo.blob, photo.name);
      body.append("taken_at", photo.taken_at || "");
      body.append("latitude", photo.latitude || "");
      body.append("longitude", photo.longitude || "");
      let response;
      try {
        response = await fetch(root.dataset.syncPhoto, { method: "POST", credentials: "same-origin",
          headers: { Accept: "application/json", "X-CSRFToken": csrf }, body });
      } catch (error) {
        return false;
      }
      const data = await response.json().catch(() => null);
      if (response.status === 201 || response.status === 200) {
        photo.state = response.status === 201 ? "applied" : "replayed";
        photo.message = "";
      } else if (response.status === 400 || response.status === 404 || (response.status === 403 && data && data.code === "out_of_scope")) {
        photo.state = "invalid";
        photo.message = data ? (data.detail || Object.values(data.errors || data).flat().map(String).join(msg("separator"))) : "";
      } else {
        return false; // 409 not yet applied, signed out, server busy: it waits
      }
    }
    return true;
  }

  // The entry's photo count and each photo's result, for the queue; a refused photo gets a
  // button that drops it from the entry (`save(entry)` keeps the entry without it).
  function describe(entry, save) {
    const photos = entry.photos || [];
    if (!photos.length) return null;
    const list = element("ul", { class: "offline-photos small", "data-photos": photos.length });
    const texts = { pending: msg("photo-pending"), applied: msg("photo-applied"),
      replayed: msg("photo-replayed"), invalid: msg("photo-invalid") };
    photos.forEach((photo, index) => {
      const text = texts[photo.state] || photo.state;
      const item = element("li", { "data-photo": photo.key, "data-photo-state": photo.state },
        element("span", { text: `${msg("photo-one").replace("{n}", index + 1)} ${photo.message ? text + msg("colon") + photo.message : text}` }));
      if (photo.state === "invalid" && save) {
        const drop = element("button", { type: "button", class: "small", text: msg("photo-remove"), "data-photo-remove": true });
        drop.addEventListener("click", () => {
          entry.photos = entry.photos.filter((kept) => kept.key !== photo.key);
          save(entry);
        });
        item.append(" ", drop);
      }
      list.append(item);
    });
    return element("div", {}, element("span", { class: "small", "data-photo-count": photos.length,
      text: msg("photo-count").replace("{n}", photos.length) }), list);
  }

  window.OfflinePhotos = { attach, collect, waiting, upload, describe };
})();
