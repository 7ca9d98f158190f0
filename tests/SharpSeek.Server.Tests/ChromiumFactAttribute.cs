namespace SharpSeek.Server.Tests;

/// <summary>
/// A test that drives headless Chromium. Where Chromium is missing it is reported as skipped ("skipped: no Chromium"),
/// never as passed; with <c>SHARPSEEK_REQUIRE_BROWSER=1</c> (set by <c>.ci/run</c>) it runs anyway and so fails there.
/// The decision is made at discovery, so the runner's summary counts the test as skipped.
/// </summary>
public sealed class ChromiumFactAttribute : FactAttribute
{
    public const string SkipReason = "skipped: no Chromium";

    public ChromiumFactAttribute()
    {
        if (HeadlessChromium.ExecutablePath is null && Environment.GetEnvironmentVariable("SHARPSEEK_REQUIRE_BROWSER") != "1")
            Skip = SkipReason;
    }
}
