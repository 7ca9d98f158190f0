// The SharpSeek web chat: conversations live on the server (SQLite); answers stream over SSE.
(() => {
  const $ = id => document.getElementById(id);
  const svg = d => `<svg viewBox="0 0 24 24" aria-hidden="true">${d}</svg>`;
  const icons = {
    copy: svg('<rect x="9" y="9" width="11" height="11" rx="2"/><path d="M5 15V6a2 2 0 0 1 2-2h9"/>'),
    check: svg('<path d="M5 12l5 5 9-10"/>'),
    edit: svg('<path d="M16.5 3.5a2.1 2.1 0 1 1 3 3L7 19l-4 1 1-4z"/>'),
    regenerate: svg('<path d="M20 11a8 8 0 1 0-2.3 5.7M20 4v7h-7"/>'),
    rename: svg('<path d="M12 20h9M16.5 3.5a2.1 2.1 0 1 1 3 3L7 19l-4 1 1-4z"/>'),
    trash: svg('<path d="M4 7h16M10 11v6M14 11v6M6 7l1 12a2 2 0 0 0 2 2h6a2 2 0 0 0 2-2l1-12M9 7V4h6v3"/>'),
  };
  let current = null, controller = null, models = [];

  // ---- API key. With `serve --api-key` every call below /app and /v1 needs "Authorization: Bearer KEY" (the page itself
  // does not). The key is asked for on the first 401, kept in localStorage, and can be changed or forgotten.
  const KEY = "sharpseek-api-key";
  let asking = null;

  function showKeyDialog(message, error) {
    $("key-message").textContent = message;
    $("key-error").textContent = error ?? "";
    $("key-input").value = localStorage.getItem(KEY) ?? "";
    $("key-dialog").hidden = false;
    $("key-input").focus();
  }

  // Resolves once the user saves a key; calls that got a 401 meanwhile all wait on the same prompt.
  function askKey(error) {
    const had = localStorage.getItem(KEY);
    showKeyDialog("This server needs an API key.", had ? error : "");
    if (!asking) {
      let resolve;
      asking = new Promise(r => { resolve = r; });
      asking.resolve = resolve;
    }
    return asking;
  }

  $("key-form").onsubmit = e => {
    e.preventDefault();
    const key = $("key-input").value.trim();
    if (!key) { $("key-error").textContent = "Enter a key."; return; }
    localStorage.setItem(KEY, key);
    $("key-dialog").hidden = true;
    const pending = asking;
    asking = null;
    if (pending) pending.resolve(); else { loadList().catch(() => {}); loadModels().catch(() => {}); }
  };
  $("key-clear").onclick = () => {
    localStorage.removeItem(KEY);
    $("key-input").value = "";
    $("key-error").textContent = "Key forgotten.";
  };
  $("key-cancel").onclick = () => { if (!asking) $("key-dialog").hidden = true; };
  $("key-button").onclick = () => showKeyDialog("The key this browser sends to the server.");

  // fetch with the stored key; on 401 asks for a key and tries again.
  async function authed(path, options = {}) {
    for (;;) {
      const key = localStorage.getItem(KEY);
      const headers = { "Content-Type": "application/json", ...(key ? { Authorization: `Bearer ${key}` } : {}) };
      const r = await fetch(path, { ...options, headers });
      if (r.status !== 401) return r;
      const message = (await r.json().catch(() => null))?.error?.message ?? "Incorrect API key";
      await askKey(message);
    }
  }

  async function api(path, options) {
    const r = await authed(path, options);
    if (!r.ok && r.status !== 204) throw new Error((await r.json().catch(() => null))?.error?.message ?? r.statusText);
    return r.status === 204 ? null : r.json();
  }

  // ---- Small helpers: a toast, the clipboard, a confirm/prompt dialog.
  let toastTimer = 0;
  function toast(text) {
    $("toast").textContent = text;
    $("toast").hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => { $("toast").hidden = true; }, 1600);
  }

  // The async clipboard needs a secure context (https or localhost); a server opened by its LAN address falls back to execCommand.
  async function copyText(text) {
    try {
      await navigator.clipboard.writeText(text);
      return true;
    } catch {
      const area = document.createElement("textarea");
      area.value = text;
      area.style.cssText = "position:fixed;opacity:0";
      document.body.append(area);
      area.select();
      const ok = document.execCommand("copy");
      area.remove();
      return ok;
    }
  }

  // Resolves to true (or the typed text when `value` is given) on OK, null on Cancel or Escape.
  function ask({ title, text = "", ok, danger = false, value }) {
    const dialog = $("confirm"), input = $("confirm-input");
    $("confirm-title").textContent = title;
    $("confirm-text").textContent = text;
    $("confirm-text").hidden = !text;
    $("confirm-ok").textContent = ok;
    $("confirm-ok").className = danger ? "danger" : "primary";
    input.hidden = value === undefined;
    input.value = value ?? "";
    dialog.returnValue = "";
    dialog.showModal();
    if (value !== undefined) { input.focus(); input.select(); } else $("confirm-ok").focus();
    // A dialog's close event comes a moment after it closed: if it was opened again meanwhile (Cancel, then Delete at
    // once), that event is the earlier opening's and must not answer this one.
    return new Promise(resolve => {
      const onClose = () => {
        if (dialog.open) return;
        dialog.removeEventListener("close", onClose);
        resolve(dialog.returnValue !== "ok" ? null : value === undefined ? true : input.value.trim() || null);
      };
      dialog.addEventListener("close", onClose);
    });
  }
  $("confirm-input").onkeydown = e => { if (e.key === "Enter") { e.preventDefault(); $("confirm").close("ok"); } };

  // ---- Settings, kept in this browser.
  const SETTINGS = "sharpseek-settings";
  const defaults = { system: "", temperature: 0.6, maxTokens: 2048, think: true, model: "" };
  let settings = { ...defaults, ...JSON.parse(localStorage.getItem(SETTINGS) ?? "{}") };
  function saveSettings() {
    localStorage.setItem(SETTINGS, JSON.stringify(settings));
    $("think").checked = settings.think;
    $("model").value = settings.model;
  }
  function fillSettings(s) {
    $("set-system").value = s.system;
    $("set-temperature").value = s.temperature;
    $("set-temperature-value").textContent = Number(s.temperature).toFixed(2);
    $("set-max-tokens").value = s.maxTokens;
    $("set-think").checked = s.think;
    $("set-model").value = s.model;
  }
  // The model list is read again each time: a server may load or unload models while the page is open.
  $("settings-button").onclick = async () => {
    closeDrawer();
    await loadModels().catch(() => {});
    fillSettings(settings);
    $("settings").showModal();
  };
  $("set-temperature").oninput = () => { $("set-temperature-value").textContent = Number($("set-temperature").value).toFixed(2); };
  $("settings-reset").onclick = () => fillSettings({ ...defaults, model: models[0] ?? "" });
  $("settings-form").onsubmit = e => {
    const max = Math.floor(Number($("set-max-tokens").value));
    if (!(max >= 1)) { e.preventDefault(); $("set-max-tokens").focus(); toast("Max tokens must be at least 1"); return; }
    settings = {
      system: $("set-system").value.trim(),
      temperature: Math.min(2, Math.max(0, Number($("set-temperature").value))),
      maxTokens: max,
      think: $("set-think").checked,
      model: $("set-model").value,
    };
    saveSettings();
  };
  $("think").onchange = () => { settings.think = $("think").checked; saveSettings(); };
  $("model").onchange = () => { settings.model = $("model").value; saveSettings(); };

  // The models this server serves, from /v1/models: aliases name their model in "root", so each model is listed once.
  // The picker shows only when there is a choice.
  async function loadModels() {
    const list = await api("/v1/models");
    models = [...new Set(list.data.map(m => m.root ?? m.id))];
    for (const select of [$("model"), $("set-model")]) {
      select.replaceChildren(...models.map(name => Object.assign(document.createElement("option"), { value: name, textContent: name })));
    }
    if (!models.includes(settings.model)) settings.model = models[0] ?? "";
    const several = models.length > 1;
    $("model").hidden = !several;
    $("model-setting").hidden = !several;
    saveSettings();
  }

  // ---- The sidebar (a drawer on phones).
  const closeDrawer = () => { document.body.classList.remove("drawer-open"); $("backdrop").hidden = true; };
  $("menu").onclick = () => { document.body.classList.add("drawer-open"); $("backdrop").hidden = false; };
  $("backdrop").onclick = closeDrawer;
  $("close-sidebar").onclick = closeDrawer;
  document.addEventListener("keydown", e => { if (e.key === "Escape") closeDrawer(); });

  // Calls can overlap (an answer's end refreshes the list while a delete does too): only the latest call's list is
  // shown, so a list fetched before a delete cannot put the deleted chat back.
  let listCalls = 0;
  async function loadList() {
    const call = ++listCalls;
    const list = await api("/app/conversations");
    if (call !== listCalls) return;
    const ul = $("conversations");
    ul.replaceChildren();
    for (const c of list) {
      const li = document.createElement("li");
      li.dataset.id = c.id;
      if (c.id === current) li.classList.add("active");
      const name = document.createElement("span");
      name.className = "name";
      name.textContent = c.title;
      name.title = c.title;
      const rename = document.createElement("button");
      rename.className = "rename"; rename.type = "button"; rename.title = "Rename"; rename.setAttribute("aria-label", "Rename"); rename.innerHTML = icons.rename;
      rename.onclick = async e => {
        e.stopPropagation();
        const title = await ask({ title: "Rename chat", ok: "Save", value: c.title });
        if (!title) return;
        await api(`/app/conversations/${c.id}`, { method: "PATCH", body: JSON.stringify({ title }) });
        if (current === c.id) $("title").textContent = title;
        await loadList();
      };
      const del = document.createElement("button");
      del.className = "delete"; del.type = "button"; del.title = "Delete"; del.setAttribute("aria-label", "Delete"); del.innerHTML = icons.trash;
      del.onclick = async e => {
        e.stopPropagation();
        if (!await ask({ title: "Delete chat?", text: `“${c.title}” and all its messages will be deleted.`, ok: "Delete", danger: true })) return;
        await api(`/app/conversations/${c.id}`, { method: "DELETE" });
        if (current === c.id) newChat();
        await loadList();
      };
      li.append(name, rename, del);
      li.onclick = () => { closeDrawer(); if (c.id !== current || !controller) open(c.id); };
      ul.append(li);
    }
  }

  // ---- Messages.
  const messages = $("messages");
  const nearBottom = () => messages.scrollHeight - messages.scrollTop - messages.clientHeight < 120;
  const scrollDown = () => { messages.scrollTop = messages.scrollHeight; };
  function showEmpty() { $("empty").hidden = messages.querySelector(".msg") !== null; }

  function actionButton(kind, label, onclick) {
    const b = document.createElement("button");
    b.type = "button"; b.className = kind; b.title = label; b.setAttribute("aria-label", label); b.innerHTML = icons[kind === "copy" ? "copy" : kind];
    b.onclick = onclick;
    return b;
  }

  async function copyFrom(button, text) {
    if (await copyText(text)) {
      button.innerHTML = icons.check;
      toast("Copied");
      setTimeout(() => { button.innerHTML = icons.copy; }, 1500);
    } else toast("Could not copy");
  }

  // An element with a class and, optionally, its text.
  const make = (tag, className, text) => Object.assign(document.createElement(tag), { className }, text === undefined ? {} : { textContent: text });

  function messageDiv(role, id) {
    const div = make("div", `msg ${role}`);
    if (id) div.dataset.id = id;
    return div;
  }

  function userMessage(m) {
    const div = messageDiv("user", m.id);
    const bubble = make("div", "bubble", m.content);
    const actions = make("div", "actions");
    actions.append(
      actionButton("copy", "Copy", e => copyFrom(e.currentTarget, bubble.textContent)),
      actionButton("edit", "Edit", () => startEdit(div, bubble.textContent)));
    div.append(bubble, actions);
    return div;
  }

  function assistantMessage(m) {
    const div = messageDiv("assistant", m.id);
    const details = make("details", "thinking");
    details.hidden = !m.reasoning;
    details.append(make("summary", "", "Reasoning"), make("div", "body", m.reasoning ?? ""));
    const answer = make("div", "answer");
    answer.dataset.raw = m.content ?? "";
    answer.innerHTML = renderMarkdown(m.content ?? "");
    const actions = make("div", "actions");
    actions.append(
      actionButton("copy", "Copy", e => copyFrom(e.currentTarget, answer.dataset.raw)),
      actionButton("regenerate", "Regenerate", () => regenerate(div)),
      make("span", "meta"));
    div.append(details, answer, actions);
    return div;
  }

  function append(div) {
    const stick = nearBottom();
    messages.append(div);
    showEmpty();
    if (stick) scrollDown();
    return div;
  }

  // Only the last answer can be regenerated, and nothing is edited while an answer streams.
  function updateActions() {
    const all = [...messages.querySelectorAll(".msg")];
    for (const div of all) {
      const regen = div.querySelector(".regenerate");
      if (regen) regen.hidden = div !== all[all.length - 1];
      for (const b of div.querySelectorAll(".edit, .regenerate")) b.disabled = controller !== null;
    }
  }

  function setTitle(text) { $("title").textContent = text; document.title = text === "SharpSeek" ? "SharpSeek" : `${text} · SharpSeek`; }

  function newChat() {
    if (controller) controller.abort();
    current = null;
    history.pushState(null, "", location.pathname);
    messages.querySelectorAll(".msg").forEach(m => m.remove());
    showEmpty();
    setTitle("SharpSeek");
    closeDrawer();
    for (const li of $("conversations").children) li.classList.remove("active");
    $("input").focus();
  }

  async function open(id, push = true) {
    if (controller) controller.abort();
    const c = await api(`/app/conversations/${id}`);
    current = id;
    if (push && location.hash !== "#" + id) history.pushState(null, "", "#" + id);
    setTitle(c.title);
    messages.querySelectorAll(".msg").forEach(m => m.remove());
    for (const m of c.messages) {
      const div = m.role === "user" ? userMessage(m) : assistantMessage(m);
      if (m.role === "assistant") div.dataset.done = "stored";
      messages.append(div);
    }
    showEmpty();
    updateActions();
    scrollDown();
    await loadList();
  }

  // The server gives messages their ids; after an answer the page learns them (edit needs them). Both lists are in
  // order, and a question sent meanwhile only adds to the end of the page's, so the shared prefix matches.
  async function learnIds() {
    const id = current;
    const c = await api(`/app/conversations/${id}`);
    if (id !== current) return;
    const divs = [...messages.querySelectorAll(".msg")];
    c.messages.forEach((m, i) => { if (divs[i]) divs[i].dataset.id = m.id; });
  }

  function startEdit(div, text) {
    if (controller) return;
    const box = make("div", "edit-box"), area = make("textarea", "", text), buttons = make("div", "buttons");
    area.rows = Math.min(10, text.split("\n").length + 1);
    const cancel = Object.assign(make("button", "cancel", "Cancel"), { type: "button" });
    const save = Object.assign(make("button", "primary send-edit", "Send"), { type: "button" });
    buttons.append(cancel, save);
    box.append(area, buttons);
    const bubble = div.querySelector(".bubble"), actions = div.querySelector(".actions");
    bubble.hidden = true; actions.hidden = true;
    div.append(box);
    area.focus();
    cancel.onclick = () => { box.remove(); bubble.hidden = false; actions.hidden = false; };
    save.onclick = () => {
      const edited = area.value.trim();
      if (!edited) return;
      // The edited question and everything after it go; the conversation goes on from the new question.
      const id = Number(div.dataset.id);
      let next;
      for (let n = div; n; n = next) { next = n.nextElementSibling; n.remove(); }
      send(edited, { edit: id });
    };
    area.onkeydown = e => {
      if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); save.click(); }
      if (e.key === "Escape") { e.stopPropagation(); cancel.click(); }
    };
  }

  function regenerate(div) {
    if (controller) return;
    div.remove();
    send(null, { regenerate: true });
  }

  async function send(text, { edit, regenerate } = {}) {
    if (controller) return;
    controller = new AbortController();
    $("send").hidden = true; $("stop").hidden = false;
    try {
      if (!current) {
        // The conversation is created, titled and listed before the answer starts.
        const title = text.length > 40 ? text.slice(0, 40) + "…" : text;
        const c = await api("/app/conversations", { method: "POST", body: JSON.stringify({ title }) });
        current = c.id;
        history.pushState(null, "", "#" + c.id);
        setTitle(c.title);
        await loadList();
      }
      if (!regenerate) append(userMessage({ content: text }));
      const div = append(assistantMessage({ content: "", reasoning: "" }));
      updateActions();
      await stream(div, { content: text ?? undefined, edit, regenerate: regenerate || undefined });
    } catch (e) {
      toast(e.message);
    } finally {
      controller = null;
      $("send").hidden = false; $("stop").hidden = true;
      updateActions();
    }
    await Promise.all([learnIds(), loadList()]).catch(() => {});
  }

  async function stream(div, request) {
    const details = div.querySelector("details"), thinking = details.querySelector(".body"), answer = div.querySelector(".answer");
    const summary = details.querySelector("summary"), meta = div.querySelector(".meta");
    const started = performance.now();
    let thoughtFor = null, pending = false;
    summary.textContent = "Thinking…";
    details.open = true;
    // Re-rendering the markdown once per frame keeps a fast stream smooth.
    const render = () => {
      if (pending) return;
      pending = true;
      requestAnimationFrame(() => {
        pending = false;
        const stick = nearBottom();
        answer.innerHTML = renderMarkdown(answer.dataset.raw);
        if (stick) scrollDown();
      });
    };
    const endThinking = () => {
      if (thoughtFor !== null) return;
      thoughtFor = (performance.now() - started) / 1000;
      summary.textContent = `Thought for ${thoughtFor < 10 ? thoughtFor.toFixed(1) : Math.round(thoughtFor)} s`;
    };
    try {
      const r = await authed(`/app/conversations/${current}/messages`, {
        method: "POST", signal: controller.signal,
        body: JSON.stringify({
          ...request,
          think: settings.think,
          system: settings.system || undefined,
          temperature: settings.temperature,
          max_tokens: settings.maxTokens,
          model: models.length > 1 ? settings.model : undefined,
        }),
      });
      if (!r.ok) throw new Error((await r.json().catch(() => null))?.error?.message ?? r.statusText);
      const reader = r.body.getReader(), decoder = new TextDecoder();
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += decoder.decode(value, { stream: true });
        let at;
        while ((at = buffer.indexOf("\n\n")) >= 0) {
          const line = buffer.slice(0, at); buffer = buffer.slice(at + 2);
          if (!line.startsWith("data: ")) continue;
          const e = JSON.parse(line.slice(6));
          if (e.reasoning) {
            details.hidden = false;
            const stick = nearBottom();
            thinking.textContent += e.reasoning;
            if (stick) scrollDown();
          }
          if (e.content) {
            if (!details.hidden) { endThinking(); details.open = false; }
            answer.dataset.raw += e.content;
            render();
          }
          if (e.done) {
            endThinking();
            details.open = false;
            meta.textContent = `${e.tokens} tokens${e.finish_reason === "length" ? " · cut at the limit" : ""}`;
            div.dataset.done = e.finish_reason;
          }
        }
      }
      if (!div.dataset.done) div.dataset.done = "stopped";
    } catch (e) {
      if (e.name === "AbortError") { div.dataset.done = "stopped"; meta.textContent = "stopped"; }
      else { div.dataset.done = "error"; div.classList.add("error"); answer.textContent = "Error: " + e.message; }
    } finally {
      if (details.hidden === false && thoughtFor === null) endThinking();
      answer.innerHTML = div.dataset.done === "error" ? answer.innerHTML : renderMarkdown(answer.dataset.raw);
    }
  }

  // Copy buttons on code blocks (rendered by markdown.js).
  messages.addEventListener("click", e => {
    const button = e.target.closest(".copy-code");
    if (!button) return;
    copyText(button.closest(".code-block").querySelector("code").innerText).then(ok => {
      button.textContent = ok ? "Copied" : "Failed";
      setTimeout(() => { button.textContent = "Copy"; }, 1500);
    });
  });

  // ---- The composer.
  const input = $("input");
  const grow = () => {
    input.style.height = "auto";
    input.style.height = Math.min(input.scrollHeight, 220) + "px";
    $("send").disabled = input.value.trim() === "";
  };
  input.oninput = grow;
  $("composer").onsubmit = e => {
    e.preventDefault();
    const text = input.value.trim();
    if (!text || controller) return;
    input.value = "";
    grow();
    send(text);
  };
  // Enter sends on a keyboard; on a touch screen it is a new line and the button sends.
  const touch = matchMedia("(pointer: coarse)").matches;
  input.onkeydown = e => { if (e.key === "Enter" && !e.shiftKey && !touch && !e.isComposing) { e.preventDefault(); $("composer").requestSubmit(); } };
  $("stop").onclick = () => controller?.abort();
  $("new-chat").onclick = newChat;
  $("new-chat-top").onclick = newChat;
  window.addEventListener("popstate", () => { const id = location.hash.slice(1); if (id) open(id, false).catch(() => newChat()); else newChat(); });

  if (!window.markdownLibraries) $("libraries-missing").hidden = false;
  $("think").checked = settings.think;
  grow();
  const start = location.hash.slice(1);
  (start ? open(start, false) : loadList()).catch(() => loadList().catch(() => {}));
  loadModels().catch(() => {});
})();
