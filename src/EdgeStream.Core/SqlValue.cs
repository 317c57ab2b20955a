using System.Globalization;
using EdgeStream.Abstractions;
using EdgeStream.Runtime;

namespace EdgeStream;

/// <summary>The kind of a <see cref="SqlValue"/>: the SQL types, plus null.</summary>
/// <remarks>Kept in the order of the engine's internal kinds, which <see cref="SqlValue.Kind"/> converts by a cast.</remarks>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Naming", "CA1720:Identifier contains type name", Justification = "The names of the SQL types.")]
public enum SqlValueKind
{
    /// <summary>SQL null (a missing field reads as null too).</summary>
    Null = 0,

    /// <summary>A boolean.</summary>
    Boolean,

    /// <summary>A 64-bit integer (<c>bigint</c>).</summary>
    Integer,

    /// <summary>A 64-bit float (<c>float</c>).</summary>
    Float,

    /// <summary>A string.</summary>
    String,

    /// <summary>Bytes (<c>bytea</c>).</summary>
    Bytes,

    /// <summary>A point in time, millisecond precision (<c>datetime</c>).</summary>
    Datetime,

    /// <summary>An array of values.</summary>
    Array,

    /// <summary>An object: string keys to values (<c>struct</c>).</summary>
    Object,
}

/// <summary>
/// One SQL value as user functions see it: numbers, booleans and datetimes are held unboxed, so passing values to
/// and from an <see cref="IFunction"/> does not allocate. The default value is SQL null.
/// </summary>
/// <remarks>Immutable; safe to share between threads. Arrays and objects are read-only views.</remarks>
public readonly struct SqlValue : IEquatable<SqlValue>
{
    // The engine's own representation; SqlValue adds no fields, so spans of either can be reinterpreted.
    private readonly Value value;

    internal SqlValue(Value value) => this.value = value;

    internal Value Inner => value;

    /// <summary>SQL null.</summary>
    public static SqlValue Null => default;

    /// <summary>The value's kind.</summary>
    public SqlValueKind Kind => (SqlValueKind)value.Kind;

    /// <summary>Whether the value is SQL null.</summary>
    public bool IsNull => value.IsNull;

    /// <summary>Whether the value is an integer or a float.</summary>
    public bool IsNumber => value.IsNumber;

    /// <summary>A boolean value.</summary>
    /// <param name="value">The boolean.</param>
    /// <returns>The SQL value.</returns>
    public static SqlValue From(bool value) => new(Value.From(value));

    /// <summary>An integer value.</summary>
    /// <param name="value">The integer.</param>
    /// <returns>The SQL value.</returns>
    public static SqlValue From(long value) => new(Value.From(value));

    /// <summary>A float value.</summary>
    /// <param name="value">The float.</param>
    /// <returns>The SQL value.</returns>
    public static SqlValue From(double value) => new(Value.From(value));

    /// <summary>A string value; null gives SQL null.</summary>
    /// <param name="value">The string.</param>
    /// <returns>The SQL value.</returns>
    public static SqlValue From(string? value) => new(Value.From(value));

    /// <summary>A bytes value (not copied: do not change the array afterwards); null gives SQL null.</summary>
    /// <param name="value">The bytes.</param>
    /// <returns>The SQL value.</returns>
    public static SqlValue From(byte[]? value) => new(Value.From(value));

    /// <summary>A datetime value (kept to the millisecond, as UTC).</summary>
    /// <param name="value">The point in time.</param>
    /// <returns>The SQL value.</returns>
    public static SqlValue From(DateTimeOffset value) => new(Value.FromDatetime(value.ToUnixTimeMilliseconds()));

    /// <summary>An array value.</summary>
    /// <param name="items">The items, copied.</param>
    /// <returns>The SQL value.</returns>
    public static SqlValue FromArray(IEnumerable<SqlValue> items)
    {
        ArgumentNullException.ThrowIfNull(items);
        return new(Value.From(items.Select(i => i.value).ToArray()));
    }

    /// <summary>An object value.</summary>
    /// <param name="fields">The fields, copied, in order; a repeated key keeps its last value.</param>
    /// <returns>The SQL value.</returns>
    public static SqlValue FromObject(IEnumerable<KeyValuePair<string, SqlValue>> fields)
    {
        ArgumentNullException.ThrowIfNull(fields);
        var obj = new ValueObject();
        foreach (var (key, field) in fields)
        {
            obj[key] = field.value;
        }

        return new(Value.From(obj));
    }

    /// <summary>
    /// A plain CLR value as a SQL value: integral numbers become integers, other numbers floats, dictionaries with
    /// string keys objects, other enumerables arrays, <see cref="DateTime"/>/<see cref="DateTimeOffset"/> datetimes.
    /// </summary>
    /// <param name="value">The value; null gives SQL null.</param>
    /// <returns>The SQL value.</returns>
    /// <exception cref="ArgumentException">The type has no SQL equivalent.</exception>
    public static SqlValue FromObject(object? value) => new(ClrValues.FromClr(value));

    /// <summary>The boolean.</summary>
    /// <returns>The boolean.</returns>
    /// <exception cref="InvalidOperationException">The value is not a boolean.</exception>
    public bool AsBoolean() => Expect(ValueKind.Boolean).AsBoolean;

    /// <summary>The integer.</summary>
    /// <returns>The integer.</returns>
    /// <exception cref="InvalidOperationException">The value is not an integer.</exception>
    public long AsInt64() => Expect(ValueKind.Integer).AsInteger;

    /// <summary>An integer or a float as a double.</summary>
    /// <returns>The number.</returns>
    /// <exception cref="InvalidOperationException">The value is not a number.</exception>
    public double AsDouble() => IsNumber ? value.AsDouble : throw Mismatch("a number");

    /// <summary>The string.</summary>
    /// <returns>The string.</returns>
    /// <exception cref="InvalidOperationException">The value is not a string.</exception>
    public string AsString() => Expect(ValueKind.String).AsString;

    /// <summary>The bytes (the engine's array: do not change it).</summary>
    /// <returns>The bytes.</returns>
    /// <exception cref="InvalidOperationException">The value is not bytes.</exception>
    public ReadOnlyMemory<byte> AsBytes() => Expect(ValueKind.Bytes).AsBytes;

    /// <summary>The datetime, in UTC.</summary>
    /// <returns>The point in time.</returns>
    /// <exception cref="InvalidOperationException">The value is not a datetime.</exception>
    public DateTimeOffset AsDateTime() => Expect(ValueKind.Datetime).AsDateTimeOffset;

    /// <summary>The items of an array.</summary>
    /// <returns>The items.</returns>
    /// <exception cref="InvalidOperationException">The value is not an array.</exception>
    public IReadOnlyList<SqlValue> AsArray() => Expect(ValueKind.Array).AsArray.Select(v => new SqlValue(v)).ToArray();

    /// <summary>The fields of an object, in order.</summary>
    /// <returns>The fields.</returns>
    /// <exception cref="InvalidOperationException">The value is not an object.</exception>
    public IReadOnlyDictionary<string, SqlValue> AsObject() =>
        Expect(ValueKind.Object).AsObject.Fields.ToDictionary(f => f.Key, f => new SqlValue(f.Value), StringComparer.Ordinal);

    /// <summary>
    /// The value as a plain CLR value: null, <see cref="bool"/>, <see cref="long"/>, <see cref="double"/>,
    /// <see cref="string"/>, <see cref="byte"/>[], <see cref="DateTimeOffset"/>, <c>object?[]</c> for an array,
    /// or <c>IReadOnlyDictionary&lt;string, object?&gt;</c> for an object.
    /// </summary>
    /// <returns>The CLR value.</returns>
    public object? ToObject() => ClrValues.ToClr(value);

    /// <inheritdoc />
    public bool Equals(SqlValue other) => value.Equals(other.value);

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is SqlValue other && Equals(other);

    /// <inheritdoc />
    public override int GetHashCode() => value.GetHashCode();

    /// <summary>Whether two values are equal: same kind and same content.</summary>
    /// <param name="left">A value.</param>
    /// <param name="right">Another value.</param>
    /// <returns>True when equal.</returns>
    public static bool operator ==(SqlValue left, SqlValue right) => left.Equals(right);

    /// <summary>Whether two values differ in kind or content.</summary>
    /// <param name="left">A value.</param>
    /// <param name="right">Another value.</param>
    /// <returns>True when different.</returns>
    public static bool operator !=(SqlValue left, SqlValue right) => !left.Equals(right);

    /// <summary>The value as text, for messages: numbers in invariant culture, <c>nil</c> for null.</summary>
    /// <returns>The text.</returns>
    public override string ToString() => value.ToString();

    private Value Expect(ValueKind kind) =>
        value.Kind == kind ? value : throw Mismatch(kind switch
        {
            ValueKind.Integer or ValueKind.Array or ValueKind.Object => "an " + Lower(kind),
            ValueKind.Bytes => "bytes",
            _ => "a " + Lower(kind),
        });

    private static string Lower(ValueKind kind) => kind.ToString().ToLower(CultureInfo.InvariantCulture);

    private InvalidOperationException Mismatch(string expected) => new($"the value is {value.Describe()}, not {expected}");
}
