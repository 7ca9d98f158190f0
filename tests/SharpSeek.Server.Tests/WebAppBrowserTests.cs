using System.Text.Json;
using SharpSeek.Serving;
using Xunit.Abstractions;

namespace SharpSeek.Server.Tests;

/// <summary>
/// The web app in real headless Chromium: send a message, watch the thinking panel and answer stream, stop an answer,
/// reload, and find the conversation still there. CI installs Debian's chromium (.ci/run) and sets
/// SHARPSEEK_REQUIRE_BROWSER=1, so a missing browser fails there; elsewhere it is skipped ("skipped: no Chromium").
/// </summary>
[Collection("Heavy")]
public sealed class WebAppBrowserTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _data = Directory.CreateTempSubdirectory("webapp-browser-").FullName;

    public void Dispose() => Directory.Delete(_data, recursive: true);

    [ChromiumFact]
    public async Task Chat_streams_thinking_stops_and_survives_a_reload()
    {
        await using var server = await LiveServer.StartAsync(reasoning: true, dataDirectory: _data, scheduler: new SchedulerOptions { ContextSize = 200 });
        await using var browser = await HeadlessChromium.StartAsync();
        await browser.NavigateAsync(server.BaseUri.ToString());
        await browser.WaitForAsync("document.readyState === 'complete' && document.getElementById('input')");

        await browser.EvalAsync("document.getElementById('input').value = 'Hello from Chromium'; document.getElementById('composer').requestSubmit(); true");
        // While it streams, the stop button shows and the thinking panel fills.
        await browser.WaitForAsync("document.querySelector('.msg.assistant details.thinking .body')?.textContent.length > 0");
        await browser.WaitForAsync("document.querySelector('.msg.assistant')?.dataset.done", TimeSpan.FromSeconds(120));
        var first = await browser.EvalAsync("({ done: document.querySelector('.msg.assistant').dataset.done, thinking: !document.querySelector('details.thinking').hidden, user: document.querySelector('.msg.user').textContent, hash: location.hash })");
        Assert.True(first.GetProperty("thinking").GetBoolean());
        Assert.Equal("Hello from Chromium", first.GetProperty("user").GetString());
        Assert.StartsWith("#", first.GetProperty("hash").GetString());

        // A second message: stop it as soon as it starts.
        await browser.EvalAsync("document.getElementById('input').value = 'Second question'; document.getElementById('composer').requestSubmit(); true");
        // Stop once the answer is streaming (the server has the question by then).
        await browser.WaitForAsync("document.querySelectorAll('.msg.assistant')[1]?.querySelector('.body')?.textContent.length > 0 || document.querySelectorAll('.msg.assistant')[1]?.dataset.done", TimeSpan.FromSeconds(120));
        await browser.EvalAsync("document.getElementById('stop').click(); true");
        await browser.WaitForAsync("document.querySelectorAll('.msg.assistant')[1]?.dataset.done");
        output.WriteLine("second answer ended as: " + (await browser.EvalAsync("document.querySelectorAll('.msg.assistant')[1].dataset.done")).GetString());

        await browser.ReloadAsync();
        await browser.WaitForAsync("document.querySelectorAll('.msg.user').length === 2 && document.querySelectorAll('#conversations li').length > 0", TimeSpan.FromSeconds(30));
        var after = await browser.EvalAsync("({ users: [...document.querySelectorAll('.msg.user')].map(m => m.textContent), items: document.querySelectorAll('#conversations li').length, reasoning: document.querySelector('.msg.assistant details.thinking .body').textContent.length })");
        Assert.Equal(["Hello from Chromium", "Second question"], after.GetProperty("users").EnumerateArray().Select(u => u.GetString()));
        Assert.Equal(1, after.GetProperty("items").GetInt32());
        Assert.True(after.GetProperty("reasoning").GetInt32() > 0);
    }
}
