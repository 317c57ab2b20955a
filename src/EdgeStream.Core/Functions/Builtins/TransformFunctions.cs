using System.IO.Compression;
using System.Text;
using EdgeStream.Abstractions;
using static EdgeStream.Functions.Builtins.FunctionArgs;

namespace EdgeStream.Functions.Builtins;

/// <summary>
/// The transform functions: <c>encode</c>/<c>decode</c> (base64), <c>compress</c>/<c>decompress</c> (zlib, gzip,
/// flate, zstd; string or bytea in, bytea out) and <c>trunc</c>. A constant scheme or method is checked when the rule
/// is created.
/// </summary>
internal static class TransformFunctions
{
    /// <summary>This category's implementations.</summary>
    public static readonly ScalarFunction[] All =
    [
        new("encode", "ss", static (args, _) => Encode(args), PrepareScheme),
        new("decode", "ss", static (args, _) => Decode(args), PrepareScheme),
        new("compress", "xs", static (args, _) => Compress(args), PrepareMethod),
        new("decompress", "xs", static (args, _) => Decompress(args), PrepareMethod),
        new("trunc", "ni", static (args, _) => Trunc(args)),
    ];

    /// <summary>The compression methods, as eKuiper names them (case matters).</summary>
    private enum Method
    {
        Zlib,
        Gzip,
        Flate,
        Zstd,
    }

    /// <summary>eKuiper takes only <c>"base64"</c> as a constant scheme (written so, in lower case).</summary>
    private static ScalarBody? PrepareScheme(PreparedCall call) =>
        call.ConstantString(1) is { } scheme && scheme != "base64"
            ? throw call.Fail(1, "Only base64 is supported for the 2nd parameter.")
            : null;

    /// <summary>A constant method must be one eKuiper knows; the body then skips looking it up.</summary>
    private static ScalarBody? PrepareMethod(PreparedCall call)
    {
        if (call.ConstantString(1) is not { } name)
        {
            return null;
        }

        if (MethodOf(name) is not { } method)
        {
            throw call.Fail(1, call.Name == "compress" ? $"unsupported compressor: {name}" : $"unsupported decompressor: {name}");
        }

        return call.Name == "compress"
            ? (args, _) => args[0].IsNull ? Value.Null : Value.From(Compress(Payload("compress", args[0]), method))
            : (args, _) => args[0].IsNull ? Value.Null : Value.From(Decompress(Payload("decompress", args[0]), method));
    }

    private static Method? MethodOf(string name) => name switch
    {
        "zlib" => Method.Zlib,
        "gzip" => Method.Gzip,
        "flate" => Method.Flate,
        "zstd" => Method.Zstd,
        _ => null,
    };

    /// <summary><c>encode(s, "base64")</c>: a string's UTF-8 bytes as standard base64 text.</summary>
    private static Value Encode(ReadOnlySpan<Value> args)
    {
        if (AnyNull(args))
        {
            return Value.Null;
        }

        CheckScheme("encode", args[1], "Only base64 encoding is supported.");
        return args[0].Kind == ValueKind.String
            ? Value.From(Convert.ToBase64String(Encoding.UTF8.GetBytes(args[0].AsString)))
            : throw Error("encode", "Only string type can be encoded.");
    }

    /// <summary><c>decode(s, "base64")</c>: standard base64 text as bytea.</summary>
    private static Value Decode(ReadOnlySpan<Value> args)
    {
        if (AnyNull(args))
        {
            return Value.Null;
        }

        CheckScheme("decode", args[1], "Only base64 decoding is supported.");
        if (args[0].Kind != ValueKind.String)
        {
            throw Error("decode", "Only string type can be decoded.");
        }

        return ConversionFunctions.TryFromGoBase64(args[0].AsString, out var bytes)
            ? Value.From(bytes)
            : throw Error("decode", "fail to decode base64 string: illegal base64 data");
    }

    /// <summary>A scheme read at run time: any case of <c>base64</c>, as eKuiper's run-time check.</summary>
    private static void CheckScheme(string name, Value scheme, string unsupported)
    {
        if (scheme.Kind != ValueKind.String || !scheme.AsString.Equals("base64", StringComparison.OrdinalIgnoreCase))
        {
            throw Error(name, unsupported);
        }
    }

    /// <summary><c>compress(data, method)</c> with a method read on each row.</summary>
    private static Value Compress(ReadOnlySpan<Value> args)
    {
        if (args[0].IsNull)
        {
            return Value.Null;
        }

        var data = Payload("compress", args[0]);
        var name = args[1].IsNull ? string.Empty : Text(args[1]);
        return MethodOf(name) is { } method ? Value.From(Compress(data, method)) : throw Error("compress", $"unsupported compressor: {name}");
    }

    /// <summary><c>decompress(data, method)</c> with a method read on each row.</summary>
    private static Value Decompress(ReadOnlySpan<Value> args)
    {
        if (args[0].IsNull)
        {
            return Value.Null;
        }

        var data = Payload("decompress", args[0]);
        var name = args[1].IsNull ? string.Empty : Text(args[1]);
        return MethodOf(name) is { } method ? Value.From(Decompress(data, method)) : throw Error("decompress", $"unsupported decompressor: {name}");
    }

    /// <summary>The bytes to (de)compress: a string's UTF-8 bytes, or bytea as it is.</summary>
    private static byte[] Payload(string name, Value value) => value.Kind switch
    {
        ValueKind.Bytes => value.AsBytes,
        ValueKind.String => Encoding.UTF8.GetBytes(value.AsString),
        _ => throw Error(name, $"require string or bytea parameter, but got {Text(value)}"),
    };

    private static byte[] Compress(byte[] data, Method method)
    {
        if (method == Method.Zstd)
        {
            using var compressor = new ZstdSharp.Compressor();
            return compressor.Wrap(data).ToArray();
        }

        using var output = new MemoryStream();
        using (var stream = Wrap(output, method, CompressionMode.Compress))
        {
            stream.Write(data);
        }

        return output.ToArray();
    }

    /// <summary>The most <c>decompress</c> inflates one value to (64 MiB): a small hostile payload cannot take the host's memory.</summary>
    internal const int MaxDecompressedLength = 64 << 20;

    private static byte[] Decompress(byte[] data, Method method)
    {
        try
        {
            using var input = new MemoryStream(data, writable: false);
            using var stream = method == Method.Zstd ? ZstdDecompression(input) : Wrap(input, method, CompressionMode.Decompress);
            using var output = new MemoryStream();
            var buffer = new byte[16 * 1024];
            int read;
            while ((read = stream.Read(buffer)) > 0)
            {
                if (output.Length + read > MaxDecompressedLength)
                {
                    throw Error("decompress", $"the decompressed data is larger than {MaxDecompressedLength} bytes");
                }

                output.Write(buffer, 0, read);
            }

            return output.ToArray();
        }
        catch (Exception e) when (e is InvalidDataException or IOException or ZstdSharp.ZstdException)
        {
            throw Error("decompress", $"failed to decompress: {e.Message}");
        }
    }

    /// <summary>
    /// A zstd reader whose window is at most 8 MiB (2^23; zstd's own limit is 128 MiB), so a tiny frame cannot make it
    /// set aside more memory than the output cap allows for. Frames made with larger windows (level 19+ on big data)
    /// are refused with an error.
    /// </summary>
    private static ZstdSharp.DecompressionStream ZstdDecompression(Stream input)
    {
        var stream = new ZstdSharp.DecompressionStream(input);
        stream.SetParameter(ZstdSharp.Unsafe.ZSTD_dParameter.ZSTD_d_windowLogMax, 23);
        return stream;
    }

    private static Stream Wrap(Stream inner, Method method, CompressionMode mode) => method switch
    {
        Method.Zlib => mode == CompressionMode.Compress ? new ZLibStream(inner, CompressionLevel.Optimal, leaveOpen: true) : new ZLibStream(inner, mode, leaveOpen: true),
        Method.Gzip => mode == CompressionMode.Compress ? new GZipStream(inner, CompressionLevel.Optimal, leaveOpen: true) : new GZipStream(inner, mode, leaveOpen: true),
        _ => mode == CompressionMode.Compress ? new DeflateStream(inner, CompressionLevel.Optimal, leaveOpen: true) : new DeflateStream(inner, mode, leaveOpen: true),
    };

    /// <summary>
    /// <c>trunc(x, decimals)</c> as eKuiper runs it (its <c>toFixed</c>): <c>x</c> scaled by 10^decimals, rounded half
    /// away from zero, scaled back; a float. Despite the name it rounds (<c>trunc(3.146, 2)</c> is 3.15); a negative
    /// <c>decimals</c> rounds left of the point.
    /// </summary>
    private static Value Trunc(ReadOnlySpan<Value> args)
    {
        if (AnyNull(args))
        {
            return Value.Null;
        }

        var x = args[0].Kind switch
        {
            ValueKind.Integer => args[0].AsInteger,
            ValueKind.Float => args[0].AsFloat,
            _ => throw Error("trunc", $"cannot convert {ConversionFunctions.GoDescribe(args[0])} to float64"),
        };
        if (args[1].Kind != ValueKind.Integer)
        {
            throw Error("trunc", "The 2nd parameter must be int value.");
        }

        var factor = Math.Pow(10, args[1].AsInteger);
        var scaled = x * factor;
        return Value.From(Math.Truncate(scaled + Math.CopySign(0.5, scaled)) / factor);
    }
}
