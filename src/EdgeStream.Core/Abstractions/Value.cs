using System.Globalization;
using System.Runtime.CompilerServices;

namespace EdgeStream.Abstractions;

/// <summary>The kinds of <see cref="Value"/>, matching the SQL types (plus null).</summary>
internal enum ValueKind : byte
{
    Null = 0,
    Boolean,
    Integer,
    Float,
    String,
    Bytes,
    Datetime,
    Array,
    Object,
}

/// <summary>
/// One SQL value: a tagged union that keeps numbers, booleans and datetimes unboxed in a 64-bit field and everything
/// else in one reference. 16 bytes plus the tag; copying it never allocates.
/// </summary>
internal readonly struct Value : IEquatable<Value>
{
    private readonly long bits;
    private readonly object? reference;

    private Value(ValueKind kind, long bits, object? reference)
    {
        Kind = kind;
        this.bits = bits;
        this.reference = reference;
    }

    public static Value Null => default;

    public static Value True { get; } = new(ValueKind.Boolean, 1, null);

    public static Value False { get; } = new(ValueKind.Boolean, 0, null);

    public ValueKind Kind { get; }

    public bool IsNull => Kind == ValueKind.Null;

    public bool IsNumber => Kind is ValueKind.Integer or ValueKind.Float;

    public bool AsBoolean => bits != 0;

    public long AsInteger => bits;

    public double AsFloat => BitConverter.Int64BitsToDouble(bits);

    /// <summary>An integer or a float as a double.</summary>
    public double AsDouble => Kind == ValueKind.Integer ? bits : BitConverter.Int64BitsToDouble(bits);

    /// <summary>Milliseconds since the Unix epoch, UTC.</summary>
    public long AsDatetimeMs => bits;

    public string AsString => (string)reference!;

    public byte[] AsBytes => (byte[])reference!;

    public Value[] AsArray => (Value[])reference!;

    public ValueObject AsObject => (ValueObject)reference!;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Value From(bool value) => value ? True : False;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Value From(long value) => new(ValueKind.Integer, value, null);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Value From(double value) => new(ValueKind.Float, BitConverter.DoubleToInt64Bits(value), null);

    public static Value From(string? value) => value is null ? Null : new(ValueKind.String, 0, value);

    public static Value From(byte[]? value) => value is null ? Null : new(ValueKind.Bytes, 0, value);

    public static Value From(Value[]? value) => value is null ? Null : new(ValueKind.Array, 0, value);

    public static Value From(ValueObject? value) => value is null ? Null : new(ValueKind.Object, 0, value);

    public static Value FromDatetime(long unixMilliseconds) => new(ValueKind.Datetime, unixMilliseconds, null);

    /// <summary>
    /// A datetime that remembers the zone it is read in (<c>convert_tz</c>'s result): the instant is the same, so it
    /// compares equal to the plain one; its fields, its text and its JSON are in <paramref name="zone"/>.
    /// </summary>
    public static Value FromDatetime(long unixMilliseconds, TimeZoneInfo? zone) => new(ValueKind.Datetime, unixMilliseconds, zone);

    /// <summary>A datetime's own zone (<see cref="FromDatetime(long, TimeZoneInfo?)"/>); null for a plain (UTC) one.</summary>
    public TimeZoneInfo? DatetimeZone => Kind == ValueKind.Datetime ? reference as TimeZoneInfo : null;

    /// <summary>A datetime as a <see cref="DateTimeOffset"/>: at its zone's offset, or UTC.</summary>
    public DateTimeOffset AsDateTimeOffset
    {
        get
        {
            var utc = DateTimeOffset.FromUnixTimeMilliseconds(bits);
            return DatetimeZone is { } zone ? TimeZoneInfo.ConvertTime(utc, zone) : utc;
        }
    }

    /// <summary>
    /// The Go type name eKuiper shows in runtime error messages (<c>int64</c>, <c>float64</c>, <c>string</c>…), so
    /// messages read the same as eKuiper's: <c>invalid operation string(string) * int64(5)</c>.
    /// </summary>
    public string TypeName => Kind switch
    {
        ValueKind.Null => "nil",
        ValueKind.Boolean => "bool",
        ValueKind.Integer => "int64",
        ValueKind.Float => "float64",
        ValueKind.String => "string",
        ValueKind.Bytes => "[]uint8",
        ValueKind.Datetime => "time.Time",
        ValueKind.Array => "[]interface {}",
        _ => "map[string]interface {}",
    };

    /// <summary><c>type(value)</c> as eKuiper's error messages print an operand.</summary>
    public string Describe() => $"{TypeName}({this})";

    public bool Equals(Value other)
    {
        if (Kind != other.Kind)
        {
            return false;
        }

        return Kind switch
        {
            ValueKind.Null => true,
            ValueKind.Boolean or ValueKind.Integer or ValueKind.Datetime => bits == other.bits,
            ValueKind.Float => AsFloat.Equals(other.AsFloat),
            ValueKind.String => string.Equals(AsString, other.AsString, StringComparison.Ordinal),
            ValueKind.Bytes => AsBytes.AsSpan().SequenceEqual(other.AsBytes),
            ValueKind.Array => AsArray.AsSpan().SequenceEqual(other.AsArray),
            _ => AsObject.Equals(other.AsObject),
        };
    }

    public override bool Equals(object? obj) => obj is Value other && Equals(other);

    public override int GetHashCode() => Kind switch
    {
        ValueKind.Null => 0,
        ValueKind.Boolean or ValueKind.Integer or ValueKind.Datetime => HashCode.Combine(Kind, bits),
        ValueKind.Float => HashCode.Combine(Kind, AsFloat),
        ValueKind.String => HashCode.Combine(Kind, StringComparer.Ordinal.GetHashCode(AsString)),
        ValueKind.Array => HashCode.Combine(Kind, AsArray.Length),
        ValueKind.Bytes => BytesHash(AsBytes),
        _ => HashCode.Combine(Kind, AsObject.Count), // equal objects (by content) must hash alike
    };

    private static int BytesHash(byte[] bytes)
    {
        var hash = new HashCode();
        hash.AddBytes(bytes);
        return HashCode.Combine(ValueKind.Bytes, hash.ToHashCode());
    }

    public static bool operator ==(Value left, Value right) => left.Equals(right);

    public static bool operator !=(Value left, Value right) => !left.Equals(right);

    /// <summary>Debug and error text; JSON output is written by the formats, not by this.</summary>
    public override string ToString() => Kind switch
    {
        ValueKind.Null => "nil",
        ValueKind.Boolean => AsBoolean ? "true" : "false",
        ValueKind.Integer => bits.ToString(CultureInfo.InvariantCulture),
        ValueKind.Float => AsFloat.ToString("R", CultureInfo.InvariantCulture),
        ValueKind.String => AsString,
        ValueKind.Bytes => Convert.ToBase64String(AsBytes),
        ValueKind.Datetime => AsDateTimeOffset.ToString("O", CultureInfo.InvariantCulture),
        ValueKind.Array => "[" + string.Join(" ", AsArray) + "]",
        _ => AsObject.ToString(),
    };
}
