using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using SharpSeek.Models;

namespace SharpSeek.Serving;

/// <summary>
/// The binary format of one prefix block on disk (little-endian):
/// <code>
///  0  8   magic "SSPFXBLK"
///  8  4   version (1)
/// 12  4   dtype (0 = float32)
/// 16  16  model id
/// 32  32  block key (hash chain of the tokens up to and including this block)
/// 64  4   block size B (tokens)
/// 68  4   block index (its first position is index·B)
/// 72  4   layers L
/// 76  4   row buffers per layer R
/// 80  4·L·R  row widths
///     4·B    tokens of the block
///     4·B·Σwidths  rows, layer by layer, buffer by buffer, B rows each
///     32  SHA-256 of everything before it
/// </code>
/// Every field is checked against the expected layout before the rows are used, and the length is known from the
/// layout alone, so a damaged file can never make the reader allocate more than one block.
/// </summary>
internal static class PrefixBlockFile
{
    public const int Version = 1;
    public const int KeyBytes = 32;
    private const int HashBytes = 32;
    private const int FixedHeaderBytes = 80;
    private static ReadOnlySpan<byte> Magic => "SSPFXBLK"u8;

    public static int HeaderBytes(PrefixBlockLayout layout) => FixedHeaderBytes + 4 * layout.Layers * layout.RowsPerLayer;

    public static long FileBytes(PrefixBlockLayout layout) =>
        HeaderBytes(layout) + 4L * layout.BlockSize + layout.PayloadBytes + HashBytes;

    /// <summary>Serialises block <paramref name="index"/> of <paramref name="state"/>; the hash is filled by <see cref="Seal"/>.</summary>
    public static byte[] Encode(PrefixBlockLayout layout, ReadOnlySpan<byte> key, int index, ReadOnlySpan<int> tokens, InferenceState state)
    {
        int b = layout.BlockSize;
        var data = new byte[FileBytes(layout)];
        var s = data.AsSpan();
        Magic.CopyTo(s);
        BinaryPrimitives.WriteInt32LittleEndian(s[8..], Version);
        BinaryPrimitives.WriteInt32LittleEndian(s[12..], 0);
        layout.ModelId.CopyTo(s[16..]);
        key.CopyTo(s[32..]);
        BinaryPrimitives.WriteInt32LittleEndian(s[64..], b);
        BinaryPrimitives.WriteInt32LittleEndian(s[68..], index);
        BinaryPrimitives.WriteInt32LittleEndian(s[72..], layout.Layers);
        BinaryPrimitives.WriteInt32LittleEndian(s[76..], layout.RowsPerLayer);
        int at = FixedHeaderBytes;
        foreach (var layer in layout.RowWidths)
            foreach (int w in layer) { BinaryPrimitives.WriteInt32LittleEndian(s[at..], w); at += 4; }
        foreach (int t in tokens) { BinaryPrimitives.WriteInt32LittleEndian(s[at..], t); at += 4; }
        var rows = MemoryMarshal.Cast<byte, float>(s[at..^HashBytes]);
        int o = 0;
        foreach (var cache in state.Caches)
            foreach (var buffer in cache.Rows)
            {
                int n = b * buffer.Width;
                buffer.Data.AsSpan(index * b * buffer.Width, n).CopyTo(rows[o..]);
                o += n;
            }
        return data;
    }

    /// <summary>Writes the trailing hash (done off the scheduler thread).</summary>
    public static void Seal(byte[] data) => SHA256.HashData(data.AsSpan(0, data.Length - HashBytes), data.AsSpan(data.Length - HashBytes));

    /// <summary>
    /// Checks <paramref name="data"/> against the layout, key, index and tokens expected, and the hash when
    /// <paramref name="checkHash"/>. Returns null when it is valid, else why not.
    /// </summary>
    public static string? Validate(ReadOnlySpan<byte> data, PrefixBlockLayout layout, ReadOnlySpan<byte> key, int index, ReadOnlySpan<int> tokens, bool checkHash)
    {
        if (data.Length != FileBytes(layout)) return $"it has {data.Length} bytes, a block of this model has {FileBytes(layout)}";
        if (!data[..8].SequenceEqual(Magic)) return "it is not a SharpSeek prefix block (bad magic)";
        int version = BinaryPrimitives.ReadInt32LittleEndian(data[8..]);
        if (version != Version) return $"it has format version {version}, this build reads {Version}";
        if (BinaryPrimitives.ReadInt32LittleEndian(data[12..]) != 0) return "its dtype is not float32";
        if (!data.Slice(16, PrefixBlockLayout.ModelIdBytes).SequenceEqual(layout.ModelId)) return "it was computed by another model";
        if (!data.Slice(32, KeyBytes).SequenceEqual(key)) return "its key does not match its name";
        if (BinaryPrimitives.ReadInt32LittleEndian(data[64..]) != layout.BlockSize) return "its block size differs";
        if (BinaryPrimitives.ReadInt32LittleEndian(data[68..]) != index) return "its block index differs";
        if (BinaryPrimitives.ReadInt32LittleEndian(data[72..]) != layout.Layers || BinaryPrimitives.ReadInt32LittleEndian(data[76..]) != layout.RowsPerLayer)
            return "its layer count differs";
        int at = FixedHeaderBytes;
        foreach (var layer in layout.RowWidths)
            foreach (int w in layer)
            {
                if (BinaryPrimitives.ReadInt32LittleEndian(data[at..]) != w) return "its row widths differ";
                at += 4;
            }
        foreach (int t in tokens)
        {
            if (BinaryPrimitives.ReadInt32LittleEndian(data[at..]) != t) return "its tokens differ from the prompt's";
            at += 4;
        }
        if (checkHash)
        {
            Span<byte> hash = stackalloc byte[HashBytes];
            SHA256.HashData(data[..^HashBytes], hash);
            if (!hash.SequenceEqual(data[^HashBytes..])) return "its checksum does not match (corrupt)";
        }
        return null;
    }

    /// <summary>Copies a validated block's rows into <paramref name="state"/> at positions index·B onwards (the caches must have room).</summary>
    public static void CopyRows(ReadOnlySpan<byte> data, PrefixBlockLayout layout, int index, InferenceState state)
    {
        int b = layout.BlockSize;
        var rows = MemoryMarshal.Cast<byte, float>(data[(HeaderBytes(layout) + 4 * b)..^HashBytes]);
        int o = 0;
        foreach (var cache in state.Caches)
            foreach (var buffer in cache.Rows)
            {
                int n = b * buffer.Width;
                rows.Slice(o, n).CopyTo(buffer.Data.AsSpan(index * b * buffer.Width, n));
                o += n;
            }
    }
}
