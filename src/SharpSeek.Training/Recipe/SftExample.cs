using SharpSeek.Chat;
using SharpSeek.Tokenization;

namespace SharpSeek.Training.Recipe;

/// <summary>A chat-formatted training sequence and which of its tokens are the assistant's (the only ones with loss).</summary>
public sealed record SftExample(int[] Tokens, bool[] AssistantMask)
{
    /// <summary>Prompt through the R1 generation prompt (no loss), then the completion and EOS (loss).</summary>
    public static SftExample From(TaskItem item, Tokenizer tokenizer, ChatTemplate template)
    {
        var prompt = template.Encode(tokenizer, [new ChatMessage("user", item.Prompt)]);
        var completion = tokenizer.Encode(item.Completion, parseSpecial: true);
        int eos = tokenizer.EosId ?? throw new InvalidOperationException("the tokenizer has no EOS token");
        var tokens = new int[prompt.Length + completion.Length + 1];
        prompt.CopyTo(tokens, 0);
        completion.CopyTo(tokens, prompt.Length);
        tokens[^1] = eos;
        var mask = new bool[tokens.Length];
        for (int i = prompt.Length; i < tokens.Length; i++) mask[i] = true;
        return new SftExample(tokens, mask);
    }

    /// <summary>
    /// Packs examples into rows of <paramref name="length"/> tokens (padding with EOS, masked out); each example
    /// stays whole inside one row, rows hold independent documents separated by BOS, as in pretraining. Takes examples
    /// in stream order until they cover the batch's capacity (dropping any longer than a row); sets the earliest aside,
    /// in stream order, until the rest fit the capacity; places the rest longest first, each into the first row with
    /// room (first-fit decreasing); then fills what room is left with the set-aside examples, in stream order.
    /// Which examples are set aside does not depend on their length, so a batch keeps the stream's mix: about 93 % of
    /// it is real tokens on the recipe's mix. Dropping whatever first-fit decreasing could not place (97 %) dropped the
    /// shortest examples, and halved the share of the one-digit facts, the shortest problems there are.
    /// </summary>
    public static (long[] Tokens, float[] Mask) Pack(IEnumerable<SftExample> examples, int rows, int length, int pad)
    {
        var window = new List<SftExample>();
        long capacity = (long)rows * length, taken = 0;
        foreach (var e in examples)
        {
            if (taken >= capacity) break;
            if (e.Tokens.Length > length) continue;
            window.Add(e);
            taken += e.Tokens.Length;
        }
        int aside = 0;
        while (taken > capacity) taken -= window[aside++].Tokens.Length;
        var tokens = new long[capacity];
        var mask = new float[capacity];
        Array.Fill(tokens, pad);
        var used = new int[rows];
        // A stable sort keeps stream order among equal lengths, so a batch depends only on the stream.
        foreach (var e in window.Skip(aside).OrderByDescending(e => e.Tokens.Length)) Place(e);
        foreach (var e in window.Take(aside)) Place(e);
        return (tokens, mask);

        void Place(SftExample e)
        {
            int row = Array.FindIndex(used, u => u + e.Tokens.Length <= length);
            if (row < 0) return;
            long at = (long)row * length + used[row];
            for (int i = 0; i < e.Tokens.Length; i++)
            {
                tokens[at + i] = e.Tokens[i];
                mask[at + i] = e.AssistantMask[i] ? 1 : 0;
            }
            used[row] += e.Tokens.Length;
        }
    }
}
