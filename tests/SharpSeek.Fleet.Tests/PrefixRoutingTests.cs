using System.Text.Json;
using SharpSeek.Gateway;

namespace SharpSeek.Fleet.Tests;

/// <summary>The prefix key, the consistent-hash ring and the load bound: the parts of the prefix policy that are plain functions.</summary>
public sealed class PrefixRoutingTests
{
    private static ulong? Key(string json) => PrefixKey.Of(JsonDocument.Parse(json).RootElement);

    [Fact]
    public void Every_turn_of_a_conversation_has_the_key_of_its_leading_messages()
    {
        const string sys = """{"role":"system","content":"You are terse."}""";
        ulong? turn1 = Key($$"""{"messages":[{{sys}},{"role":"user","content":"What is 2+2?"}]}""");
        ulong? turn3 = Key($$"""{"model":"m","messages":[{{sys}},{"role":"user","content":"What is 2+2?"},{"role":"assistant","content":"4"},{"role":"user","content":"And 3+3?"}]}""");
        Assert.NotNull(turn1);
        Assert.Equal(turn1, turn3);
        // The same question under another system prompt, or another first question, is another conversation.
        Assert.NotEqual(turn1, Key("""{"messages":[{"role":"system","content":"You are verbose."},{"role":"user","content":"What is 2+2?"}]}"""));
        Assert.NotEqual(turn1, Key($$"""{"messages":[{{sys}},{"role":"user","content":"What is 2+3?"}]}"""));
        // The chain is ordered: swapping role and text, or the messages, changes it.
        Assert.NotEqual(Key("""{"messages":[{"role":"user","content":"a"}]}"""), Key("""{"messages":[{"role":"a","content":"user"}]}"""));
        // Content parts hash as their text.
        Assert.Equal(Key("""{"messages":[{"role":"user","content":"hello world"}]}"""),
            Key("""{"messages":[{"role":"user","content":[{"type":"text","text":"hello "},{"type":"text","text":"world"}]}]}"""));
    }

    [Fact]
    public void Prompts_are_keyed_by_their_leading_characters_and_other_bodies_have_no_key()
    {
        string head = new('x', PrefixKey.PromptChars);
        Assert.Equal(Key($$"""{"prompt":"{{head}}tail one"}"""), Key($$"""{"prompt":"{{head}}another tail"}"""));
        Assert.NotEqual(Key("""{"prompt":"def f():"}"""), Key("""{"prompt":"def g():"}"""));
        Assert.Null(Key("""{"input":"embed me"}"""));
        Assert.Null(Key("""{"messages":[]}"""));
        Assert.Null(Key("[1,2]"));
    }

    [Fact]
    public void A_member_leaving_the_ring_moves_only_its_own_keys_and_they_return_with_it()
    {
        var three = new ConsistentHashRing(["a", "b", "c"]);
        var two = new ConsistentHashRing(["a", "c"]);
        var random = new Random(7);
        var counts = new int[3];
        for (int i = 0; i < 30_000; i++)
        {
            ulong key = (ulong)random.NextInt64();
            string owner = three.Members[three.Owner(key)];
            counts[three.Owner(key)]++;
            if (owner != "b") Assert.Equal(owner, two.Members[two.Owner(key)]);
            Assert.Equal(owner, new[] { "a", "b", "c" }[three.Owner(key)]);
        }
        // 160 points per member: each share within a few points of a third.
        foreach (int c in counts) Assert.InRange(c / 30_000.0, 0.25, 0.42);
    }

    [Fact]
    public void The_load_bound_needs_both_the_absolute_and_the_relative_excess()
    {
        var bound = new LoadBound(4, 1.5);
        Assert.False(bound.Exceeded(4, 0));    // 4 more is not more than 4
        Assert.True(bound.Exceeded(5, 0));
        Assert.False(bound.Exceeded(14, 10));  // 4 more
        Assert.False(bound.Exceeded(15, 10));  // 5 more, but only 1.5 times
        Assert.True(bound.Exceeded(16, 10));
    }

    [Fact]
    public void Unknown_policy_names_the_policies()
    {
        var e = Assert.Throws<ArgumentException>(() => GatewayPolicies.Parse("fastest"));
        Assert.Equal("unknown --policy 'fastest': the policies are prefix, least-load, round-robin", e.Message);
        Assert.Equal(GatewayPolicies.LeastLoad, GatewayPolicies.Parse("Least-Load"));
    }
}
