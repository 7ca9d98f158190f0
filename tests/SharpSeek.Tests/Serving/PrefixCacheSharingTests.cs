using SharpSeek.Chat;
using SharpSeek.Serving;
using SharpSeek.Tests.Support;
using Xunit.Abstractions;

namespace SharpSeek.Tests.Serving;

/// <summary>
/// Several conversations that share a system prompt, their turns interleaved as a server sees them: a new conversation
/// must start from the shared system prompt without taking another conversation's cached history, so every later turn
/// still finds its own conversation in the cache.
/// </summary>
public sealed class PrefixCacheSharingTests(ITestOutputHelper output)
{
    private static readonly string DeepSeek = Fixtures.Path("llamacpp", "models", "tiny-ds2-v3-f32.gguf");
    private const int Block = 4;
    private const int Conversations = 4;
    private const int Turns = 3;

    private sealed record Turn(int Conversation, int Index, int[] Prompt, int Cached, string Answer);

    /// <summary>Turn t of every conversation, then turn t + 1 of every one, and so on; greedy, so answers are reproducible.</summary>
    private static async Task<List<Turn>> Converse(ChatPipeline pipeline)
    {
        var system = ChatMessage.System("You are a careful assistant. Answer briefly, check every step, and say when you are unsure.");
        var histories = Enumerable.Range(0, Conversations).Select(_ => new List<ChatMessage> { system }).ToArray();
        var turns = new List<Turn>();
        for (int t = 0; t < Turns; t++)
            for (int c = 0; c < Conversations; c++)
            {
                histories[c].Add(ChatMessage.User($"conversation {c}, question {t}: what comes after {c * 10 + t}?"));
                var prompt = pipeline.PrepareChat(histories[c]);
                var r = await pipeline.CompleteAsync(prompt, new CompletionOptions { MaxTokens = 6 });
                histories[c].Add(ChatMessage.Assistant(r.Content));
                turns.Add(new Turn(c, t, prompt.Tokens, r.Usage.CachedTokens, r.Reasoning + r.Content));
            }
        return turns;
    }

    [Fact]
    public async Task A_new_conversation_sharing_the_system_prompt_leaves_the_others_cached()
    {
        using var bundle = ModelBundle.Load(DeepSeek);
        using var pipeline = new ChatPipeline(bundle, new SchedulerOptions { BlockSize = Block, ContextSize = 512 });
        var turns = await Converse(pipeline);

        var m = pipeline.Scheduler.Metrics;
        output.WriteLine($"prefix-cache hit ratio {m.PrefixCacheHitRatio:0.000} ({m.PrefixCacheHitTokens} of {m.PromptTokens} prompt tokens), " +
            $"{pipeline.Scheduler.PrefixCache.CopiedTokens} tokens copied, {pipeline.Scheduler.PrefixCache.Count} entries");
        int system = turns[0].Prompt.AsSpan().CommonPrefixLength(turns[1].Prompt) / Block * Block;
        Assert.True(system > 0);
        foreach (var turn in turns)
        {
            // A first turn finds the system prompt another conversation left; a later turn finds its own previous prompt.
            var earlier = turns.Where(x => x.Conversation == turn.Conversation && x.Index == turn.Index - 1).SingleOrDefault();
            int expected = earlier is null
                ? (turn.Conversation == 0 ? 0 : system)
                : earlier.Prompt.AsSpan().CommonPrefixLength(turn.Prompt) / Block * Block;
            Assert.True(turn.Cached >= expected, $"conversation {turn.Conversation} turn {turn.Index}: {turn.Cached} cached tokens, at least {expected} expected");
        }
        Assert.True(pipeline.Scheduler.PrefixCache.CopiedTokens > 0);

        // Shared or not, the answers are the ones computed from nothing.
        using var cold = new ChatPipeline(bundle, new SchedulerOptions { BlockSize = Block, ContextSize = 512, PrefixCacheEntries = 0 });
        var coldTurns = await Converse(cold);
        Assert.Equal(coldTurns.Select(t => t.Answer), turns.Select(t => t.Answer));
        Assert.Equal(0, cold.Scheduler.Metrics.PrefixCacheHitTokens);
    }

    [Fact]
    public async Task The_disk_cache_holds_every_conversation_and_serves_them_after_a_restart()
    {
        using var dir = new TempDir();
        using var bundle = ModelBundle.Load(DeepSeek);
        var options = new SchedulerOptions { BlockSize = Block, ContextSize = 512, PrefixCacheDirectory = dir.Path };
        List<Turn> turns;
        using (var pipeline = new ChatPipeline(bundle, options))
        {
            turns = await Converse(pipeline);
            pipeline.Scheduler.PrefixCache.Disk!.Flush();
            var m = pipeline.Scheduler.Metrics;
            output.WriteLine($"with the disk cache: hit ratio {m.PrefixCacheHitRatio:0.000} ({m.PrefixCacheHitTokens} of {m.PromptTokens}), {pipeline.Scheduler.PrefixCache.Disk.BlocksLoaded} blocks loaded from disk");
            // Memory served every hit: a disk load happens only when disk has more than memory.
            Assert.Equal(0, pipeline.Scheduler.PrefixCache.Disk.BlocksLoaded);
        }
        // A restarted server has nothing in memory; each conversation's last prompt finds its whole history on disk.
        using var restarted = new ChatPipeline(bundle, options);
        foreach (var last in turns.Where(t => t.Index == Turns - 1))
        {
            var r = await restarted.CompleteAsync(new PreparedPrompt(last.Prompt, false), new CompletionOptions { MaxTokens = 1 });
            Assert.True(r.Usage.CachedTokens >= last.Cached, $"conversation {last.Conversation}: {r.Usage.CachedTokens} tokens from disk, {last.Cached} from memory before");
        }
        Assert.True(restarted.Scheduler.PrefixCache.Disk!.BlocksLoaded > 0);
    }

    [Fact]
    public void A_hit_copies_the_shared_rows_and_keeps_the_entry_unless_it_has_nothing_beyond_them()
    {
        using var bundle = ModelBundle.Load(DeepSeek);
        var model = bundle.Model;
        var cache = new PrefixCache(4, Block, null, () => model.CreateState(64));
        int[] conversation = [.. Enumerable.Range(1, 14)];
        var state = model.CreateState(64);
        model.Forward(state, conversation, new float[model.Config.VocabSize]);
        cache.Put(conversation, state);

        // Another conversation sharing 9 tokens: 8 (two blocks) are copied out, the entry stays whole.
        int[] other = [.. conversation[..9], 99, 98, 97];
        var copy = cache.Take(other, out int reused);
        Assert.Equal(8, reused);
        Assert.NotNull(copy);
        Assert.NotSame(state, copy);
        Assert.Equal(8, copy!.Length);
        Assert.Equal(14, state.Length);
        Assert.Equal(1, cache.Count);
        for (int layer = 0; layer < state.Caches.Length; layer++)
            for (int r = 0; r < state.Caches[layer].Rows.Count; r++)
            {
                var a = state.Caches[layer].Rows[r];
                var b = copy.Caches[layer].Rows[r];
                Assert.True(a.Data.AsSpan(0, 8 * a.Width).SequenceEqual(b.Data.AsSpan(0, 8 * b.Width)), $"layer {layer} rows {r} differ");
            }
        Assert.Equal(8, cache.CopiedTokens);

        // The same conversation's next turn takes all of it (12 of 14 in whole blocks): it moves out, uncopied.
        int[] next = [.. conversation, 50, 51, 52];
        var moved = cache.Take(next, out reused);
        Assert.Equal(12, reused);
        Assert.Same(state, moved);
        Assert.Equal(0, cache.Count);
        Assert.Equal(8, cache.CopiedTokens);
    }

    [Fact]
    public void An_entry_a_newly_offered_one_extends_is_dropped()
    {
        using var bundle = ModelBundle.Load(DeepSeek);
        var model = bundle.Model;
        var cache = new PrefixCache(4, Block, null, () => model.CreateState(64));
        int[] first = [.. Enumerable.Range(1, 8)], longer = [.. Enumerable.Range(1, 12)], diverging = [1, 2, 3, 4, 70, 71, 72, 73];
        cache.Put(first, model.CreateState(64));
        cache.Put(diverging, model.CreateState(64));
        Assert.Equal(2, cache.Count);
        cache.Put(longer, model.CreateState(64));
        // 'first' is a prefix of 'longer' and can serve nothing 'longer' cannot; 'diverging' has blocks of its own.
        Assert.Equal(2, cache.Count);
    }
}
