using System.Runtime.CompilerServices;
using System.Text;

namespace SharpSeek.Formats.Gguf;

/// <summary>
/// Bounds-checked little-endian reads over the mapped GGUF header. Every length is compared with the bytes that are
/// actually left before anything is sized from it, so a lying header fails with a message instead of a huge allocation.
/// </summary>
internal unsafe struct GgufHeaderCursor(byte* data, long length, string file)
{
    private long _pos;

    public readonly long Position => _pos;
    public readonly long Remaining => length - _pos;
    public readonly string File => file;

    public readonly ModelFormatException Error(string what) => new($"{file}: {what}");

    private byte* Take(long n, string what)
    {
        if (n > Remaining)
            throw Error($"truncated while reading {what} at byte {_pos}: needs {n} bytes, {Remaining} left");
        byte* p = data + _pos;
        _pos += n;
        return p;
    }

    public byte ReadU8(string what) => *Take(1, what);
    public ushort ReadU16(string what) => Unsafe.ReadUnaligned<ushort>(Take(2, what));
    public uint ReadU32(string what) => Unsafe.ReadUnaligned<uint>(Take(4, what));
    public ulong ReadU64(string what) => Unsafe.ReadUnaligned<ulong>(Take(8, what));

    /// <summary>A gguf_string (u64 length + UTF-8 bytes) of at most <paramref name="maxBytes"/> bytes.</summary>
    public string ReadString(long maxBytes, string what)
    {
        ulong n = ReadU64(what + " length");
        if (n > (ulong)Remaining)
            throw Error($"{what}: string length {n} exceeds the {Remaining} bytes left in the file: truncated or corrupt");
        if (n > (ulong)maxBytes)
            throw Error($"{what}: string length {n} exceeds the {maxBytes}-byte limit");
        byte* p = Take((long)n, what);
        return Encoding.UTF8.GetString(p, (int)n);
    }

    /// <summary>Checks that <paramref name="count"/> items of at least <paramref name="minBytesEach"/> bytes can still fit, and the limit.</summary>
    public readonly int CheckCount(ulong count, long minBytesEach, long limit, string what)
    {
        if (count > (ulong)limit)
            throw Error($"{what} is {count}, above the limit of {limit}");
        if (minBytesEach > 0 && count > (ulong)(Remaining / minBytesEach))
            throw Error($"{what} is {count}, but only {Remaining} bytes are left in the file (≥ {minBytesEach} bytes each): truncated or corrupt");
        return (int)count;
    }

    public void Seek(long pos) => _pos = pos;
}
