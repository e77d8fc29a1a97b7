/* 离线走访 (docs/offline.md): the visit form without signal.

   - The bundle (the user's households, scoped and masked by the server, each with its version,
     and the visit form's definition) is downloaded when online and kept in IndexedDB, in the
     database `pa-offline-<user key>`; the page itself is kept in the cache of the same name.
   - Each visit is saved on the phone as an entry with its own key (a UUID, the idempotency key)
     and the household's version; the queue shows 待同步 n 条 and each entry's result.
   - Sync, when online: one POST per entry; 201/200 applied (200: applied before, not again),
     409 a conflict shown with both versions for the user to decide, 403 refused with the
     server's message (the household left the user's scope), 400 the server's errors.
   Every text shown comes from the page's data-msg-* attributes (translated by Django). */
(function () {
  "use strict";
  const root = document.getElementById("offline-app");
  if (!root) return;
  const msg = (name) => root.dataset["msg" + name.replace(/(^|-)(\w)/g, (_m, _d, c) => c.toUpperCase())] || name;
  const $ = (selector) => root.querySelector(selector);
  const userKey = root.dataset.userKey;
  const DB_NAME = "pa-offline-" + userKey;
  let db = null;
  let bundle = null;
  let syncing = false;

  // --- storage ---------------------------------------------------------------------------------

  function openDatabase() {
    return new Promise((resolve, reject) => {
      const request = indexedDB.open(DB_NAME, 1);
      request.onupgradeneeded = () => {
        const database = request.result;
        database.createObjectStore("bundle");
        database.createObjectStore("entries", { keyPath: "key" });
      };
      request.onsuccess = () => {
        const database = request.result;
        // Sign-out deletes the database: let it, from any page.
        database.onversionchange = () => database.close();
        resolve(database);
      };
      request.onerror = () => reject(request.error);
    });
  }

  function store(name, mode, work) {
    return new Promise((resolve, reject) => {
      const transaction = db.transaction(name, mode);
      const result = work(transaction.objectStore(name));
      transaction.oncomplete = () => resolve(result && "result" in result ? result.result : undefined);
      transaction.onerror = () => reject(transaction.error);
    });
  }
  const getBundle = () => store("bundle", "readonly", (s) => s.get("bundle"));
  const putBundle = (value) => store("bundle", "readwrite", (s) => s.put(value, "bundle"));
  const allEntries = () => store("entries", "readonly", (s) => s.getAll());
  const putEntry = (entry) => store("entries", "readwrite", (s) => s.put(entry));
  const deleteEntry = (key) => store("entries", "readwrite", (s) => s.delete(key));

  async function keepPageForUser() {
    // The copy of this page the service worker answers with offline, filed under this user.
    if (!window.caches) return;
    const current = await caches.open("pa-current");
    await current.put("/__offline-user__", new Response(userKey));
    if (navigator.onLine) {
      const cache = await caches.open("pa-offline-" + userKey);
      await cache.add(root.dataset.page);
    }
  }

  // --- rendering -------------------------------------------------------------------------------

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

  function showStatus() {
    const status = $("[data-status]");
    const online = navigator.onLine;
    status.classList.toggle("is-offline", !online);
    let text = online ? msg("online") : msg("offline");
    if (bundle) text += " · " + msg("downloaded") + " " + new Date(bundle.generated_at).toLocaleString();
    else text += " · " + msg("no-bundle");
    status.textContent = text;
    root.dataset.online = online ? "1" : "0";
  }

  function householdLabel(household) {
    return [household.number, household.head_name, household.head_id_number].filter(Boolean).join(" ");
  }

  function showHouseholds() {
    const list = $("[data-households]");
    list.replaceChildren();
    if (!bundle) return;
    const term = $("[data-filter]").value.trim();
    const rows = bundle.households.filter(
      (h) => !term || h.number.includes(term) || h.head_name.includes(term),
    );
    for (const household of rows.slice(0, 200)) {
      const button = element("button", { type: "button", text: msg("record"), "data-record": household.id });
      button.addEventListener("click", () => openForm(household));
      const who = element("span", { class: "who" },
        element("strong", { text: householdLabel(household) }),
        element("br"),
        element("span", { class: "muted small", text: `${household.village} · ${household.status} · ${msg("last-visit")} ${household.last_visit || "—"}` }));
      list.append(element("li", { "data-household": household.id }, who, button));
    }
    if (!rows.length) list.append(element("li", { class: "muted", text: msg("empty") }));
  }

  function today() {
    const now = new Date();
    const pad = (n) => String(n).padStart(2, "0");
    return `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}`;
  }

  function fieldInput(field) {
    const id = "offline-" + field.name;
    const common = { id, name: field.name, "data-name": field.name };
    if (field.kind === "textarea") return element("textarea", { ...common, rows: 3 });
    if (field.kind === "checkbox") return element("input", { ...common, type: "checkbox" });
    if (field.kind === "choice") {
      const select = element("select", common);
      for (const [value, text] of field.choices) select.append(element("option", { value, text }));
      return select;
    }
    if (field.kind === "date") return element("input", { ...common, type: "date", value: today() });
    return element("input", { ...common, type: "text" });
  }

  let formHousehold = null;
  function openForm(household) {
    formHousehold = household;
    const fields = $("[data-fields]");
    fields.replaceChildren();
    for (const field of bundle.form) {
      const input = fieldInput(field);
      const label = element("label", { for: input.id, text: field.label + (field.required ? " *" : "") });
      const wrapper = element("div", { class: "offline-field" + (field.kind === "checkbox" ? " is-checkbox" : ""), "data-field": field.name });
      if (field.kind === "checkbox") wrapper.append(input, " ", label);
      else wrapper.append(label, input);
      wrapper.append(element("p", { class: "errorlist", hidden: true }));
      fields.append(wrapper);
    }
    $("[data-visit-household]").textContent = householdLabel(household);
    $("[data-visit-section]").hidden = false;
    $("[data-visit-section]").scrollIntoView();
  }

  function closeForm() {
    formHousehold = null;
    $("[data-visit-section]").hidden = true;
  }

  async function saveForm(event) {
    event.preventDefault();
    const values = {};
    let first = null;
    for (const field of bundle.form) {
      const input = $(`[data-name="${field.name}"]`);
      const value = field.kind === "checkbox" ? input.checked : input.value.trim();
      const error = input.closest("[data-field]").querySelector(".errorlist");
      const missing = field.required && !value;
      error.hidden = !missing;
      error.textContent = missing ? msg("required") : "";
      if (missing && !first) first = input;
      values[field.name] = value;
    }
    if (first) {
      first.focus();
      return;
    }
    const entry = {
      key: crypto.randomUUID ? crypto.randomUUID() : fallbackUuid(),
      household: formHousehold.id,
      label: householdLabel(formHousehold),
      version: formHousehold.version,
      recorded_at: new Date().toISOString(),
      values,
      state: "pending",
      message: "",
    };
    await putEntry(entry);
    closeForm();
    await showQueue();
    sync();
  }

  function fallbackUuid() {
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  }

  function shownValue(value) {
    if (value === true || value === "true") return msg("yes");
    if (value === false || value === "false") return msg("no");
    if (value === null || value === undefined || value === "") return msg("unknown");
    return String(value);
  }

  function compareTable(entry) {
    const labels = {};
    for (const field of (bundle ? bundle.form : [])) labels[field.name] = field.label;
    const table = element("table", { class: "offline-compare" });
    table.append(element("tr", {}, element("th", { text: "" }), element("th", { text: msg("mine") }), element("th", { text: msg("server") })));
    const mine = entry.conflict.mine.household_updates || {};
    for (const [name, server] of Object.entries(entry.conflict.server.fields)) {
      const label = labels["h_" + name] || name;
      const mineValue = name in mine ? shownValue(mine[name]) : msg("unchanged");
      table.append(element("tr", { "data-compare": name }, element("th", { text: label }), element("td", { text: mineValue }), element("td", { text: shownValue(server) })));
    }
    return table;
  }

  async function showQueue() {
    const entries = (await allEntries()).sort((a, b) => a.recorded_at.localeCompare(b.recorded_at));
    $("[data-pending-count]").textContent = String(entries.filter((e) => e.state === "pending").length);
    const list = $("[data-queue]");
    list.replaceChildren();
    for (const entry of entries) {
      const item = element("li", { "data-entry": entry.key, "data-state": entry.state },
        element("span", { text: `${entry.label} · ${entry.values.date || ""}` }));
      const text = { pending: msg("pending"), applied: msg("applied"), replayed: msg("replayed"),
        conflict: msg("conflict"), refused: msg("refused"), invalid: msg("invalid") }[entry.state];
      item.append(element("span", { class: "result result-" + entry.state, "data-result": true,
        text: entry.message ? `${text}${msg("colon")}${entry.message}` : text }));
      if (entry.state === "conflict") {
        const who = (entry.conflict.changes || []).map((c) => c.who).find(Boolean);
        if (who) item.append(element("span", { class: "small", text: `${msg("changed-by")}${msg("colon")}${who}` }));
        item.append(compareTable(entry));
        const keep = element("button", { type: "button", class: "primary", text: msg("keep-mine"), "data-keep-mine": true });
        keep.addEventListener("click", async () => {
          entry.version = entry.conflict.server.version;
          entry.state = "pending";
          entry.message = "";
          delete entry.conflict;
          await putEntry(entry);
          await showQueue();
          sync();
        });
        const discard = element("button", { type: "button", text: msg("discard"), "data-discard": true });
        discard.addEventListener("click", async () => { await deleteEntry(entry.key); await showQueue(); });
        item.append(keep, discard);
      } else if (entry.state !== "pending") {
        const remove = element("button", { type: "button", text: msg("remove"), "data-remove": true });
        remove.addEventListener("click", async () => { await deleteEntry(entry.key); await showQueue(); });
        item.append(remove);
      }
      list.append(item);
    }
  }

  // --- network ---------------------------------------------------------------------------------

  function csrfToken() {
    const cookie = document.cookie.split("; ").find((c) => c.startsWith("csrftoken="));
    return cookie ? decodeURIComponent(cookie.slice("csrftoken=".length)) : root.dataset.csrf;
  }

  function payload(entry) {
    const body = { key: entry.key, household: entry.household, version: entry.version,
      recorded_at: entry.recorded_at, answers: {}, household_updates: {} };
    for (const [name, value] of Object.entries(entry.values)) {
      if (name.startsWith("q_")) { if (value) body.answers[name.slice(2)] = value; }
      else if (name.startsWith("h_")) { if (value) body.household_updates[name.slice(2)] = value === "true"; }
      else body[name] = value;
    }
    return body;
  }

  function errorText(data) {
    if (!data || typeof data !== "object") return "";
    if (data.detail) return String(data.detail);
    return Object.values(data).flat().map(String).join(msg("separator"));
  }

  async function syncEntry(entry) {
    let response;
    try {
      response = await fetch(root.dataset.sync, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrfToken() },
        body: JSON.stringify(payload(entry)),
      });
    } catch (error) {
      return false; // no signal after all: the entry stays in the queue
    }
    const data = await response.json().catch(() => null);
    if (response.status === 201 || response.status === 200) {
      entry.state = response.status === 201 ? "applied" : "replayed";
      entry.message = "";
      entry.visit = data.visit.id;
      await putEntry(entry);
      await householdSaved(entry, data.version);
    } else if (response.status === 409) {
      entry.state = "conflict";
      entry.message = data.detail;
      entry.conflict = { mine: data.mine, server: data.server, changes: data.changes };
      await putEntry(entry);
    } else if (response.status === 403 && data && data.code === "out_of_scope") {
      entry.state = "refused";
      entry.message = data.detail;
      await putEntry(entry);
    } else if (response.status === 400) {
      entry.state = "invalid";
      entry.message = errorText(data);
      await putEntry(entry);
    } else {
      // Signed out, session expired, CSRF refused, server busy: keep the entry, say why.
      $("[data-status]").textContent = msg("signed-out");
      return false;
    }
    return true;
  }

  async function householdSaved(entry, version) {
    // The version moved by this user's own entry: later entries of this phone for the same
    // household were recorded on top of it, so they carry the new version.
    for (const other of await allEntries()) {
      if (other.state === "pending" && other.household === entry.household && other.version === entry.version) {
        other.version = version;
        await putEntry(other);
      }
    }
    if (bundle) {
      const household = bundle.households.find((h) => h.id === entry.household);
      if (household) {
        household.version = version;
        await putBundle(bundle);
      }
    }
  }

  async function sync() {
    if (syncing || !navigator.onLine) return;
    syncing = true;
    root.dataset.syncing = "1";
    try {
      const pending = (await allEntries())
        .filter((e) => e.state === "pending")
        .sort((a, b) => a.recorded_at.localeCompare(b.recorded_at));
      for (const { key } of pending) {
        // Read again: an entry applied before it may have moved this one's version.
        const entry = await store("entries", "readonly", (s) => s.get(key));
        if (!entry || entry.state !== "pending") continue;
        if (!(await syncEntry(entry))) break;
      }
    } finally {
      syncing = false;
      root.dataset.syncing = "0";
      await showQueue();
    }
  }

  async function download() {
    if (!navigator.onLine) return;
    try {
      const response = await fetch(root.dataset.bundle, { credentials: "same-origin", headers: { Accept: "application/json" } });
      if (!response.ok) return;
      const data = await response.json();
      if (data.user_key !== userKey) return; // never file one user's data under another's key
      bundle = data;
      await putBundle(bundle);
    } catch (error) {
      // offline: keep what the phone has
    }
  }

  async function start() {
    db = await openDatabase();
    bundle = (await getBundle()) || null;
    await download();
    showStatus();
    showHouseholds();
    await showQueue();
    keepPageForUser().then(() => { root.dataset.cached = "1"; }, () => {});
    $("[data-filter]").addEventListener("input", showHouseholds);
    $("[data-visit-form]").addEventListener("submit", saveForm);
    $("[data-cancel]").addEventListener("click", closeForm);
    $("[data-sync-now]").addEventListener("click", sync);
    window.addEventListener("online", () => { showStatus(); download().then(showHouseholds).then(sync); });
    window.addEventListener("offline", showStatus);
    await sync();
    root.dataset.ready = "1";
  }

  start();
})();
