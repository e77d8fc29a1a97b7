/* 离线走访 (docs/offline.md): the visit form, a clue's 入户核实 and the 集中排查表 without signal.

   - The bundle (the user's households, scoped and masked by the server, each with its version,
     and the visit form's definition) is downloaded when online and kept in IndexedDB, in the
     database `pa-offline-<user key>`; the page itself is kept in the cache of the same name.
   - Each visit is saved on the phone as an entry with its own key (a UUID, the idempotency key)
     and the household's version; the queue shows 待同步 n 条 and each entry's result.
   - Sync, when online: one POST per entry; 201/200 applied (200: applied before, not again),
     409 a conflict shown with both versions for the user to decide, 403 refused with the
     server's message (the household left the user's scope), 400 the server's errors.
   - One queue for every kind of entry; each kind (KINDS below: visit, clue_verify, sweep, step) says
     where its records and form come from in the bundle, how an entry is labelled and posted.
   - Photos (visit, 入户核实): offline-photos.js adds the input, keeps them in the entry, uploads
     them after the entry is applied; an entry with a photo still waiting is not synced yet.
   - Another user's databases on this phone are never opened: the page deletes those with
     nothing left to sync and leaves the others unread (docs/offline.md, "A second user").
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
  let monitoring = null; // the clues and sweep households (monitoring bundle), or null for a helper
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
  const getMonitoring = () => store("bundle", "readonly", (s) => s.get("monitoring"));
  const putMonitoring = (value) => store("bundle", "readwrite", (s) => s.put(value, "monitoring"));
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

  // --- the kinds of entry --------------------------------------------------------------------
  // Each kind: its records and form in the bundles, the label of a record, the line under it,
  // the URL its entries are posted to and how (JSON or multipart), the date shown in the queue.
  // A kind's own rules live in its section; the queue, the form and the sync are shared.

  // -- 走访 (遍访问卷): the households of the assistance bundle --
  const visitKind = {
    records: () => (bundle ? bundle.households : []),
    form: () => (bundle ? bundle.form : []),
    label: householdLabel,
    line: (h) => `${h.village} · ${h.status} · ${msg("last-visit")} ${h.last_visit || "—"}`,
    matches: (h, term) => h.number.includes(term) || h.head_name.includes(term),
    url: () => root.dataset.sync,
    date: (values) => values.date,
    body(entry) {
      const body = { key: entry.key, household: entry.household, version: entry.version,
        recorded_at: entry.recorded_at, answers: {}, household_updates: {} };
      for (const [name, value] of Object.entries(entry.values)) {
        if (name.startsWith("q_")) { if (value) body.answers[name.slice(2)] = value; }
        else if (name.startsWith("h_")) { if (value) body.household_updates[name.slice(2)] = value === "true"; }
        else body[name] = value;
      }
      return JSON.stringify(body);
    },
    mine: (conflict) => conflict.mine.household_updates || {},
    fieldName: (name) => "h_" + name,
  };

  // -- 入户核实 of a clue: the clues waiting in the monitoring bundle; the 承诺授权 photo --
  const clueKind = {
    records: () => (monitoring ? monitoring.clues : []),
    form: () => (monitoring && monitoring.forms.clue_verify) || [],
    label: (c) => [c.reference, c.name, c.id_number].filter(Boolean).join(" "),
    line: (c) => `${c.village} · ${c.risk} · ${msg("verify-due")} ${c.verify_due}`,
    matches: (c, term) => c.name.includes(term) || c.reference.includes(term),
    url: () => root.dataset.syncClue,
    date: (values) => values.verified_on,
    // The online rule: a 入户核实 needs the signed 承诺授权 scan unless the clue has one on
    // file, so the entry carries the photo taken on the phone or is not saved.
    check(record, values) {
      if (!record.consent_on_file && !(values.consent instanceof Blob)) return { consent: msg("consent-required") };
      return {};
    },
    body(entry) {
      const body = new FormData();
      for (const [name, value] of Object.entries({ key: entry.key, record: entry.household, version: entry.version, recorded_at: entry.recorded_at })) body.append(name, value);
      for (const [name, value] of Object.entries(entry.values)) {
        if (value instanceof Blob) body.append(name, value, value.name || "consent.jpg");
        else if (value !== "" && value !== null) body.append(name, value);
      }
      return body;
    },
    mine: (conflict) => conflict.mine.fields || {},
    fieldName: (name) => name,
  };

  // -- 集中排查表: the sweep households waiting in the monitoring bundle --
  const sweepKind = {
    records: () => (monitoring ? monitoring.sweep_households : []),
    form: () => (monitoring && monitoring.forms.sweep) || [],
    label: householdLabel,
    line: (r) => `${r.village} · ${r.sweep} (${r.start} – ${r.end})`,
    matches: (r, term) => r.number.includes(term) || r.head_name.includes(term),
    url: () => root.dataset.syncSweep,
    date: (values) => values.visited_on,
    body(entry) {
      const body = { key: entry.key, record: entry.household, version: entry.version, recorded_at: entry.recorded_at };
      for (const [name, value] of Object.entries(entry.values)) if (value !== "") body[name] = value;
      return JSON.stringify(body);
    },
    mine: (conflict) => conflict.mine.fields || {},
    fieldName: (name) => name,
  };

  // -- 入户核实 step of a procedure (识别, 退出, 监测对象识别): the cases at that step --
  const stepKind = {
    records: () => (monitoring && monitoring.steps) || [],
    form: () => (monitoring && monitoring.forms.step) || [],
    label: (c) => [c.number, c.head_name].filter(Boolean).join(" "),
    line: (c) => `${c.village} · ${c.procedure} · ${c.step_label}${c.deadline ? " · " + msg("deadline") + " " + c.deadline : ""}`,
    matches: (c, term) => c.number.includes(term) || c.head_name.includes(term),
    url: () => root.dataset.syncStep,
    date: (values) => values.acted_on,
    extra: (c) => ({ step: c.step }),
    body(entry) {
      const body = { key: entry.key, record: entry.household, version: entry.version, recorded_at: entry.recorded_at, ...entry.extra };
      for (const [name, value] of Object.entries(entry.values)) if (value !== "") body[name] = value;
      return JSON.stringify(body);
    },
    mine: (conflict) => conflict.mine.fields || {},
    fieldName: (name) => name,
  };

  const KINDS = { visit: visitKind, clue_verify: clueKind, sweep: sweepKind, step: stepKind };
  const kindOf = (entry) => KINDS[entry.kind || "visit"];

  function showStatus() {
    const status = $("[data-status]");
    const online = navigator.onLine;
    status.classList.toggle("is-offline", !online);
    let text = online ? msg("online") : msg("offline");
    if (bundle) text += " · " + msg("downloaded") + " " + new Date(bundle.generated_at).toLocaleString();
    else text += " · " + msg("no-bundle");
    status.textContent = text;
    root.dataset.online = online ? "1" : "0";
    const capped = [];
    if (bundle && bundle.capped) capped.push(bundle.capped);
    for (const part of Object.values((monitoring && monitoring.capped) || {})) capped.push(part);
    const note = $("[data-capped]");
    note.hidden = !capped.length;
    note.textContent = capped.map((c) => msg("capped").replace("{kept}", c.kept).replace("{total}", c.total)).join(" ");
  }

  function showRecords(kindName) {
    const kind = KINDS[kindName];
    const section = $(`[data-records-section="${kindName}"]`);
    const list = section.querySelector("[data-records]");
    list.replaceChildren();
    const all = kind.records();
    if (kindName !== "visit") section.hidden = !(monitoring && monitoring.forms[kindName]);
    if (kindName === "visit" && !bundle) return;
    const filter = section.querySelector("[data-filter]");
    const term = filter ? filter.value.trim() : "";
    const rows = all.filter((r) => !term || kind.matches(r, term));
    for (const record of rows.slice(0, 200)) {
      const button = element("button", { type: "button", text: msg("record-" + kindName), "data-record": record.id });
      button.addEventListener("click", () => openForm(kindName, record));
      const who = element("span", { class: "who" },
        element("strong", { text: kind.label(record) }),
        element("br"),
        element("span", { class: "muted small", text: kind.line(record) }));
      list.append(element("li", { "data-household": kindName === "visit" ? record.id : null, "data-item": record.id }, who, button));
    }
    if (!rows.length) list.append(element("li", { class: "muted", text: msg("empty-" + kindName) }));
  }

  function showAllRecords() {
    for (const name of Object.keys(KINDS)) showRecords(name);
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
    if (field.kind === "number") return element("input", { ...common, type: "text", inputmode: "decimal" });
    if (field.kind === "file") return element("input", { ...common, type: "file", accept: "image/*,application/pdf", capture: "environment" });
    if (field.kind === "multi") {
      const box = element("div", { ...common, id: null, role: "group", "aria-labelledby": id + "-label" });
      field.choices.forEach(([value, text], index) => {
        const input = element("input", { type: "checkbox", id: `${id}-${index}`, value });
        box.append(element("span", { class: "choice" }, input, " ", element("label", { for: input.id, text })));
      });
      return box;
    }
    if (field.kind === "choice") {
      const select = element("select", common);
      if (!field.choices.some(([value]) => value === "")) select.append(element("option", { value: "", text: "—" }));
      for (const [value, text] of field.choices) select.append(element("option", { value, text }));
      return select;
    }
    if (field.kind === "date") return element("input", { ...common, type: "date", value: today() });
    return element("input", { ...common, type: "text" });
  }

  function fieldValue(field, input) {
    if (field.kind === "checkbox") return input.checked;
    if (field.kind === "file") return input.files && input.files[0] ? input.files[0] : null;
    if (field.kind === "multi") return Array.from(input.querySelectorAll("input:checked"), (box) => box.value);
    return input.value.trim();
  }

  let formKind = null;
  let formRecord = null;
  function openForm(kindName, record) {
    formKind = kindName;
    formRecord = record;
    const fields = $("[data-fields]");
    fields.replaceChildren();
    for (const field of KINDS[kindName].form()) {
      const input = fieldInput(field);
      const label = element(field.kind === "multi" ? "span" : "label", { for: field.kind === "multi" ? null : input.id, id: "offline-" + field.name + "-label", class: field.kind === "multi" ? "label" : null, text: field.label + (field.required ? " *" : "") });
      const wrapper = element("div", { class: "offline-field" + (field.kind === "checkbox" ? " is-checkbox" : ""), "data-field": field.name });
      if (field.kind === "checkbox") wrapper.append(input, " ", label);
      else wrapper.append(label, input);
      if (field.help) wrapper.append(element("p", { class: "help small", text: field.help }));
      wrapper.append(element("p", { class: "errorlist", hidden: true }));
      fields.append(wrapper);
    }
    if (window.OfflinePhotos) window.OfflinePhotos.attach(fields, kindName);
    $("[data-visit-kind]").textContent = msg("title-" + kindName);
    $("[data-visit-household]").textContent = KINDS[kindName].label(record);
    $("[data-visit-section]").hidden = false;
    $("[data-visit-section]").scrollIntoView();
  }

  function closeForm() {
    formKind = null;
    formRecord = null;
    $("[data-visit-section]").hidden = true;
  }

  async function saveForm(event) {
    event.preventDefault();
    const kind = KINDS[formKind];
    const values = {};
    const problems = {};
    for (const field of kind.form()) {
      const value = fieldValue(field, $(`[data-name="${field.name}"]`));
      const empty = value === "" || value === null || (Array.isArray(value) && !value.length);
      if (field.required && (field.kind === "checkbox" ? !value : empty)) problems[field.name] = msg("required");
      values[field.name] = value;
    }
    Object.assign(problems, kind.check ? kind.check(formRecord, values) : {});
    let first = null;
    for (const field of kind.form()) {
      const wrapper = $(`[data-field="${field.name}"]`);
      const error = wrapper.querySelector(".errorlist");
      error.hidden = !problems[field.name];
      error.textContent = problems[field.name] || "";
      if (problems[field.name] && !first) first = wrapper.querySelector("input, select, textarea");
    }
    if (first) {
      first.focus();
      return;
    }
    const entry = {
      key: crypto.randomUUID ? crypto.randomUUID() : fallbackUuid(),
      kind: formKind,
      household: formRecord.id,
      label: kind.label(formRecord),
      version: formRecord.version,
      extra: kind.extra ? kind.extra(formRecord) : {},
      recorded_at: new Date().toISOString(),
      values,
      photos: window.OfflinePhotos ? await window.OfflinePhotos.collect($("[data-fields]")) : [],
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
    if (Array.isArray(value)) return value.join(msg("separator"));
    return String(value);
  }

  function compareTable(entry) {
    const kind = kindOf(entry);
    const labels = { state: msg("state") };
    for (const field of kind.form()) labels[field.name] = field.label;
    const table = element("table", { class: "offline-compare" });
    table.append(element("tr", {}, element("th", { text: "" }), element("th", { text: msg("mine") }), element("th", { text: msg("server") })));
    const mine = kind.mine(entry.conflict);
    for (const [name, server] of Object.entries(entry.conflict.server.fields)) {
      const label = labels[kind.fieldName(name)] || labels[name] || name;
      const mineValue = name in mine ? shownValue(mine[name]) : msg("unchanged");
      table.append(element("tr", { "data-compare": name }, element("th", { text: label }), element("td", { text: mineValue }), element("td", { text: shownValue(server) })));
    }
    return table;
  }

  async function showQueue() {
    const entries = (await allEntries()).sort((a, b) => a.recorded_at.localeCompare(b.recorded_at));
    $("[data-pending-count]").textContent = String(entries.filter(unsynced).length);
    const list = $("[data-queue]");
    list.replaceChildren();
    for (const entry of entries) {
      const kind = kindOf(entry);
      const item = element("li", { "data-entry": entry.key, "data-kind": entry.kind || "visit", "data-state": entry.state },
        element("span", { text: `${msg("title-" + (entry.kind || "visit"))} · ${entry.label} · ${kind.date(entry.values) || ""}` }));
      const text = { pending: msg("pending"), applied: msg("applied"), replayed: msg("replayed"),
        conflict: msg("conflict"), refused: msg("refused"), invalid: msg("invalid") }[entry.state];
      item.append(element("span", { class: "result result-" + entry.state, "data-result": true,
        text: entry.message ? `${text}${msg("colon")}${entry.message}` : text }));
      if (entry.state === "conflict") {
        const who = (entry.conflict.changes || []).map((c) => c.who).find(Boolean) || entry.conflict.server.who;
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
      const photos = window.OfflinePhotos && window.OfflinePhotos.describe(entry, async (changed) => {
        await putEntry(changed);
        await showQueue();
      });
      if (photos) item.append(photos);
      list.append(item);
    }
  }

  // Waiting to sync: the entry itself, or (offline-photos.js) one of its photos.
  const photosWaiting = (entry) => Boolean(window.OfflinePhotos && window.OfflinePhotos.waiting(entry));
  const unsynced = (entry) => entry.state === "pending" || photosWaiting(entry);

  // --- network ---------------------------------------------------------------------------------

  function csrfToken() {
    const cookie = document.cookie.split("; ").find((c) => c.startsWith("csrftoken="));
    return cookie ? decodeURIComponent(cookie.slice("csrftoken=".length)) : root.dataset.csrf;
  }

  function errorText(data) {
    if (!data || typeof data !== "object") return "";
    if (data.detail) return String(data.detail);
    return Object.values(data).flat().map(String).join(msg("separator"));
  }

  async function syncEntry(entry) {
    let response;
    try {
      const body = kindOf(entry).body(entry);
      const headers = { Accept: "application/json", "X-CSRFToken": csrfToken() };
      if (typeof body === "string") headers["Content-Type"] = "application/json";
      response = await fetch(kindOf(entry).url(), { method: "POST", credentials: "same-origin", headers, body });
    } catch (error) {
      return false; // no signal after all: the entry stays in the queue
    }
    const data = await response.json().catch(() => null);
    if (response.status === 201 || response.status === 200) {
      entry.state = response.status === 201 ? "applied" : "replayed";
      entry.message = "";
      if (data.visit) entry.visit = data.visit.id;
      await putEntry(entry);
      await recordSaved(entry, data.version);
      return uploadPhotos(entry);
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

  async function uploadPhotos(entry) {
    // The entry is applied: its photos go up now, each under its own key (offline-photos.js).
    if (!photosWaiting(entry)) return true;
    const done = await window.OfflinePhotos.upload(entry, csrfToken());
    await putEntry(entry);
    return done;
  }

  async function recordSaved(entry, version) {
    // The version moved by this user's own entry: later entries of this phone for the same
    // record were recorded on top of it, so they carry the new version.
    const kindName = entry.kind || "visit";
    for (const other of await allEntries()) {
      if (other.state === "pending" && (other.kind || "visit") === kindName && other.household === entry.household && other.version === entry.version) {
        other.version = version;
        await putEntry(other);
      }
    }
    const record = KINDS[kindName].records().find((r) => r.id === entry.household);
    if (record) {
      record.version = version;
      if (kindName === "visit") await putBundle(bundle);
      else await putMonitoring(monitoring);
    }
  }

  async function sync() {
    if (syncing || !navigator.onLine) return;
    syncing = true;
    root.dataset.syncing = "1";
    try {
      const pending = (await allEntries())
        .filter(unsynced)
        .sort((a, b) => a.recorded_at.localeCompare(b.recorded_at));
      for (const { key } of pending) {
        // Read again: an entry applied before it may have moved this one's version.
        const entry = await store("entries", "readonly", (s) => s.get(key));
        if (!entry || !unsynced(entry)) continue;
        // Applied before, photos still waiting: only the photos go up.
        const done = entry.state === "pending" ? await syncEntry(entry) : await uploadPhotos(entry);
        if (!done) break;
      }
    } finally {
      syncing = false;
      root.dataset.syncing = "0";
      await showQueue();
    }
  }

  async function fetchBundle(url) {
    const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
    if (!response.ok) return { status: response.status };
    const data = await response.json();
    // Never file one user's data under another's key.
    return data.user_key === userKey ? { status: response.status, data } : { status: 0 };
  }

  async function download() {
    if (!navigator.onLine) return;
    try {
      const visits = await fetchBundle(root.dataset.bundle);
      if (visits.data) {
        bundle = visits.data;
        await putBundle(bundle);
      }
      // The monitoring part: 403 for a role that does neither form (a helper): nothing kept.
      const field = await fetchBundle(root.dataset.bundleMonitoring);
      if (field.data) {
        monitoring = field.data;
        await putMonitoring(monitoring);
      } else if (field.status === 403) {
        monitoring = null;
        await store("bundle", "readwrite", (s) => s.delete("monitoring"));
      }
    } catch (error) {
      // offline: keep what the phone has
    }
  }

  // --- a second user on this phone -------------------------------------------------------------
  // Only this user's database is opened. Another user's (a phone handed on without signing
  // out) is deleted with its page cache when nothing in it waits to sync; one holding entries
  // not yet synced is left unopened, for its owner's next sign-in here (docs/offline.md).

  function unsyncedIn(name) {
    return new Promise((resolve) => {
      const request = indexedDB.open(name);
      request.onerror = () => resolve(1);
      request.onsuccess = () => {
        const database = request.result;
        if (!database.objectStoreNames.contains("entries")) { database.close(); resolve(0); return; }
        const all = database.transaction("entries", "readonly").objectStore("entries").getAll();
        // Only the states are read: nothing of the entries is shown.
        all.onsuccess = () => { database.close(); resolve(all.result.filter((e) => (e.state !== "applied" && e.state !== "replayed") || (e.photos || []).some((p) => p.state === "pending")).length); };
        all.onerror = () => { database.close(); resolve(1); };
      };
    });
  }

  async function forgetOtherUsers() {
    if (!window.indexedDB || !indexedDB.databases) return;
    for (const { name } of await indexedDB.databases()) {
      if (!name || !name.startsWith("pa-offline-") || name === DB_NAME) continue;
      if ((await unsyncedIn(name)) > 0) continue;
      await new Promise((resolve) => {
        const request = indexedDB.deleteDatabase(name);
        request.onsuccess = request.onerror = request.onblocked = () => resolve();
      });
      if (window.caches) await caches.delete(name);
    }
  }

  async function start() {
    await forgetOtherUsers().catch(() => {});
    db = await openDatabase();
    bundle = (await getBundle()) || null;
    monitoring = (await getMonitoring()) || null;
    await download();
    showStatus();
    showAllRecords();
    await showQueue();
    keepPageForUser().then(() => { root.dataset.cached = "1"; }, () => {});
    for (const name of Object.keys(KINDS)) {
      const filter = $(`[data-records-section="${name}"] [data-filter]`);
      if (filter) filter.addEventListener("input", () => showRecords(name));
    }
    $("[data-visit-form]").addEventListener("submit", saveForm);
    $("[data-cancel]").addEventListener("click", closeForm);
    $("[data-sync-now]").addEventListener("click", sync);
    window.addEventListener("online", () => { showStatus(); download().then(showAllRecords).then(sync); });
    window.addEventListener("offline", showStatus);
    await sync();
    root.dataset.ready = "1";
  }

  start();
})();
