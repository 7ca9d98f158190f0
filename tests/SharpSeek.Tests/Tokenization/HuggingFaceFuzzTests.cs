using System.Text;
using SharpSeek.Tokenization;

namespace SharpSeek.Tests.Tokenization;

/// <summary>Random mixed-script strings (fixed seed) encode exactly as Hugging Face's Rust tokenizers do, for both fixture tokenizers.</summary>
public sealed class HuggingFaceFuzzTests
{
    private static readonly string[] Atoms =
    [
        "a", "Z", "the", " ", "  ", "\t", "\n", "\r\n", "\u00A0", "\u3000", "0", "7", "123", "45678", "٣", "１２", "½", "²", "Ⅻ",
        ".", ",", "!", "?", "'s", "'LL", "\"", "(", ")", "{", "}", "[", "]", "<", ">", "/", "\\", "-", "_", "=", "+", "*", "#", "@", "$", "%", "^", "&", "|", "~", "`",
        "中", "深度求索", "龥", "龦", "ひら", "カタ", "한국", "\u1100\u1161", "é", "e\u0301", "ñ", "Ω", "Ж", "ש", "ع", "क्ष", "ไทย",
        "😀", "👍🏽", "🇫🇷", "👨‍👩‍👧", "❤️", "𝐀", "𠀀", "\u200B", "\uFEFF", "\0", "\u0007", "\u001b[31m", "<｜User｜>", "<｜Assistant｜>",
        "<|im_start|>", "<think>", "</think>", "<｜begin▁of▁sentence｜>", "<｜user｜>", "<|User|>", "｜", "▁",
    ];

    private static List<string> Strings(int seed, int count)
    {
        var rng = new Random(seed);
        var list = new List<string>();
        for (int i = 0; i < count; i++)
        {
            var sb = new StringBuilder();
            int n = rng.Next(1, 14);
            for (int k = 0; k < n; k++) sb.Append(Atoms[rng.Next(Atoms.Length)]);
            list.Add(sb.ToString());
        }
        return list;
    }

    [Theory]
    [InlineData("deepseek-v3")]
    [InlineData("qwen3")]
    public void Random_strings_match_huggingface(string name)
    {
        List<string> texts = Strings(name.Length * 1000 + 7, 400);
        Tokenizer tok = TokenizerFixtures.Get(name);
        var hf = NodeTokenizers.Encode(Fixtures.Path("tokenizers", name, "tokenizer.json"), texts);
        var report = new StringBuilder();
        int bad = 0;
        for (int i = 0; i < texts.Count; i++)
        {
            int[] ours = tok.Encode(texts[i]);
            if (ours.AsSpan().SequenceEqual(hf[i].Ids) && tok.Decode(ours) == hf[i].Decoded) continue;
            if (++bad <= 5)
                report.AppendLine($"{GoldenTokenizerTests.Escape(texts[i])}\n ours {string.Join(",", ours)}\n hf   {string.Join(",", hf[i].Ids)}\n decoded ours {GoldenTokenizerTests.Escape(tok.Decode(ours))} hf {GoldenTokenizerTests.Escape(hf[i].Decoded)}");
        }
        Assert.True(bad == 0, $"{bad} of {texts.Count} differ:\n{report}");
    }
}
