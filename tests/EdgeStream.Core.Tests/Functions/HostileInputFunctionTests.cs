using System.IO.Compression;
using EdgeStream.Compilation;
using Microsoft.Extensions.Time.Testing;

namespace EdgeStream.Tests.Functions;

/// <summary>Inputs built to hurt the host fail one row with an error, within bounded memory.</summary>
public sealed class HostileInputFunctionTests
{
    [TestCase("zlib")]
    [TestCase("gzip")]
    public void A_decompression_bomb_fails_the_row_instead_of_filling_memory(string method)
    {
        // 64 KiB that inflate to 64 MiB and one byte more.
        using var packed = new MemoryStream();
        using (Stream writer = method == "zlib" ? new ZLibStream(packed, CompressionLevel.SmallestSize, leaveOpen: true) : new GZipStream(packed, CompressionLevel.SmallestSize, leaveOpen: true))
        {
            var zeros = new byte[1 << 20];
            for (var i = 0; i < 64; i++)
            {
                writer.Write(zeros);
            }

            writer.WriteByte(0);
        }

        var row = $$"""{"z": "{{Convert.ToBase64String(packed.ToArray())}}"}""";
        var clock = new FakeTimeProvider();
        var error = Assert.Throws<EvaluationException>(() =>
            FunctionCaseTests.Evaluate(row, $"decompress(decode(z, 'base64'), '{method}')", clock, TimeZoneInfo.Utc))!;
        Assert.That(error.Message, Does.Contain("larger than 67108864 bytes"));
        Assert.That(packed.Length, Is.LessThan(200_000), "the payload itself is small");
    }

    [Test]
    public void A_zstd_frame_asking_for_a_huge_window_is_refused()
    {
        // A frame that declares a 32 MiB window: zstd would set that much aside before writing a byte.
        using var compressor = new ZstdSharp.Compressor(3);
        compressor.SetParameter(ZstdSharp.Unsafe.ZSTD_cParameter.ZSTD_c_windowLog, 25);
        var packed = compressor.Wrap(new byte[40 << 20]).ToArray();
        var row = $$"""{"z": "{{Convert.ToBase64String(packed)}}"}""";
        var error = Assert.Throws<EvaluationException>(() =>
            FunctionCaseTests.Evaluate(row, "decompress(decode(z, 'base64'), 'zstd')", new FakeTimeProvider(), TimeZoneInfo.Utc))!;
        Assert.That(error.Message, Does.Contain("failed to decompress"));
    }

    [Test]
    public void Data_just_under_the_bound_decompresses()
    {
        var row = """{"s": "hello"}""";
        var value = FunctionCaseTests.Evaluate(row, "decompress(compress(lpad(s, 1000000), 'zstd'), 'zstd')", new FakeTimeProvider(), TimeZoneInfo.Utc);
        Assert.That(value.AsBytes, Has.Length.EqualTo(1_000_005));
    }

    [Test]
    public void Nested_descents_in_a_json_path_are_bounded()
    {
        // Each `$..` filter walks the whole document for every value the outer one tests: 400^4 steps unbounded.
        var doc = "[" + string.Join(",", Enumerable.Range(0, 100).Select(i => "[[1,2],[3,4],{\"a\":[5,6]}]")) + "]";
        var row = $$"""{"d": {{doc}}, "p": "$..[?($..[?($..[?($..[?(@ == 1)])])])]"}""";
        var clock = new FakeTimeProvider();
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var error = Assert.Throws<EvaluationException>(() => FunctionCaseTests.Evaluate(row, "json_path_query(d, p)", clock, TimeZoneInfo.Utc))!;
        Assert.That(error.Message, Does.Contain("visits more than"));
        Assert.That(FunctionCaseTests.Evaluate(row, "json_path_exists(d, p)", clock, TimeZoneInfo.Utc).AsBoolean, Is.False);
        Assert.That(watch.Elapsed, Is.LessThan(TimeSpan.FromSeconds(30)));
    }
}
