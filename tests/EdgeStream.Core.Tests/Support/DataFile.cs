using System.Text;

namespace EdgeStream.Tests.Support;

/// <summary>
/// Reads <c>input ⇒ expected</c> test data files from the test output's <c>Data/</c> folder. Lines starting with
/// <c>#</c> and blank lines are skipped; <c>⏎</c> in a line stands for a line break.
/// </summary>
internal static class DataFile
{
    public const string Arrow = "⇒";

    public static IEnumerable<TestCaseData> Cases(string name)
    {
        var lineNumber = 0;
        foreach (var raw in File.ReadLines(Path.Combine(AppContext.BaseDirectory, "Data", name), Encoding.UTF8))
        {
            lineNumber++;
            var line = raw.TrimEnd();
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }

            var at = line.IndexOf(Arrow, StringComparison.Ordinal);
            if (at < 0)
            {
                throw new FormatException($"{name}:{lineNumber}: no `{Arrow}` in `{line}`");
            }

            var input = line[..at].Trim().Replace("⏎", "\n", StringComparison.Ordinal);
            var expected = line[(at + Arrow.Length)..].Trim().Replace("⏎", "\n", StringComparison.Ordinal);
            yield return new TestCaseData(input, expected).SetArgDisplayNames($"{name}:{lineNumber}");
        }
    }
}
