using System.Text.Json;
using SharpSeek.Chat;
using SharpSeek.Tokenization;

namespace SharpSeek.Training.Recipe;

/// <summary>
/// The recipe's tokenizer: byte-level BPE trained on the task corpus with a small vocabulary, every digit its own
/// token (so numbers are read and written digit by digit, the unit of the column method), and the chat special
/// tokens (BOS, EOS, User, Assistant, &lt;think&gt;, &lt;/think&gt;) at ids 0–5.
/// </summary>
public static class RecipeTokenizer
{
    /// <summary>
    /// Pre-tokenizer: single digits, then DeepSeek-V3's rule for words, punctuation and spaces (the bundled model's).
    /// llama.cpp has no name for this pair, so <c>sharpseek convert</c> refuses to write its tokenizer into GGUF. A run
    /// with Qwen2's pre-tokenizer (which llama.cpp knows) scored far lower on hard problems; see the model card.
    /// </summary>
    public static readonly string[] Patterns = [@"\p{N}", PreTokenizerPatterns.DeepSeekV3[2]];

    /// <summary>DeepSeek-R1's chat template (generation prompt <c>&lt;｜Assistant｜&gt;&lt;think&gt;\n</c>), shortened to what a chat without tools uses.</summary>
    public const string ChatTemplateJinja =
        "{% if not add_generation_prompt is defined %}{% set add_generation_prompt = false %}{% endif %}" +
        "{% set ns = namespace(system_prompt='') %}{%- for message in messages %}{%- if message['role'] == 'system' %}{% set ns.system_prompt = message['content'] %}{%- endif %}{%- endfor %}" +
        "{{ bos_token }}{{ ns.system_prompt }}" +
        "{%- for message in messages %}{%- if message['role'] == 'user' %}{{ '<｜User｜>' + message['content'] }}{%- endif %}" +
        "{%- if message['role'] == 'assistant' %}{% set content = message['content'] %}{% if '</think>' in content %}{% set content = content.split('</think>')[-1] %}{% endif %}" +
        "{{ '<｜Assistant｜>' + content + '<｜end▁of▁sentence｜>' }}{%- endif %}{%- endfor %}" +
        "{% if add_generation_prompt %}{{ '<｜Assistant｜><think>\\n' }}{% endif %}";

    /// <summary>Trains on the prompts and completions of <paramref name="items"/> and writes tokenizer.json and tokenizer_config.json (with the chat template).</summary>
    public static Tokenizer Train(IEnumerable<TaskItem> items, int vocabSize, string directory)
    {
        var corpus = items.SelectMany(i => new[] { i.Prompt, i.Completion });
        var options = new BpeTrainerOptions { VocabSize = vocabSize, PreTokenizerPatterns = Patterns, MinFrequency = 2 };
        BpeTrainer.TrainToDirectory(corpus, directory, options);
        WriteConfig(directory);
        return Tokenizer.FromFile(directory);
    }

    /// <summary>Writes tokenizer_config.json: BOS/EOS names, no automatic BOS (the template writes it), the R1 chat template.</summary>
    public static void WriteConfig(string directory)
    {
        using var stream = File.Create(Path.Combine(directory, "tokenizer_config.json"));
        using var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
        w.WriteStartObject();
        w.WriteBoolean("add_bos_token", false);
        w.WriteBoolean("add_eos_token", false);
        w.WriteString("bos_token", DeepSeekTokens.Bos);
        w.WriteString("eos_token", DeepSeekTokens.Eos);
        w.WriteNumber("model_max_length", 1024);
        w.WriteString("tokenizer_class", "PreTrainedTokenizerFast");
        w.WriteString("chat_template", ChatTemplateJinja);
        w.WriteEndObject();
    }
}
