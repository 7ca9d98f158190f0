// Markdown for the answers, through the vendored libraries (wwwroot/vendor, copied from npm at build time):
// markdown-it (CommonMark with GitHub's tables and strikethrough), LaTeX with KaTeX through markdown-it-texmath
// ($…$, $$…$$, \(…\), \[…\]) plus a bare \boxed{…}, which reasoning models write without delimiters, and code blocks
// highlighted by highlight.js under a header with the language and a copy button. Raw HTML in an answer is shown as
// text (html: false), so model output can never inject markup; links open in a new tab.
(() => {
  const esc = s => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

  if (!(window.markdownit && window.katex && window.texmath && window.hljs)) {
    // A server built without npm: answers as escaped plain text, and the page says why (see app.js).
    window.markdownLibraries = false;
    window.renderMarkdown = src => `<p class="plain">${esc(src)}</p>`;
    return;
  }
  window.markdownLibraries = true;

  const md = window.markdownit({ html: false, linkify: true, typographer: false });
  // texmath sets displayMode on the options it is given, so \boxed gets an object of its own.
  md.use(window.texmath, { engine: window.katex, delimiters: ["dollars", "brackets"], katexOptions: { throwOnError: false, output: "html" } });
  const inlineMath = { throwOnError: false, output: "html", displayMode: false };

  // \boxed{…} outside any delimiters, with balanced braces: the final answer of DeepSeek-R1-style models.
  md.inline.ruler.before("escape", "boxed", (state, silent) => {
    const src = state.src, start = state.pos;
    if (!src.startsWith("\\boxed{", start)) return false;
    let depth = 0, i = start + "\\boxed".length;
    for (; i < state.posMax; i++) {
      const c = src[i];
      if (c === "\\") { i++; continue; }
      if (c === "{") depth++;
      else if (c === "}" && --depth === 0) break;
    }
    if (depth !== 0 || i >= state.posMax) return false; // not closed (yet, while it streams): plain text
    if (!silent) state.push("boxed", "", 0).content = src.slice(start, i + 1);
    state.pos = i + 1;
    return true;
  });
  md.renderer.rules.boxed = (tokens, idx) => `<eq class="boxed">${window.katex.renderToString(tokens[idx].content, inlineMath)}</eq>`;

  md.renderer.rules.fence = (tokens, idx) => {
    const token = tokens[idx];
    const lang = (token.info || "").trim().split(/\s+/)[0];
    const code = token.content;
    let html;
    if (lang && window.hljs.getLanguage(lang)) html = window.hljs.highlight(code, { language: lang, ignoreIllegals: true }).value;
    else if (!lang && code.length < 20000) html = window.hljs.highlightAuto(code).value;
    else html = esc(code);
    return `<div class="code-block"><div class="code-head"><span class="code-lang">${esc(lang || "code")}</span>`
      + `<button type="button" class="copy-code" aria-label="Copy code">Copy</button></div>`
      + `<pre><code class="hljs${lang ? " language-" + esc(lang) : ""}">${html}</code></pre></div>`;
  };

  const defaultLink = md.renderer.rules.link_open || ((tokens, idx, options, env, self) => self.renderToken(tokens, idx, options));
  md.renderer.rules.link_open = (tokens, idx, options, env, self) => {
    tokens[idx].attrSet("target", "_blank");
    tokens[idx].attrSet("rel", "noopener noreferrer");
    return defaultLink(tokens, idx, options, env, self);
  };
  // Wide tables scroll inside the message rather than widening the page.
  md.renderer.rules.table_open = () => '<div class="table-wrap"><table>';
  md.renderer.rules.table_close = () => "</table></div>";

  window.renderMarkdown = src => md.render(src);
})();
