using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using SharpSeek.Serving;
using Xunit.Abstractions;

namespace SharpSeek.Server.Tests;

/// <summary>
/// The web app's features in real headless Chromium: markdown, LaTeX (the bundled model's own <c>\boxed{}</c>) and code
/// through the vendored libraries, copy, regenerate, edit-and-resend, settings and the model picker, delete with a
/// confirmation, a new conversation listed at once, and the layout at phone and desktop widths in light and dark.
/// Screenshots go to TestResults/webapp/ in the repository. Without Chromium they are skipped ("skipped: no Chromium"), in CI they fail.
/// </summary>
[Collection("Heavy")]
public sealed class WebAppFeatureTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _data = Directory.CreateTempSubdirectory("webapp-features-").FullName;

    public void Dispose() => Directory.Delete(_data, recursive: true);

    private static string Screenshots => Path.Combine(Fixtures.RepoRoot, "TestResults", "webapp");

    private static string BundledModel => Path.Combine(Fixtures.RepoRoot, "models", "sharpseek-tiny");

    // Records what the page copies (the async clipboard needs focus and a permission a headless page may not have).
    private const string RecordClipboard = "window.copied = []; navigator.clipboard.writeText = async text => { window.copied.push(text); };";

    // Records the JSON bodies the page posts to the web app's message endpoint.
    private const string RecordSends = """
        window.sent = [];
        const realFetch = window.fetch;
        window.fetch = (url, options) => {
          if (String(url).endsWith('/messages')) window.sent.push(JSON.parse(options.body));
          return realFetch(url, options);
        };
        """;

    private static async Task<HeadlessChromium> OpenAsync(LiveServer server, params string[] initScripts)
    {
        var browser = await HeadlessChromium.StartAsync();
        foreach (string s in initScripts) await browser.AddInitScriptAsync(s);
        await browser.NavigateAsync(server.BaseUri.ToString());
        await browser.WaitForAsync("document.readyState === 'complete' && document.getElementById('input')");
        return browser;
    }

    private static Task SendAsync(HeadlessChromium browser, string text) =>
        browser.EvalAsync($"document.getElementById('input').value = {JsonSerializer.Serialize(text)}; document.getElementById('composer').requestSubmit(); true");

    /// <summary>Waits for the n-th answer (1-based) to end and for the page to have learned the messages' ids.</summary>
    private static async Task WaitForAnswerAsync(HeadlessChromium browser, int n)
    {
        await browser.WaitForAsync($"document.querySelectorAll('.msg.assistant')[{n - 1}]?.dataset.done", TimeSpan.FromSeconds(120));
        await browser.WaitForAsync("[...document.querySelectorAll('.msg')].every(m => m.dataset.id) && !document.getElementById('send').hidden");
    }

    private static async Task<List<JsonElement>> StoredAsync(LiveServer server)
    {
        var list = await server.Http.GetFromJsonAsync<JsonElement>("app/conversations");
        string id = list.EnumerateArray().First().GetProperty("id").GetString()!;
        var c = await server.Http.GetFromJsonAsync<JsonElement>($"app/conversations/{id}");
        return [.. c.GetProperty("messages").EnumerateArray()];
    }

    [ChromiumFact]
    public async Task Markdown_latex_and_code_render_through_the_vendored_libraries()
    {
        await using var server = await LiveServer.StartAsync(dataDirectory: _data, modelPath: BundledModel);
        await using var browser = await OpenAsync(server, RecordClipboard);
        Assert.True((await browser.EvalAsync("window.markdownLibraries")).GetBoolean());
        Assert.True((await browser.EvalAsync("document.getElementById('libraries-missing').hidden")).GetBoolean());

        // What DeepSeek-style answers contain, rendered the way the page renders answers.
        const string Sample = """
            ## Steps

            1. First
            2. Second

            | n | n² |
            |---|----|
            | 3 | 9 |

            > a quote

            Inline $x^2 + 1$ and \(\frac{a}{b}\), then:

            \[ \sum_{i=1}^{n} i = \frac{n(n+1)}{2} \]

            ```python
            def add(a, b):
                return a + b
            ```

            So the answer is \boxed{42}. <script>window.injected = 1</script>
            """;
        var html = await browser.EvalAsync($$"""
            (() => {
              const div = document.createElement('div');
              div.className = 'answer';
              div.id = 'sample';
              div.innerHTML = renderMarkdown({{JsonSerializer.Serialize(Sample)}});
              document.getElementById('messages').append(div);
              return {
                ol: div.querySelectorAll('ol > li').length, ul: div.querySelectorAll('ul').length,
                th: [...div.querySelectorAll('th')].map(t => t.textContent), quote: div.querySelector('blockquote')?.textContent.trim(),
                katex: div.querySelectorAll('.katex').length, display: div.querySelectorAll('.katex-display, eqn .katex').length,
                boxed: div.querySelector('eq.boxed .katex') !== null, boxedInline: div.querySelector('eq.boxed .katex-display') === null,
                keyword: div.querySelector('.code-block code.language-python .hljs-keyword')?.textContent,
                lang: div.querySelector('.code-lang')?.textContent, copy: div.querySelectorAll('.copy-code').length,
                raw: div.textContent.includes('\\boxed'), script: div.querySelectorAll('script').length, text: div.textContent,
              };
            })()
            """);
        output.WriteLine(html.ToString());
        Assert.Equal(2, html.GetProperty("ol").GetInt32());
        Assert.Equal(0, html.GetProperty("ul").GetInt32());
        Assert.Equal(["n", "n²"], html.GetProperty("th").EnumerateArray().Select(t => t.GetString()));
        Assert.Equal("a quote", html.GetProperty("quote").GetString());
        Assert.True(html.GetProperty("katex").GetInt32() >= 4, "inline $, \\(, \\[ and \\boxed all typeset");
        Assert.True(html.GetProperty("display").GetInt32() >= 1);
        Assert.True(html.GetProperty("boxed").GetBoolean());
        Assert.True(html.GetProperty("boxedInline").GetBoolean(), "\\boxed stays in its line, after a display formula too");
        Assert.False(html.GetProperty("raw").GetBoolean());
        Assert.Equal("def", html.GetProperty("keyword").GetString());
        Assert.Equal("python", html.GetProperty("lang").GetString());
        Assert.Equal(0, html.GetProperty("script").GetInt32());
        Assert.Contains("<script>", html.GetProperty("text").GetString());

        // The code block's copy button copies the code alone.
        await browser.EvalAsync("document.querySelector('#sample .copy-code').click(); true");
        await browser.WaitForAsync("window.copied.length === 1");
        Assert.Equal("def add(a, b):\n    return a + b", (await browser.EvalAsync("window.copied[0]")).GetString()!.TrimEnd('\n'));
        await browser.EvalAsync("document.getElementById('sample').remove(); true");

        // The bundled model's own answer: its \boxed{5} is typeset by KaTeX in KaTeX's fonts, served from the app.
        await SendAsync(browser, "What is 2 + 3?");
        await WaitForAnswerAsync(browser, 1);
        var answer = await browser.EvalAsync("""
            (() => {
              const a = document.querySelector('.msg.assistant .answer');
              const k = a.querySelector('eq.boxed .katex');
              return { raw: a.dataset.raw, boxed: k?.querySelector('.katex-html')?.textContent, font: k ? getComputedStyle(k).fontFamily : '',
                       thinking: document.querySelector('.msg.assistant details.thinking .body').textContent };
            })()
            """);
        output.WriteLine(answer.ToString());
        Assert.Contains(@"\boxed{5}", answer.GetProperty("raw").GetString());
        Assert.Contains("5", answer.GetProperty("boxed").GetString());
        Assert.Contains("KaTeX_Main", answer.GetProperty("font").GetString());
        Assert.Contains("2+3", answer.GetProperty("thinking").GetString());
        await browser.WaitForAsync("document.fonts.check('16px KaTeX_Main')");
        await browser.SetViewportAsync(1280, 800);
        await browser.ScreenshotAsync(Path.Combine(Screenshots, "boxed-1280.png"));
    }

    [ChromiumFact]
    public async Task Messages_are_copied_regenerated_and_edited_and_resent()
    {
        await using var server = await LiveServer.StartAsync(reasoning: true, dataDirectory: _data, scheduler: new SchedulerOptions { ContextSize = 400 });
        // Short answers keep the test quick.
        await using var browser = await OpenAsync(server, RecordClipboard, RecordSends, "localStorage.setItem('sharpseek-settings', JSON.stringify({ maxTokens: 12 }));");

        await SendAsync(browser, "first question");
        await WaitForAnswerAsync(browser, 1);
        await SendAsync(browser, "second question");
        await WaitForAnswerAsync(browser, 2);

        // Copy: the user's text, and the answer's markdown source.
        await browser.EvalAsync("document.querySelector('.msg.user .copy').click(); document.querySelectorAll('.msg.assistant')[1].querySelector('.copy').click(); true");
        await browser.WaitForAsync("window.copied.length === 2");
        Assert.Equal("first question", (await browser.EvalAsync("window.copied[0]")).GetString());
        Assert.Equal((await browser.EvalAsync("document.querySelectorAll('.msg.assistant')[1].querySelector('.answer').dataset.raw")).GetString(),
            (await browser.EvalAsync("window.copied[1]")).GetString());

        // Only the last answer offers regenerate.
        Assert.Equal(1, (await browser.EvalAsync("[...document.querySelectorAll('.regenerate')].filter(b => b.offsetParent !== null).length")).GetInt32());
        Assert.Equal(JsonValueKind.True, (await browser.EvalAsync("document.querySelectorAll('.msg.assistant')[1].querySelector('.regenerate').offsetParent !== null")).ValueKind);
        var before = await StoredAsync(server);
        Assert.Equal(4, before.Count);
        await browser.EvalAsync("[...document.querySelectorAll('.regenerate')].find(b => !b.hidden).click(); true");
        await WaitForAnswerAsync(browser, 2);
        var regenerated = await StoredAsync(server);
        Assert.Equal(4, regenerated.Count);
        Assert.Equal(["user", "assistant", "user", "assistant"], regenerated.Select(m => m.GetProperty("role").GetString()));
        Assert.Equal(before[2].GetProperty("id").GetInt64(), regenerated[2].GetProperty("id").GetInt64());
        Assert.NotEqual(before[3].GetProperty("id").GetInt64(), regenerated[3].GetProperty("id").GetInt64());
        Assert.Equal(4, (await browser.EvalAsync("document.querySelectorAll('.msg').length")).GetInt32());
        Assert.Equal(JsonValueKind.True, (await browser.EvalAsync("window.sent.at(-1).regenerate")).ValueKind);

        // Edit the first question: it and everything after it are replaced by the edited question and a new answer.
        await browser.EvalAsync("document.querySelector('.msg.user .edit').click(); true");
        await browser.WaitForAsync("document.querySelector('.msg.user .edit-box textarea')?.value === 'first question'");
        await browser.EvalAsync("document.querySelector('.edit-box textarea').value = 'first question, edited'; document.querySelector('.edit-box .send-edit').click(); true");
        await WaitForAnswerAsync(browser, 1);
        await browser.WaitForAsync("document.querySelectorAll('.msg').length === 2");
        var edited = await StoredAsync(server);
        Assert.Equal(2, edited.Count);
        Assert.Equal("first question, edited", edited[0].GetProperty("content").GetString());
        Assert.Equal(before[0].GetProperty("id").GetInt64(), (await browser.EvalAsync("window.sent.at(-1).edit")).GetInt64());
        Assert.Equal("first question, edited", (await browser.EvalAsync("document.querySelector('.msg.user .bubble').textContent")).GetString());

        // The server refuses an edit of a message that is not a question of the conversation, and changes nothing.
        string id = (await browser.EvalAsync("location.hash.slice(1)")).GetString()!;
        using var bad = await server.Http.PostAsync($"app/conversations/{id}/messages", JsonContent.Create(new { content = "x", edit = edited[1].GetProperty("id").GetInt64() }));
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Equal(2, (await StoredAsync(server)).Count);
    }

    [ChromiumFact]
    public async Task Settings_reach_the_server_and_the_model_picker_lists_the_served_models()
    {
        await using var server = await LiveServer.StartAsync(reasoning: true, dataDirectory: _data);
        string name = server.Pipeline.Bundle.Name;
        // One model (with its aliases): no picker.
        await using (var single = await OpenAsync(server))
        {
            await single.WaitForAsync("document.querySelectorAll('#model option').length === 1");
            Assert.True((await single.EvalAsync("document.getElementById('model').hidden")).GetBoolean());
        }

        // Two models, as a server with several would list them ("deepseek-reasoner" is an alias this server accepts).
        string twoModels = $$"""
            const listModels = window.fetch;
            window.fetch = (url, options) => String(url).endsWith('/v1/models')
              ? Promise.resolve(new Response(JSON.stringify({ object: 'list', data: [
                  { id: {{JsonSerializer.Serialize(name)}}, object: 'model', root: {{JsonSerializer.Serialize(name)}} },
                  { id: 'sharpseek', object: 'model', root: {{JsonSerializer.Serialize(name)}} },
                  { id: 'deepseek-reasoner', object: 'model', root: 'deepseek-reasoner' } ] }), { headers: { 'Content-Type': 'application/json' } }))
              : listModels(url, options);
            """;
        await using var browser = await OpenAsync(server, twoModels, RecordSends);
        await browser.WaitForAsync("document.querySelectorAll('#model option').length === 2 && !document.getElementById('model').hidden");

        await browser.EvalAsync("document.getElementById('settings-button').click(); true");
        await browser.WaitForAsync("document.getElementById('settings').open && !document.getElementById('model-setting').hidden");
        await browser.EvalAsync("""
            document.getElementById('set-model').value = 'deepseek-reasoner';
            document.getElementById('set-system').value = 'Answer in one word.';
            document.getElementById('set-temperature').value = '0';
            document.getElementById('set-max-tokens').value = '3';
            document.getElementById('set-think').checked = false;
            document.getElementById('settings-done').click(); true
            """);
        await browser.WaitForAsync("!document.getElementById('settings').open");
        Assert.Equal("deepseek-reasoner", (await browser.EvalAsync("document.getElementById('model').value")).GetString());
        Assert.False((await browser.EvalAsync("document.getElementById('think').checked")).GetBoolean());

        await SendAsync(browser, "hello");
        await browser.WaitForAsync("document.querySelector('.msg.assistant')?.dataset.done", TimeSpan.FromSeconds(120));
        var sent = await browser.EvalAsync("window.sent[0]");
        Assert.Equal("Answer in one word.", sent.GetProperty("system").GetString());
        Assert.Equal(0, sent.GetProperty("temperature").GetDouble());
        Assert.Equal(3, sent.GetProperty("max_tokens").GetInt32());
        Assert.False(sent.GetProperty("think").GetBoolean());
        Assert.Equal("deepseek-reasoner", sent.GetProperty("model").GetString());
        // The server honoured them: 3 tokens, cut at the limit, no reasoning block.
        var done = await browser.EvalAsync("({ done: document.querySelector('.msg.assistant').dataset.done, meta: document.querySelector('.msg.assistant .meta').textContent, thinking: document.querySelector('.msg.assistant details.thinking').hidden })");
        Assert.Equal("length", done.GetProperty("done").GetString());
        Assert.StartsWith("3 tokens", done.GetProperty("meta").GetString());
        Assert.True(done.GetProperty("thinking").GetBoolean());

        // Settings are kept in the browser across a reload.
        await browser.ReloadAsync();
        await browser.WaitForAsync("document.readyState === 'complete' && document.querySelectorAll('#model option').length === 2");
        Assert.Equal(3, (await browser.EvalAsync("JSON.parse(localStorage.getItem('sharpseek-settings')).maxTokens")).GetInt32());
        Assert.False((await browser.EvalAsync("document.getElementById('think').checked")).GetBoolean());

        // Bad settings from another client are refused with a clear 400.
        var created = await (await server.Http.PostAsync("app/conversations", JsonContent.Create(new { }))).Content.ReadFromJsonAsync<JsonElement>();
        string cid = created.GetProperty("id").GetString()!;
        using var hot = await server.Http.PostAsync($"app/conversations/{cid}/messages", JsonContent.Create(new { content = "x", temperature = 3 }));
        Assert.Equal(HttpStatusCode.BadRequest, hot.StatusCode);
        Assert.Contains("temperature", await hot.Content.ReadAsStringAsync());
        using var unknown = await server.Http.PostAsync($"app/conversations/{cid}/messages", JsonContent.Create(new { content = "x", model = "no-such-model" }));
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
    }

    [ChromiumFact]
    public async Task A_new_chat_is_listed_at_once_and_delete_asks_first()
    {
        await using var server = await LiveServer.StartAsync(reasoning: true, dataDirectory: _data);
        // The answer is held back until the test lets it go, so "at once" means before any of it has come.
        const string HoldAnswers = """
            window.release = null;
            const heldFetch = window.fetch;
            window.fetch = (url, options) => String(url).endsWith('/messages')
              ? new Promise(resolve => { window.release = () => resolve(heldFetch(url, options)); })
              : heldFetch(url, options);
            """;
        await using var browser = await OpenAsync(server, HoldAnswers);
        await SendAsync(browser, "A question worth keeping in the list");
        await browser.WaitForAsync("window.release !== null");
        await browser.WaitForAsync("document.querySelectorAll('#conversations li').length === 1");
        var listed = await browser.EvalAsync("({ title: document.querySelector('#conversations li .name').textContent, active: document.querySelector('#conversations li').classList.contains('active'), header: document.getElementById('title').textContent, done: document.querySelector('.msg.assistant').dataset.done ?? null })");
        Assert.Equal("A question worth keeping in the list", listed.GetProperty("title").GetString());
        Assert.True(listed.GetProperty("active").GetBoolean());
        Assert.Equal("A question worth keeping in the list", listed.GetProperty("header").GetString());
        Assert.Equal(JsonValueKind.Null, listed.GetProperty("done").ValueKind);
        await browser.EvalAsync("window.release(); true");
        await browser.WaitForAsync("document.querySelector('.msg.assistant')?.dataset.done", TimeSpan.FromSeconds(120));

        // Delete asks first; cancelling keeps the conversation.
        await browser.EvalAsync("document.querySelector('#conversations li .delete').click(); true");
        await browser.WaitForAsync("document.getElementById('confirm').open");
        Assert.Contains("A question worth keeping", (await browser.EvalAsync("document.getElementById('confirm-text').textContent")).GetString());
        await browser.SetViewportAsync(1280, 800);
        await browser.ScreenshotAsync(Path.Combine(Screenshots, "delete-confirm-1280.png"));
        await browser.EvalAsync("document.getElementById('confirm-cancel').click(); true");
        await browser.WaitForAsync("!document.getElementById('confirm').open");
        Assert.Single((await server.Http.GetFromJsonAsync<JsonElement>("app/conversations")).EnumerateArray());
        Assert.Equal(1, (await browser.EvalAsync("document.querySelectorAll('#conversations li').length")).GetInt32());

        // Confirmed, it goes from the server and the page, and the page is a new chat.
        await browser.EvalAsync("document.querySelector('#conversations li .delete').click(); true");
        await browser.WaitForAsync("document.getElementById('confirm').open");
        await browser.EvalAsync("document.getElementById('confirm-ok').click(); true");
        try { await browser.WaitForAsync("document.querySelectorAll('#conversations li').length === 0 && document.querySelectorAll('.msg').length === 0"); }
        catch (TimeoutException e)
        {
            var state = await browser.EvalAsync("JSON.stringify({ listed: document.querySelectorAll('#conversations li').length, msgs: [...document.querySelectorAll('.msg')].map(m => m.className + ':' + (m.dataset.done ?? '')), hash: location.hash, confirm: document.getElementById('confirm').open, title: document.getElementById('title').textContent })");
            throw new TimeoutException($"{e.Message}; the page: {state}", e);
        }
        Assert.Empty((await server.Http.GetFromJsonAsync<JsonElement>("app/conversations")).EnumerateArray());
        Assert.False((await browser.EvalAsync("document.getElementById('empty').hidden")).GetBoolean());
        Assert.Equal("", (await browser.EvalAsync("location.hash")).GetString());
    }

    [ChromiumFact]
    public async Task Layout_fits_phones_and_desktops_in_light_and_dark()
    {
        await using var server = await LiveServer.StartAsync(reasoning: true, dataDirectory: _data);
        // The favicon is served, also where browsers look for it without a link.
        using (var icon = await server.Http.GetAsync("assets/favicon.svg"))
        {
            Assert.Equal(HttpStatusCode.OK, icon.StatusCode);
            Assert.Equal("image/svg+xml", icon.Content.Headers.ContentType!.MediaType);
        }
        using (var ico = await server.Http.GetAsync("favicon.ico")) Assert.Equal(HttpStatusCode.OK, ico.StatusCode);

        await using var browser = await OpenAsync(server);
        Assert.EndsWith("/assets/favicon.svg", (await browser.EvalAsync("document.querySelector('link[rel=icon]').href")).GetString());
        await SendAsync(browser, "Show me a table and some code");
        await WaitForAnswerAsync(browser, 1);
        // A wide answer (long code line, wide table, long formula) must scroll inside itself, not widen the page.
        const string Wide = "Here is a long line of code:\n\n```js\nconst x = [" + "1234567890, " + "1234567890, 1234567890, 1234567890, 1234567890, 1234567890, 1234567890, 1234567890, 1234567890];\n```\n\n| a | b | c | d | e | f | g | h |\n|---|---|---|---|---|---|---|---|\n| alpha | bravo | charlie | delta | echo | foxtrot | golf | hotel |\n\n$$ x = a_1 + a_2 + a_3 + a_4 + a_5 + a_6 + a_7 + a_8 + a_9 + a_{10} + a_{11} + a_{12} + a_{13} + a_{14} $$\n\nAnd a longwordwithoutanyspacesthatgoesonandonandonandonandonandonandonandon.";
        await browser.EvalAsync($"document.querySelector('.msg.assistant .answer').innerHTML = renderMarkdown({JsonSerializer.Serialize(Wide)}); true");

        const string Measure = """
            (() => {
              const aside = document.querySelector('aside').getBoundingClientRect();
              return {
                width: innerWidth, scroll: document.documentElement.scrollWidth, bodyScroll: document.body.scrollWidth,
                composer: document.getElementById('composer').getBoundingClientRect().width,
                sidebarLeft: aside.left, sidebarRight: aside.right, sidebarWidth: aside.width,
                menu: getComputedStyle(document.getElementById('menu')).display,
                empty: getComputedStyle(document.getElementById('empty')).display,
                background: getComputedStyle(document.body).backgroundColor,
                overflowing: [...document.querySelectorAll('main *')].filter(e => e.getBoundingClientRect().right > innerWidth + 1 && !e.closest('pre, .table-wrap, eqn')).map(e => e.tagName + '.' + e.className).slice(0, 5),
              };
            })()
            """;
        foreach (string scheme in new[] { "light", "dark" })
        {
            await browser.SetColorSchemeAsync(scheme);
            foreach (int width in new[] { 360, 390 })
            {
                await browser.SetViewportAsync(width, 844, mobile: true);
                // Closed, once the drawer has slid out (it animates when the window narrows).
                await browser.WaitForAsync($"innerWidth === {width} && document.querySelector('aside').getBoundingClientRect().right <= 0");
                var m = await browser.EvalAsync(Measure);
                output.WriteLine($"{scheme} {width}: {m}");
                Assert.True(m.GetProperty("scroll").GetInt32() <= width, $"page scrolls sideways at {width} px: {m}");
                Assert.True(m.GetProperty("bodyScroll").GetInt32() <= width, $"body scrolls sideways at {width} px: {m}");
                Assert.Empty(m.GetProperty("overflowing").EnumerateArray());
                Assert.True(m.GetProperty("composer").GetDouble() >= 0.8 * width, $"composer {m.GetProperty("composer")} px of {width}");
                Assert.Equal("flex", m.GetProperty("menu").GetString());
                Assert.Equal("none", m.GetProperty("empty").GetString());
                if (width == 390) await browser.ScreenshotAsync(Path.Combine(Screenshots, $"chat-390-{scheme}.png"));
            }
            // The drawer opens over the chat, and picking a conversation closes it.
            await browser.EvalAsync("document.getElementById('menu').click(); true");
            await browser.WaitForAsync("document.querySelector('aside').getBoundingClientRect().left >= 0 && !document.getElementById('backdrop').hidden");
            await Task.Delay(300); // the slide-in transition
            if (scheme == "light") await browser.ScreenshotAsync(Path.Combine(Screenshots, "drawer-390-light.png"));
            await browser.EvalAsync("document.querySelector('#conversations li').click(); true");
            await browser.WaitForAsync("document.querySelector('aside').getBoundingClientRect().right <= 0 && document.getElementById('backdrop').hidden");
            await browser.EvalAsync($"document.querySelector('.msg.assistant .answer').innerHTML = renderMarkdown({JsonSerializer.Serialize(Wide)}); true");

            await browser.SetViewportAsync(1280, 800);
            await browser.WaitForAsync("innerWidth === 1280");
            var d = await browser.EvalAsync(Measure);
            output.WriteLine($"{scheme} 1280: {d}");
            Assert.True(d.GetProperty("scroll").GetInt32() <= 1280);
            Assert.Empty(d.GetProperty("overflowing").EnumerateArray());
            Assert.Equal(0, d.GetProperty("sidebarLeft").GetDouble());
            Assert.True(d.GetProperty("sidebarWidth").GetDouble() >= 200);
            Assert.Equal("none", d.GetProperty("menu").GetString());
            // Dark follows the system: a dark background, a light one otherwise.
            var rgb = d.GetProperty("background").GetString()!.Split('(', ')')[1].Split(',').Select(c => int.Parse(c.Trim())).ToArray();
            Assert.True(scheme == "dark" ? rgb.Max() < 60 : rgb.Min() > 230, $"{scheme} background {d.GetProperty("background")}");
            await browser.ScreenshotAsync(Path.Combine(Screenshots, $"chat-1280-{scheme}.png"));
        }

        // The settings dialog fits a phone.
        await browser.SetColorSchemeAsync("light");
        await browser.SetViewportAsync(390, 844, mobile: true);
        await browser.WaitForAsync("document.querySelector('aside').getBoundingClientRect().right <= 0");
        await browser.EvalAsync("document.getElementById('settings-button').click(); true");
        await browser.WaitForAsync("document.getElementById('settings').open");
        var dialog = await browser.EvalAsync("(() => { const r = document.getElementById('settings').getBoundingClientRect(); return { left: r.left, right: r.right }; })()");
        Assert.True(dialog.GetProperty("left").GetDouble() >= 0 && dialog.GetProperty("right").GetDouble() <= 390);
        Assert.Equal("none", (await browser.EvalAsync("getComputedStyle(document.getElementById('model-setting')).display")).GetString());
        await browser.ScreenshotAsync(Path.Combine(Screenshots, "settings-390-light.png"));
    }
}
