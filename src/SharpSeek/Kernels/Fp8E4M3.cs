namespace SharpSeek.Kernels;

/// <summary>float8_e4m3fn decoding: sign, 4 exponent bits (bias 7), 3 mantissa bits, subnormals, no infinities, 0x7F/0xFF are NaN.</summary>
public static class Fp8E4M3
{
    /// <summary>All 256 codes decoded; a table lookup beats bit twiddling for a byte-sized type.</summary>
    public static readonly float[] Table = BuildTable();

    public static float ToSingle(byte code) => Table[code];

    /// <summary>Reference decoding straight from the bit layout (the table is built from it and tested against it).</summary>
    public static float Decode(byte code)
    {
        int sign = code >> 7, exp = (code >> 3) & 0xF, man = code & 0x7;
        float v;
        if (exp == 0xF && man == 0x7) v = float.NaN;
        else if (exp == 0) v = man / 8f * MathF.Pow(2, -6);
        else v = (1 + man / 8f) * MathF.Pow(2, exp - 7);
        return sign == 1 ? -v : v;
    }

    private static float[] BuildTable()
    {
        var t = new float[256];
        for (int i = 0; i < 256; i++) t[i] = Decode((byte)i);
        return t;
    }
}
