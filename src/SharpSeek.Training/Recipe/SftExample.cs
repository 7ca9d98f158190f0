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
    /// Packs examples greedily into rows of <paramref name="length"/> tokens (padding with EOS, masked out). Rows
    /// are independent documents separated by BOS, as in pretraining; an example longer than a row is dropped.
    /// </summary>
    public static (long[] Tokens, float[] Mask) Pack(IEnumerable<SftExample> examples, int rows, int length, int pad)
    {
        var tokens = new long[rows * length];
        var mask = new float[rows * length];
        Array.Fill(tokens, pad);
        int row = 0, col = 0;
        foreach (var e in examples)
        {
            if (e.Tokens.Length > length) continue;
            if (col + e.Tokens.Length > length)
            {
                row++;
                col = 0;
                if (row == rows) break;
            }
            for (int i = 0; i < e.Tokens.Length; i++)
            {
                tokens[row * length + col + i] = e.Tokens[i];
                mask[row * length + col + i] = e.AssistantMask[i] ? 1 : 0;
            }
            col += e.Tokens.Length;
        }
        return (tokens, mask);
    }
}
