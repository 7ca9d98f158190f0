using System.Globalization;

namespace SharpSeek.Formats.Gguf;

/// <summary>
/// One typed GGUF metadata value. Scalars are boxed CLR values of the matching type (byte, sbyte, ushort, short,
/// uint, int, float, bool, string, ulong, long, double); arrays hold a CLR array of the element type
/// (<see cref="GgufValue"/>[] for nested arrays) and their <see cref="ElementType"/>.
/// </summary>
public sealed class GgufValue
{
    private GgufValue(GgufValueType type, object value, GgufValueType elementType = default)
    {
        Type = type;
        Value = value;
        ElementType = elementType;
    }

    public GgufValueType Type { get; }
    public object Value { get; }
    /// <summary>Element type when <see cref="Type"/> is <see cref="GgufValueType.Array"/>.</summary>
    public GgufValueType ElementType { get; }

    public static GgufValue UInt8(byte v) => new(GgufValueType.UInt8, v);
    public static GgufValue Int8(sbyte v) => new(GgufValueType.Int8, v);
    public static GgufValue UInt16(ushort v) => new(GgufValueType.UInt16, v);
    public static GgufValue Int16(short v) => new(GgufValueType.Int16, v);
    public static GgufValue UInt32(uint v) => new(GgufValueType.UInt32, v);
    public static GgufValue Int32(int v) => new(GgufValueType.Int32, v);
    public static GgufValue Float32(float v) => new(GgufValueType.Float32, v);
    public static GgufValue Bool(bool v) => new(GgufValueType.Bool, v);
    public static GgufValue String(string v) => new(GgufValueType.String, v ?? throw new ArgumentNullException(nameof(v)));
    public static GgufValue UInt64(ulong v) => new(GgufValueType.UInt64, v);
    public static GgufValue Int64(long v) => new(GgufValueType.Int64, v);
    public static GgufValue Float64(double v) => new(GgufValueType.Float64, v);

    /// <summary>An array; <paramref name="items"/> must be a CLR array of the element type's CLR type.</summary>
    public static GgufValue Array(GgufValueType elementType, System.Array items)
    {
        var expected = ClrType(elementType);
        if (items.GetType().GetElementType() != expected)
            throw new ArgumentException($"a GGUF {elementType} array needs a {expected.Name}[], got {items.GetType().Name}", nameof(items));
        return new(GgufValueType.Array, items, elementType);
    }

    public static GgufValue Array(string[] items) => Array(GgufValueType.String, items);
    public static GgufValue Array(int[] items) => Array(GgufValueType.Int32, items);
    public static GgufValue Array(uint[] items) => Array(GgufValueType.UInt32, items);
    public static GgufValue Array(float[] items) => Array(GgufValueType.Float32, items);

    /// <summary>CLR type that holds one value of <paramref name="t"/>.</summary>
    public static Type ClrType(GgufValueType t) => t switch
    {
        GgufValueType.UInt8 => typeof(byte),
        GgufValueType.Int8 => typeof(sbyte),
        GgufValueType.UInt16 => typeof(ushort),
        GgufValueType.Int16 => typeof(short),
        GgufValueType.UInt32 => typeof(uint),
        GgufValueType.Int32 => typeof(int),
        GgufValueType.Float32 => typeof(float),
        GgufValueType.Bool => typeof(bool),
        GgufValueType.String => typeof(string),
        GgufValueType.Array => typeof(GgufValue),
        GgufValueType.UInt64 => typeof(ulong),
        GgufValueType.Int64 => typeof(long),
        GgufValueType.Float64 => typeof(double),
        _ => throw new ArgumentOutOfRangeException(nameof(t), t, "unknown GGUF value type"),
    };

    public bool IsInteger => Type is GgufValueType.UInt8 or GgufValueType.Int8 or GgufValueType.UInt16 or GgufValueType.Int16
        or GgufValueType.UInt32 or GgufValueType.Int32 or GgufValueType.UInt64 or GgufValueType.Int64;

    public bool IsFloat => Type is GgufValueType.Float32 or GgufValueType.Float64;

    /// <summary>Number of array elements (0 for scalars).</summary>
    public int ArrayLength => Type == GgufValueType.Array ? ((System.Array)Value).Length : 0;

    /// <summary>The value as a 64-bit integer when it is an integer type that fits, else null.</summary>
    public long? AsInt64() => Value switch
    {
        byte v => v,
        sbyte v => v,
        ushort v => v,
        short v => v,
        uint v => v,
        int v => v,
        long v => v,
        ulong v when v <= long.MaxValue => (long)v,
        _ => null,
    };

    /// <summary>The value as a double when it is numeric (integers included), else null.</summary>
    public double? AsDouble() => Value switch
    {
        float v => v,
        double v => v,
        _ => AsInt64(),
    };

    public override string ToString() => Type switch
    {
        GgufValueType.String => "\"" + (string)Value + "\"",
        GgufValueType.Array => $"{ElementType}[{ArrayLength}]",
        GgufValueType.Float32 => ((float)Value).ToString("R", CultureInfo.InvariantCulture),
        GgufValueType.Float64 => ((double)Value).ToString("R", CultureInfo.InvariantCulture),
        _ => Convert.ToString(Value, CultureInfo.InvariantCulture) ?? "",
    };
}
