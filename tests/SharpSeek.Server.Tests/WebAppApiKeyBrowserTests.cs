using System.Net;
using System.Text.Json;

namespace SharpSeek.Server.Tests;

/// <summary>
/// The web app behind <c>serve --api-key</c>, in headless Chromium: the page loads without a key, asks for one on the
/// first 401, says so when the key is wrong, chats once it is right, remembers it across a reload, and forgets it on request.
/// </summary>
[Collection("Heavy")]
public sealed class WebAppApiKeyBrowserTests : IDisposable
{
    private const string Key = "open-sesame";
    private readonly string _data = Directory.CreateTempSubdirectory("webapp-key-").FullName;

    public void Dispose() => Directory.Delete(_data, recursive: true);

    private const string DialogShown = "!document.getElementById('key-dialog').hidden";

    [ChromiumFact]
    public async Task Page_asks_for_the_key_rejects_a_wrong_one_and_chats_with_the_right_one()
    {
        await using var server = await LiveServer.StartAsync(apiKey: Key, dataDirectory: _data);
        // The page and its assets are public; the app's API is not.
        Assert.Equal(HttpStatusCode.OK, (await server.Http.GetAsync("/")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await server.Http.GetAsync("/assets/app.js")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await server.Http.GetAsync("/app/conversations")).StatusCode);

        await using var browser = await HeadlessChromium.StartAsync();
        await browser.NavigateAsync(server.BaseUri.ToString());
        await browser.WaitForAsync("document.readyState === 'complete' && document.getElementById('key-dialog')");
        await browser.WaitForAsync(DialogShown);
        Assert.Equal("", (await browser.EvalAsync("document.getElementById('key-error').textContent")).GetString());

        // A wrong key: the call is retried, refused again, and the dialog stays with the server's message.
        await SubmitKeyAsync(browser, "not-the-key");
        await browser.WaitForAsync($"{DialogShown} && document.getElementById('key-error').textContent.includes('Incorrect API key')");

        // The right key: the dialog closes, the key is kept, and chatting works.
        await SubmitKeyAsync(browser, Key);
        await browser.WaitForAsync("document.getElementById('key-dialog').hidden");
        Assert.Equal(Key, (await browser.EvalAsync("localStorage.getItem('sharpseek-api-key')")).GetString());
        await browser.EvalAsync("document.getElementById('input').value = 'Hello with a key'; document.getElementById('composer').requestSubmit(); true");
        await browser.WaitForAsync("document.querySelector('.msg.assistant')?.dataset.done", TimeSpan.FromSeconds(120));
        // The list refreshes after the stream ends, so wait for it rather than read it at once.
        await browser.WaitForAsync("document.querySelectorAll('#conversations li').length === 1");
        var done = await browser.EvalAsync("({ done: document.querySelector('.msg.assistant').dataset.done, user: document.querySelector('.msg.user').textContent })");
        Assert.Contains(done.GetProperty("done").GetString(), new[] { "stop", "length" });
        Assert.Equal("Hello with a key", done.GetProperty("user").GetString());

        // A reload keeps the key: no dialog, the conversation is listed.
        await browser.ReloadAsync();
        await browser.WaitForAsync("document.readyState === 'complete' && document.querySelectorAll('#conversations li').length === 1");
        Assert.Equal(JsonValueKind.False, (await browser.EvalAsync(DialogShown)).ValueKind);

        // Forgetting the key from the header: the next load asks again.
        await browser.EvalAsync("document.getElementById('key-button').click(); document.getElementById('key-clear').click(); document.getElementById('key-cancel').click(); true");
        Assert.Equal(JsonValueKind.Null, (await browser.EvalAsync("localStorage.getItem('sharpseek-api-key')")).ValueKind);
        await browser.ReloadAsync();
        await browser.WaitForAsync($"document.readyState === 'complete' && {DialogShown}");
    }

    private static Task SubmitKeyAsync(HeadlessChromium browser, string key) =>
        browser.EvalAsync($"document.getElementById('key-input').value = {JsonSerializer.Serialize(key)}; document.getElementById('key-form').requestSubmit(); true");
}
