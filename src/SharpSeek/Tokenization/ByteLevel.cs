namespace SharpSeek.Tokenization;

/// <summary>
/// GPT-2's byte-to-unicode table used by byte-level BPE: every byte maps to one printable code point
/// (printable Latin-1 bytes map to themselves, the rest to U+0100 and up), so any UTF-8 byte string
/// becomes a string of vocabulary characters and back.
/// </summary>
public static class ByteLevel
{
    private static readonly char[] ByteToCharTable = BuildByteToChar();
    private static readonly short[] CharToByteTable = BuildCharToByte(ByteToCharTable);

    /// <summary>The vocabulary character standing for <paramref name="b"/>.</summary>
    public static char ByteToChar(byte b) => ByteToCharTable[b];

    /// <summary>The byte a vocabulary character stands for, or -1 if <paramref name="c"/> is not a byte-level character.</summary>
    public static int CharToByte(char c) => c < CharToByteTable.Length ? CharToByteTable[c] : -1;

    /// <summary>Maps bytes to their vocabulary characters.</summary>
    public static string Encode(ReadOnlySpan<byte> bytes)
    {
        return string.Create(bytes.Length, bytes.ToArray(), static (dst, src) =>
        {
            for (int i = 0; i < src.Length; i++) dst[i] = ByteToCharTable[src[i]];
        });
    }

    /// <summary>Maps a vocabulary token back to bytes; returns false (and no bytes) if any character is not byte-level.</summary>
    public static bool TryDecode(string token, out byte[] bytes)
    {
        var result = new byte[token.Length];
        for (int i = 0; i < token.Length; i++)
        {
            int b = CharToByte(token[i]);
            if (b < 0) { bytes = []; return false; }
            result[i] = (byte)b;
        }
        bytes = result;
        return true;
    }

    private static char[] BuildByteToChar()
    {
        var table = new char[256];
        var assigned = new bool[256];
        for (int b = '!'; b <= '~'; b++) { table[b] = (char)b; assigned[b] = true; }
        for (int b = 0xA1; b <= 0xAC; b++) { table[b] = (char)b; assigned[b] = true; }
        for (int b = 0xAE; b <= 0xFF; b++) { table[b] = (char)b; assigned[b] = true; }
        int n = 0;
        for (int b = 0; b < 256; b++)
        {
            if (assigned[b]) continue;
            table[b] = (char)(256 + n);
            n++;
        }
        return table;
    }

    private static short[] BuildCharToByte(char[] byteToChar)
    {
        var table = new short[324];
        Array.Fill(table, (short)-1);
        for (int b = 0; b < 256; b++) table[byteToChar[b]] = (short)b;
        return table;
    }
}
