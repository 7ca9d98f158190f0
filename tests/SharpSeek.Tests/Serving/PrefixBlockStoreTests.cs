using SharpSeek.Models;
using SharpSeek.Serving;
using SharpSeek.Tests.Support;
using Xunit.Abstractions;

namespace SharpSeek.Tests.Serving;

public sealed class PrefixBlockStoreTests(ITestOutputHelper output)
{
    private const int Block = 16, Context = 256;
    private const string Text = "The quick brown fox jumps over the lazy dog while the cat watches from the window, " +
        "and the old farmer counts his sheep one by one before the sun goes down behind the hills.";

    private static string Model(string file) => Fixtures.Path("llamacpp", "models", file);

    private static int[] Prompt(ModelBundle bundle, int minTokens)
    {
        var tokens = new List<int>();
        while (tokens.Count < minTokens) tokens.AddRange(bundle.Tokenizer.Encode(Text, addSpecialTokens: false, parseSpecial: false));
        return [.. tokens];
    }

    private static InferenceState Fresh(Transformer model) => model.CreateState(Context);

    private static PrefixBlockStore Open(string dir, Transformer model, List<string> warnings, long maxBytes = 1L << 30) =>
        new(dir, PrefixBlockLayout.Of(model, Block), maxBytes, warnings.Add);

    /// <summary>Runs <paramref name="prompt"/> cold and saves its blocks, as a server does before it stops.</summary>
    private static void SaveCold(string dir, Transformer model, int[] prompt, List<string> warnings, long maxBytes = 1L << 30)
    {
        using var store = Open(dir, model, warnings, maxBytes);
        var state = Fresh(model);
        model.Forward(state, prompt, new float[model.Config.VocabSize]);
        store.Save(prompt, state);
    }

    [Theory]
    [InlineData("tiny-ds2-v3-q8_0.gguf")]
    [InlineData("tiny-qwen2-f32.gguf")]
    public void Blocks_survive_a_restart_and_give_the_cold_logits_exactly(string file)
    {
        using var bundle = ModelBundle.Load(Model(file));
        var model = bundle.Model;
        using var dir = new TempDir();
        int[] prompt = Prompt(bundle, 3 * Block + 5);
        var warnings = new List<string>();
        SaveCold(dir.Path, model, prompt, warnings);

        // A new store on the same directory is a restarted server.
        using var store = Open(dir.Path, model, warnings);
        Assert.Equal(prompt.Length / Block, store.Files);
        var warm = store.Load(prompt, (prompt.Length - 1) / Block, 0, () => Fresh(model), out int blocks);
        Assert.NotNull(warm);
        Assert.Equal((prompt.Length - 1) / Block, blocks);
        Assert.Equal(blocks * Block, warm!.Length);

        int v = model.Config.VocabSize;
        var coldLogits = new float[v];
        var cold = Fresh(model);
        model.Forward(cold, prompt, coldLogits);
        var warmLogits = new float[v];
        model.Forward(warm, prompt.AsSpan(warm.Length), warmLogits);
        Assert.Equal(coldLogits, warmLogits);

        // Greedy continuations from both states stay equal.
        for (int step = 0; step < 6; step++)
        {
            int next = ArgMax(coldLogits);
            Assert.Equal(next, ArgMax(warmLogits));
            model.Forward(cold, [next], coldLogits);
            model.Forward(warm, [next], warmLogits);
            Assert.Equal(coldLogits, warmLogits);
        }
        Assert.Empty(warnings);
    }

    [Fact]
    public void Mla_saves_far_fewer_bytes_per_token_than_a_per_head_cache()
    {
        foreach (var file in new[] { "tiny-ds2-v3-q8_0.gguf", "tiny-qwen2-f32.gguf" })
        {
            using var bundle = ModelBundle.Load(Model(file));
            var model = bundle.Model;
            var layout = PrefixBlockLayout.Of(model, Block);
            long perToken = 4L * layout.ValuesPerToken;
            long perHead = 4L * model.NaiveCachedValuesPerTokenPerLayer * model.Config.NumHiddenLayers;
            output.WriteLine($"{file}: {perToken} bytes per token on disk ({model.Config.NumHiddenLayers} layers × {model.CachedValuesPerTokenPerLayer} floats); " +
                $"a per-head K/V cache would take {perHead} ({(double)perHead / perToken:F1}×)");
            Assert.Equal(4L * model.CachedValuesPerTokenPerLayer * model.Config.NumHiddenLayers, perToken);
            if (model.Config.Family == ModelFamily.DeepSeek) Assert.True(perHead > 2 * perToken);
            else Assert.Equal(perHead, perToken);
        }
    }

    [Fact]
    public void Blocks_of_another_model_are_never_used()
    {
        using var f32 = ModelBundle.Load(Model("tiny-qwen2-f32.gguf"));
        using var q8 = ModelBundle.Load(Model("tiny-qwen2-q8_0.gguf"));
        using var dir = new TempDir();
        int[] prompt = Prompt(f32, 2 * Block + 3);
        Assert.Equal(prompt, Prompt(q8, 2 * Block + 3));
        var warnings = new List<string>();
        SaveCold(dir.Path, f32.Model, prompt, warnings);

        // Same tokens, same cache widths, other weights: the chain starts from another model id, so no name matches.
        using (var other = Open(dir.Path, q8.Model, warnings))
        {
            Assert.Null(other.Load(prompt, 2, 0, () => Fresh(q8.Model), out _));
            // A block renamed to what the other model would look for is still refused by its header.
            var key = other.Keys(prompt, 1)[0];
            string mine = Directory.GetFiles(dir.Path, "00000-*.kvblock").Single();
            File.Copy(mine, Path.Combine(dir.Path, other.FileName(0, key)));
        }
        using (var other = Open(dir.Path, q8.Model, warnings))
        {
            Assert.Null(other.Load(prompt, 2, 0, () => Fresh(q8.Model), out _));
            Assert.Equal(1, other.BlocksRejected);
            Assert.Contains(warnings, w => w.Contains("another model") && w.Contains(dir.Path));
        }
        // The first model's own blocks are untouched.
        using var own = Open(dir.Path, f32.Model, warnings);
        Assert.NotNull(own.Load(prompt, 2, 0, () => Fresh(f32.Model), out int blocks));
        Assert.Equal(2, blocks);
    }

    [Fact]
    public void Damaged_block_files_are_ignored_and_deleted()
    {
        using var bundle = ModelBundle.Load(Model("tiny-ds2-v3-q8_0.gguf"));
        var model = bundle.Model;
        using var dir = new TempDir();
        int[] prompt = Prompt(bundle, 4 * Block + 1);
        var warnings = new List<string>();
        SaveCold(dir.Path, model, prompt, warnings);
        int saved = prompt.Length / Block;
        string Named(int i) => Directory.GetFiles(dir.Path, $"{i:D5}-*.kvblock").Single();

        // Block 2 truncated, block 3 grown (e.g. overwritten with something else), a temp file a crash left behind.
        using (var f = new FileStream(Named(2), FileMode.Open)) f.SetLength(f.Length / 2);
        File.AppendAllText(Named(3), new string('x', 1 << 20));
        File.WriteAllBytes(Path.Combine(dir.Path, Path.GetFileName(Named(0)) + ".1234abcd.tmp"), [1, 2, 3]);
        using (var store = Open(dir.Path, model, warnings))
        {
            Assert.Empty(Directory.GetFiles(dir.Path, "*.tmp"));
            var state = store.Load(prompt, 4, 0, () => Fresh(model), out int blocks);
            Assert.Equal(2, blocks);
            Assert.Equal(2 * Block, state!.Length);
            Assert.Contains(warnings, w => w.Contains("truncated") && w.Contains(dir.Path));
        }
        Assert.Equal(saved - 1, Directory.GetFiles(dir.Path, "*.kvblock").Length);   // block 3 is past the break, not read

        // A flipped byte in the rows of block 1: the checksum catches it and only block 0 is used.
        var bytes = File.ReadAllBytes(Named(1));
        bytes[^100] ^= 0x40;
        File.WriteAllBytes(Named(1), bytes);
        // Garbage under a block's name: wrong magic, same length.
        using (var store = Open(dir.Path, model, warnings))
        {
            var state = store.Load(prompt, 4, 0, () => Fresh(model), out int blocks);
            Assert.Equal(1, blocks);
            Assert.Contains(warnings, w => w.Contains("checksum"));
            File.WriteAllBytes(Named(0), new byte[store.BlockFileBytes]);
        }
        using (var store = Open(dir.Path, model, warnings))
        {
            Assert.Null(store.Load(prompt, 4, 0, () => Fresh(model), out int blocks));
            Assert.Equal(0, blocks);
            Assert.Contains(warnings, w => w.Contains("bad magic"));
        }
        Assert.Equal(saved - 3, Directory.GetFiles(dir.Path, "*.kvblock").Length);
    }

    [Fact]
    public void The_size_bound_evicts_least_recently_used_blocks_deepest_first()
    {
        using var bundle = ModelBundle.Load(Model("tiny-qwen2-f32.gguf"));
        var model = bundle.Model;
        using var dir = new TempDir();
        int[] prompt = Prompt(bundle, 5 * Block + 1);
        var warnings = new List<string>();
        long blockBytes;
        using (var probe = Open(dir.Path, model, warnings)) blockBytes = probe.BlockFileBytes;
        long bound = blockBytes * 5 / 2;   // room for two blocks and a half

        SaveCold(dir.Path, model, prompt, warnings, bound);
        using var store = Open(dir.Path, model, warnings, bound);
        Assert.True(store.Bytes <= bound, $"{store.Bytes} bytes on disk, bound {bound}");
        Assert.Equal(2, store.Files);
        Assert.NotNull(store.Load(prompt, 5, 0, () => Fresh(model), out int blocks));
        Assert.Equal(2, blocks);   // the chain shrank from its end, so what is left is still usable

        // Another prompt's blocks push out the older chain, least recently used first.
        int[] other = [.. prompt.Reverse()];
        var state = Fresh(model);
        model.Forward(state, other, new float[model.Config.VocabSize]);
        store.Save(other, state);
        store.Flush();
        Assert.True(store.Bytes <= bound);
        Assert.Null(store.Load(prompt, 5, 0, () => Fresh(model), out _));
        Assert.NotNull(store.Load(other, 5, 0, () => Fresh(model), out int otherBlocks));
        Assert.Equal(2, otherBlocks);
        Assert.Empty(warnings);
    }

    [Fact]
    public async Task A_restarted_scheduler_reports_disk_hits_as_cached_tokens()
    {
        using var bundle = ModelBundle.Load(Model("tiny-ds2-v3-q8_0.gguf"));
        using var dir = new TempDir();
        var options = new SchedulerOptions { PrefixCacheDirectory = dir.Path, ContextSize = Context };
        var prompt = new PreparedPrompt(Prompt(bundle, 3 * Block + 2), false);
        CompletionResult first;
        using (var before = new ChatPipeline(bundle, options)) first = await before.CompleteAsync(prompt, new CompletionOptions { MaxTokens = 4 });
        Assert.Equal(0, first.Usage.CachedTokens);

        using var after = new ChatPipeline(bundle, options);
        var second = await after.CompleteAsync(prompt, new CompletionOptions { MaxTokens = 4 });
        Assert.Equal((prompt.Tokens.Length - 1) / Block * Block, second.Usage.CachedTokens);
        Assert.Equal(second.Usage.CachedTokens, after.Scheduler.Metrics.PrefixCacheHitTokens);
        Assert.Equal(first.Content, second.Content);
    }

    private static int ArgMax(float[] x)
    {
        int best = 0;
        for (int i = 1; i < x.Length; i++) if (x[i] > x[best]) best = i;
        return best;
    }

    [Fact]
    public void A_fifo_under_a_block_name_is_never_opened_for_a_blocking_read()
    {
        // Issue 17.3: opening a FIFO for reading waits for a writer for ever; the scheduler did it under the cache lock.
        using var bundle = ModelBundle.Load(Model("tiny-ds2-v3-q8_0.gguf"));
        var model = bundle.Model;
        using var dir = new TempDir();
        int[] prompt = Prompt(bundle, 3 * Block + 5);
        var warnings = new List<string>();
        SaveCold(dir.Path, model, prompt, warnings);
        var files = Directory.GetFiles(dir.Path, "*.kvblock").Order(StringComparer.Ordinal).ToArray();
        Assert.True(files.Length >= 3);

        // One block replaced after the store indexed it (found at load), one before (found by the scan).
        File.Delete(files[0]);
        Fifo.Make(files[0]);
        using (var store = Open(dir.Path, model, warnings))
        {
            Assert.Contains(warnings, w => w.Contains("FIFO", StringComparison.Ordinal));
            Assert.Equal(files.Length - 1, store.Files);
            var clock = System.Diagnostics.Stopwatch.StartNew();
            Assert.Null(store.Load(prompt, (prompt.Length - 1) / Block, 0, () => Fresh(model), out _));
            Assert.True(clock.Elapsed < store.IoTimeout, $"Load took {clock.Elapsed}");
        }
        File.Delete(files[0]);
        SaveCold(dir.Path, model, prompt, warnings);
        using (var store = Open(dir.Path, model, warnings))
        {
            File.Delete(files[1]);
            Fifo.Make(files[1]);
            warnings.Clear();
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var state = store.Load(prompt, (prompt.Length - 1) / Block, 0, () => Fresh(model), out int blocks);
            Assert.True(clock.Elapsed < store.IoTimeout, $"Load took {clock.Elapsed}");
            // Block 0 loads; block 1 is a FIFO: refused (and removed) as not a regular file, so only one block is reused.
            Assert.Equal(1, blocks);
            Assert.NotNull(state);
            Assert.Contains(warnings, w => w.Contains("FIFO", StringComparison.Ordinal));
            Assert.False(File.Exists(files[1]));
        }
    }
}
