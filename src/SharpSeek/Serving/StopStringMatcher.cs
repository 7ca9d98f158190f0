namespace SharpSeek.Serving;

/// <summary>
/// Finds stop strings in streamed text: text that could still be the start of a stop string is held back,
/// so nothing of a stop string is ever emitted, whichever way the text is chunked.
/// </summary>
public sealed class StopStringMatcher(IReadOnlyList<string> stops)
{
    private readonly string[] _stops = [.. stops.Where(s => s.Length > 0)];
    private string _held = "";

    public bool Stopped { get; private set; }

    /// <summary>Adds text; returns what is safe to emit. After a stop string, <see cref="Stopped"/> is set and later text is dropped.</summary>
    public string Push(string text)
    {
        if (Stopped) return "";
        if (_stops.Length == 0) return text;
        string s = _held + text;
        int cut = -1;
        foreach (string stop in _stops)
        {
            int at = s.IndexOf(stop, StringComparison.Ordinal);
            if (at >= 0 && (cut < 0 || at < cut)) cut = at;
        }
        if (cut >= 0)
        {
            Stopped = true;
            _held = "";
            return s[..cut];
        }
        int keep = 0;
        foreach (string stop in _stops)
            for (int k = Math.Min(stop.Length - 1, s.Length); k > keep; k--)
                if (s.AsSpan(s.Length - k).SequenceEqual(stop.AsSpan(0, k))) { keep = k; break; }
        _held = s[^keep..];
        return s[..^keep];
    }

    /// <summary>The held text, at the end of the completion.</summary>
    public string Flush()
    {
        string s = Stopped ? "" : _held;
        _held = "";
        return s;
    }
}
