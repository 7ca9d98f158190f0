// The SharpSeek web chat: conversations live on the server (SQLite); answers stream over SSE.
(() => {
  const $ = id => document.getElementById(id);
  let current = null, controller = null;

  // With `serve --api-key` every call below /app and /v1 needs "Authorization: Bearer KEY" (the page itself does not).
  // The key is asked for on the first 401, kept in localStorage, and can be changed or forgotten from the header.
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
    if (pending) pending.resolve(); else loadList().catch(() => {});
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
    if (!r.ok && r.status !== 204) throw new Error((await r.json()).error?.message ?? r.statusText);
    return r.status === 204 ? null : r.json();
  }

  async function loadList() {
    const list = await api("/app/conversations");
    const ul = $("conversations");
    ul.replaceChildren();
    for (const c of list) {
      const li = document.createElement("li");
      li.dataset.id = c.id;
      if (c.id === current) li.classList.add("active");
      const name = document.createElement("span");
      name.className = "name";
      name.textContent = c.title;
      const rename = document.createElement("button");
      rename.className = "rename"; rename.title = "Rename"; rename.textContent = "✎";
      rename.onclick = async e => {
        e.stopPropagation();
        const title = prompt("Rename conversation", c.title);
        if (title) { await api(`/app/conversations/${c.id}`, { method: "PATCH", body: JSON.stringify({ title }) }); await loadList(); }
      };
      const del = document.createElement("button");
      del.className = "delete"; del.title = "Delete"; del.textContent = "🗑";
      del.onclick = async e => {
        e.stopPropagation();
        await api(`/app/conversations/${c.id}`, { method: "DELETE" });
        if (current === c.id) { current = null; $("messages").replaceChildren(); location.hash = ""; }
        await loadList();
      };
      li.append(name, rename, del);
      li.onclick = () => open(c.id);
      ul.append(li);
    }
  }

  function bubble(role, content, reasoning) {
    const div = document.createElement("div");
    div.className = `msg ${role}`;
    if (role === "assistant") {
      const details = document.createElement("details");
      details.className = "thinking";
      details.hidden = !reasoning;
      const summary = document.createElement("summary");
      summary.textContent = "Thinking";
      const body = document.createElement("div");
      body.className = "body";
      body.textContent = reasoning ?? "";
      details.append(summary, body);
      const answer = document.createElement("div");
      answer.className = "answer";
      answer.dataset.raw = content ?? "";
      answer.innerHTML = renderMarkdown(content ?? "");
      div.append(details, answer);
    } else div.textContent = content;
    $("messages").append(div);
    div.scrollIntoView({ block: "end" });
    return div;
  }

  async function open(id) {
    current = id;
    location.hash = id;
    const c = await api(`/app/conversations/${id}`);
    $("title").textContent = c.title;
    $("messages").replaceChildren();
    for (const m of c.messages) bubble(m.role, m.content, m.reasoning);
    await loadList();
  }

  async function send(text) {
    if (!current) { const c = await api("/app/conversations", { method: "POST", body: "{}" }); current = c.id; location.hash = c.id; }
    bubble("user", text);
    const div = bubble("assistant", "", "");
    const details = div.querySelector("details"), thinking = details.querySelector(".body"), answer = div.querySelector(".answer");
    details.open = true;
    controller = new AbortController();
    $("send").hidden = true; $("stop").hidden = false;
    try {
      const r = await authed(`/app/conversations/${current}/messages`, {
        method: "POST", signal: controller.signal,
        body: JSON.stringify({ content: text, think: $("think").checked }),
      });
      if (!r.ok) throw new Error((await r.json()).error?.message ?? r.statusText);
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
          if (e.reasoning) { details.hidden = false; thinking.textContent += e.reasoning; }
          if (e.content) { details.open = false; answer.dataset.raw += e.content; answer.innerHTML = renderMarkdown(answer.dataset.raw); }
          if (e.done) div.dataset.done = e.finish_reason;
          div.scrollIntoView({ block: "end" });
        }
      }
    } catch (e) {
      if (e.name === "AbortError") div.dataset.done = "stopped";
      else { div.dataset.done = "error"; answer.textContent = "Error: " + e.message; }
    } finally {
      controller = null;
      $("send").hidden = false; $("stop").hidden = true;
      await loadList();
    }
  }

  $("composer").onsubmit = e => {
    e.preventDefault();
    const text = $("input").value.trim();
    if (!text || controller) return;
    $("input").value = "";
    send(text);
  };
  $("input").onkeydown = e => { if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); $("composer").requestSubmit(); } };
  $("stop").onclick = () => controller?.abort();
  $("new-chat").onclick = () => { current = null; location.hash = ""; $("messages").replaceChildren(); $("title").textContent = "SharpSeek"; loadList(); };

  const start = location.hash.slice(1);
  (start ? open(start) : loadList()).catch(() => loadList());
})();
