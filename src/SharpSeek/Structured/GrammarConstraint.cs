using System.Runtime.CompilerServices;
using System.Numerics;
using SharpSeek.Generation;

namespace SharpSeek.Structured;

/// <summary>
/// One sequence's parser state under a <see cref="TokenGrammar"/>, as an <see cref="ITokenConstraint"/>: each step it
/// allows exactly the tokens that keep the output a prefix of the grammar's language, and once the grammar is complete
/// it allows the stop tokens (and nothing else when nothing may follow). The mask is the union, over the parser's
/// current stacks, of each top position's precomputed accepted tokens plus those of its uncertain tokens that the full
/// stack accepts (checked by walking their bytes, sharing prefixes in trie order).
/// </summary>
public sealed class GrammarConstraint : ITokenConstraint
{
    private readonly TokenGrammar _grammar;
    private readonly TokenVocabulary _vocab;
    private readonly ParseStacks _stacks;
    private readonly int[] _classOf;
    private readonly ulong[] _allowed;
    private int[] _tops;
    private bool _end;
    private readonly List<int> _next = [];

    // Walk buffers for checking uncertain tokens: the tops after each byte of the last walked token.
    private readonly int[][] _walkSet;
    private readonly int[] _walkLen;
    private readonly bool[] _walkEnd;
    private readonly int[][] _walkBuf;

    public GrammarConstraint(TokenGrammar grammar)
    {
        _grammar = grammar;
        _vocab = grammar.Vocabulary;
        _stacks = new ParseStacks(grammar.Automaton);
        _classOf = grammar.Automaton.ClassOf;
        _allowed = new ulong[(_vocab.Size + 63) >> 6];
        int start = _stacks.Start();
        _tops = _stacks.Tops(start);
        _end = (_stacks.Flags(start) & ParseStacks.EndFlag) != 0;
        int depth = _vocab.MaxTokenBytes + 1;
        _walkSet = new int[depth][];
        _walkLen = new int[depth];
        _walkEnd = new bool[depth];
        _walkBuf = new int[depth][];
    }

    public TokenGrammar Grammar => _grammar;

    /// <summary>Whether the output so far is a complete sentence of the grammar (a stop token may come now).</summary>
    public bool IsComplete => _end;

    /// <summary>Whether nothing but a stop token may follow.</summary>
    public bool IsFinished => _end && _tops.Length == 0;

    /// <summary>Tokens accepted so far.</summary>
    public int Position { get; private set; }

    /// <inheritdoc/>
    public void Mask(Span<float> logits)
    {
        ComputeAllowed();
        Apply(logits);
    }

    /// <summary>Fills the allowed-token bit set for the current state (bit t of word t/64).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal ReadOnlySpan<ulong> ComputeAllowed()
    {
        Array.Clear(_allowed);
        if (_end)
            foreach (int s in _vocab.StopIds) _allowed[s >> 6] |= 1UL << s;
        foreach (int top in _tops)
        {
            var entry = _grammar.Entry(_stacks.Rule(top), _stacks.State(top));
            if (entry.Bits is { } bits)
            {
                var dst = _allowed.AsSpan();
                for (int w = 0; w < dst.Length; w++) dst[w] |= bits[w];
            }
            else foreach (int t in entry.List!) _allowed[t >> 6] |= 1UL << t;
            if (entry.Uncertain.Length > 0) CheckUncertain(top, entry.Uncertain);
        }
        return _allowed;
    }

    /// <summary>Whether <paramref name="token"/> may come next (from the last <see cref="ComputeAllowed"/> or <see cref="Mask"/>).</summary>
    internal bool WasAllowed(int token) => (uint)token < (uint)_vocab.Size && (_allowed[token >> 6] & (1UL << token)) != 0;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void CheckUncertain(int top, int[] tokens)
    {
        _walkSet[0] = [top];
        _walkLen[0] = 1;
        _walkEnd[0] = false;
        ReadOnlySpan<byte> last = [];
        int computed = 0;   // depths 0..computed of `last` are in the walk buffers
        foreach (int token in tokens)
        {
            if ((_allowed[token >> 6] & (1UL << token)) != 0) continue;
            ReadOnlySpan<byte> b = _vocab.Bytes(token);
            int l = Math.Min(last.CommonPrefixLength(b), computed);
            if (l < b.Length && _walkLen[l] == 0) continue;   // shares a prefix after which nothing survives
            int d = l;
            for (; d < b.Length; d++)
            {
                if (_walkLen[d] == 0) break;
                StepAll(d, _classOf[b[d]]);
            }
            last = b;
            computed = d;
            if (d == b.Length && (_walkLen[d] > 0 || _walkEnd[d])) _allowed[token >> 6] |= 1UL << token;
        }
    }

    /// <summary>Walk depth <paramref name="d"/> + 1 = the tops of depth d advanced by one symbol class.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void StepAll(int d, int cls)
    {
        int[] from = _walkSet[d];
        int n = _walkLen[d];
        if (n == 1)
        {
            int r = _stacks.Step(from[0], cls);
            _walkSet[d + 1] = _stacks.Tops(r);
            _walkLen[d + 1] = _walkSet[d + 1].Length;
            _walkEnd[d + 1] = (_stacks.Flags(r) & ParseStacks.EndFlag) != 0;
            return;
        }
        int[] buf = _walkBuf[d + 1] ??= new int[8];
        int len = 0;
        bool end = false;
        for (int k = 0; k < n; k++)
        {
            int r = _stacks.Step(from[k], cls);
            end |= (_stacks.Flags(r) & ParseStacks.EndFlag) != 0;
            foreach (int t in _stacks.Tops(r))
            {
                if (Array.IndexOf(buf, t, 0, len) >= 0) continue;
                if (len == buf.Length) { Array.Resize(ref _walkBuf[d + 1], len * 2); buf = _walkBuf[d + 1]!; }
                buf[len++] = t;
            }
        }
        _walkSet[d + 1] = buf;
        _walkLen[d + 1] = len;
        _walkEnd[d + 1] = end;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Apply(Span<float> logits)
    {
        int n = Math.Min(logits.Length, _vocab.Size);
        for (int w = 0, at = 0; at < n; w++, at += 64)
        {
            ulong bits = _allowed[w];
            int count = Math.Min(64, n - at);
            if (bits == ulong.MaxValue && count == 64) continue;
            if (bits == 0) { logits.Slice(at, count).Fill(float.NegativeInfinity); continue; }
            for (int k = 0; k < count; k++)
                if ((bits & (1UL << k)) == 0) logits[at + k] = float.NegativeInfinity;
        }
        if (logits.Length > n) logits[n..].Fill(float.NegativeInfinity);
    }

    /// <inheritdoc/>
    /// <exception cref="InvalidOperationException">the grammar does not allow <paramref name="token"/> here.</exception>
    public void Accept(int token)
    {
        if (!TryAdvance(token, out int[] tops, out bool end))
            throw new InvalidOperationException($"token {token} is not allowed by the grammar at position {Position}");
        _tops = tops;
        _end = end;
        Position++;
    }

    /// <summary>Whether <paramref name="token"/> may come next, decided by simulating it on the full stacks (the reference the masks are tested against).</summary>
    public bool IsAllowed(int token) => TryAdvance(token, out _, out _);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private bool TryAdvance(int token, out int[] tops, out bool end)
    {
        tops = _tops;
        end = _end;
        if (Array.BinarySearch(_vocab.StopIds, token) >= 0) return _end;
        int added = _vocab.AddedIndex(token);
        if (added >= 0) return StepSet(ref tops, ref end, _grammar.AddedClass[added]);
        ReadOnlySpan<byte> b = _vocab.Bytes(token);
        if (b.Length == 0) return false;
        foreach (byte x in b)
        {
            if (tops.Length == 0) return false;   // complete or dead: nothing more can be consumed
            StepSet(ref tops, ref end, _classOf[x]);
        }
        return tops.Length > 0 || end;
    }

    private bool StepSet(ref int[] tops, ref bool end, int cls)
    {
        _next.Clear();
        end = false;
        foreach (int top in tops)
        {
            int r = _stacks.Step(top, cls);
            end |= (_stacks.Flags(r) & ParseStacks.EndFlag) != 0;
            foreach (int t in _stacks.Tops(r))
                if (!_next.Contains(t)) _next.Add(t);
        }
        tops = [.. _next];
        return tops.Length > 0 || end;
    }

    /// <summary>The number of tokens the current state allows (after <see cref="ComputeAllowed"/>).</summary>
    internal int AllowedCount()
    {
        int c = 0;
        foreach (ulong w in _allowed) c += BitOperations.PopCount(w);
        return c;
    }
}
