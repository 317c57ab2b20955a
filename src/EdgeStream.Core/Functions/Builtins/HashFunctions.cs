using System.Buffers;
using System.Security.Cryptography;
using System.Text;
using EdgeStream.Abstractions;
using static EdgeStream.Functions.Builtins.FunctionArgs;

namespace EdgeStream.Functions.Builtins;

/// <summary>
/// The hashing functions. As eKuiper: the argument's text (Go's <c>%v</c>, so <c>md5(1)</c> hashes <c>"1"</c>) is hashed
/// as UTF-8 and the digest given as lower-case hex; <c>crc32</c> gives the IEEE checksum in hex without leading zeros
/// (Go's <c>%x</c> of a number). Null in gives null out.
/// </summary>
internal static class HashFunctions
{
    /// <summary>This category's implementations.</summary>
#pragma warning disable CA5350, CA5351 // md5 and sha1 are eKuiper functions: checksums for users, no security relies on them here.
    public static readonly ScalarFunction[] All =
    [
        new("md5", "s", static (args, _) => Digest(args[0], static (data, hash) => MD5.HashData(data, hash), MD5.HashSizeInBytes)),
        new("sha1", "s", static (args, _) => Digest(args[0], static (data, hash) => SHA1.HashData(data, hash), SHA1.HashSizeInBytes)),
        new("sha256", "s", static (args, _) => Digest(args[0], static (data, hash) => SHA256.HashData(data, hash), SHA256.HashSizeInBytes)),
        new("sha384", "s", static (args, _) => Digest(args[0], static (data, hash) => SHA384.HashData(data, hash), SHA384.HashSizeInBytes)),
        new("sha512", "s", static (args, _) => Digest(args[0], static (data, hash) => SHA512.HashData(data, hash), SHA512.HashSizeInBytes)),
        new("crc32", "s", static (args, _) => Crc32(args[0])),
    ];
#pragma warning restore CA5350, CA5351

    /// <summary>A one-shot hash of <c>data</c> into <c>hash</c>.</summary>
    private delegate int HashInto(ReadOnlySpan<byte> data, Span<byte> hash);

    /// <summary>The lower-case hex digest of the value's text.</summary>
    private static Value Digest(Value value, HashInto hash, int size)
    {
        if (value.IsNull)
        {
            return Value.Null;
        }

        Span<byte> digest = stackalloc byte[SHA512.HashSizeInBytes];
        digest = digest[..size];
        WithUtf8(Text(value), digest, hash);
        return Value.From(Convert.ToHexStringLower(digest));
    }

    /// <summary>The IEEE CRC-32 of the value's text, as Go's <c>%x</c> prints it.</summary>
    private static Value Crc32(Value value)
    {
        if (value.IsNull)
        {
            return Value.Null;
        }

        Span<byte> checksum = stackalloc byte[4];
        WithUtf8(Text(value), checksum, static (data, result) =>
        {
            System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(result, Crc32Ieee.Compute(data));
            return 4;
        });
        var crc = System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(checksum);
        return Value.From(crc.ToString("x", System.Globalization.CultureInfo.InvariantCulture));
    }

    /// <summary>Encodes <paramref name="text"/> as UTF-8 (on the stack when small) and runs <paramref name="hash"/> on it.</summary>
    private static void WithUtf8(string text, Span<byte> result, HashInto hash)
    {
        var length = Encoding.UTF8.GetMaxByteCount(text.Length);
        byte[]? rented = null;
        var buffer = length <= 512 ? stackalloc byte[512] : (rented = ArrayPool<byte>.Shared.Rent(length));
        try
        {
            var written = Encoding.UTF8.GetBytes(text, buffer);
            hash(buffer[..written], result);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }
}

/// <summary>CRC-32 with the IEEE polynomial (0xEDB88320, reflected), as Go's <c>crc32.ChecksumIEEE</c> and zlib's.</summary>
internal static class Crc32Ieee
{
    private static readonly uint[] Table = BuildTable();

    /// <summary>The checksum of <paramref name="data"/>.</summary>
    public static uint Compute(ReadOnlySpan<byte> data)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var b in data)
        {
            crc = Table[(crc ^ b) & 0xFF] ^ (crc >> 8);
        }

        return ~crc;
    }

    private static uint[] BuildTable()
    {
        var table = new uint[256];
        for (var n = 0u; n < 256; n++)
        {
            var c = n;
            for (var k = 0; k < 8; k++)
            {
                c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            }

            table[n] = c;
        }

        return table;
    }
}
