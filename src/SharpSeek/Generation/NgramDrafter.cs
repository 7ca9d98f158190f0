namespace SharpSeek.Generation;

/// <summary>
/// Prompt-lookup drafting (Saxena's prompt lookup decoding; vLLM's and llama.cpp's n-gram speculation): find the longest suffix of
/// the sequence so far, <see cref="MaxMatch"/> tokens down to <see cref="MinMatch"/>, that occurred earlier in prompt + output,
/// and propose the tokens that followed its most recent earlier occurrence. Works for every model; pays off when the output
/// copies from the prompt (code edits, quotes, worked solutions restated).
/// </summary>
public static class NgramDrafter
{
    public const int MaxMatch = 4, MinMatch = 2;

    /// <summary>Writes up to <paramref name="drafts"/>.Length draft tokens continuing <paramref name="history"/>; returns how many.</summary>
    public static int Draft(IReadOnlyList<int> history, Span<int> drafts)
    {
        int n = history.Count;
        if (drafts.IsEmpty) return 0;
        for (int m = Math.Min(MaxMatch, n - 1); m >= MinMatch; m--)
        {
            // The most recent earlier occurrence of the last m tokens (the suffix itself excluded).
            for (int start = n - m - 1; start >= 0; start--)
            {
                int i = 0;
                while (i < m && history[start + i] == history[n - m + i]) i++;
                if (i < m) continue;
                int count = Math.Min(drafts.Length, n - (start + m));
                for (int j = 0; j < count; j++) drafts[j] = history[start + m + j];
                if (count > 0) return count;
            }
        }
        return 0;
    }
}
