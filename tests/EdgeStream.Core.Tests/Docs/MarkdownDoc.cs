using System.Text.RegularExpressions;

namespace EdgeStream.Core.Tests.Docs;

/// <summary>A page of <c>docs/</c> read for the reference tests: its sections, the names in its tables, its code blocks.</summary>
internal sealed partial class MarkdownDoc
{
    private readonly string[] lines;

    private MarkdownDoc(string text) => lines = text.ReplaceLineEndings("\n").Split('\n');

    /// <summary>Reads <c>docs/{name}</c> of the repository.</summary>
    public static MarkdownDoc Load(string name)
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "EdgeStream.sln")))
        {
            directory = directory.Parent;
        }

        var root = directory?.FullName ?? throw new DirectoryNotFoundException("EdgeStream.sln not found above the test output");
        return new MarkdownDoc(File.ReadAllText(Path.Combine(root, "docs", name)));
    }

    /// <summary>The lines under the heading that is exactly <paramref name="heading"/>, up to the next heading of its level or above.</summary>
    /// <param name="heading">The heading line, e.g. <c>### `mqtt`</c>.</param>
    /// <param name="under">The section to look in first, when the heading occurs in several.</param>
    public MarkdownDoc Section(string heading, string? under = null)
    {
        if (under is not null)
        {
            return Section(under).Section(heading);
        }

        var start = Array.IndexOf(lines, heading);
        Assert.That(start, Is.GreaterThanOrEqualTo(0), $"no heading `{heading}`");
        var level = heading.TakeWhile(c => c == '#').Count();
        var end = start + 1;
        while (end < lines.Length && !(lines[end].StartsWith('#') && lines[end].TakeWhile(c => c == '#').Count() <= level))
        {
            end++;
        }

        return new MarkdownDoc(string.Join('\n', lines[(start + 1)..end]));
    }

    /// <summary>The headings of exactly this level, without their hashes.</summary>
    public IReadOnlyList<string> Headings(int level) =>
        lines.Where(l => l.StartsWith(new string('#', level) + " ", StringComparison.Ordinal)).Select(l => l[(level + 1)..]).ToList();

    /// <summary>The table rows whose first cell is a backquoted name: name, then the other cells.</summary>
    public IReadOnlyList<(string Name, string[] Cells)> Rows()
    {
        var rows = new List<(string, string[])>();
        foreach (var line in lines)
        {
            var match = FirstCell().Match(line);
            if (match.Success)
            {
                var cells = Regex.Split(line.Trim().Trim('|'), @"(?<!\\)\|").Select(c => c.Trim()).ToArray();
                rows.Add((match.Groups[1].Value, cells[1..]));
            }
        }

        return rows;
    }

    /// <summary>The names in the first column of the tables.</summary>
    public IReadOnlyList<string> Names() => Rows().Select(r => r.Name).ToList();

    /// <summary>The contents of the fenced blocks of <paramref name="language"/>.</summary>
    public IReadOnlyList<string> CodeBlocks(string language)
    {
        var blocks = new List<string>();
        for (var i = 0; i < lines.Length; i++)
        {
            if (lines[i] == "```" + language)
            {
                var end = Array.IndexOf(lines, "```", i + 1);
                blocks.Add(string.Join('\n', lines[(i + 1)..end]));
                i = end;
            }
        }

        return blocks;
    }

    [GeneratedRegex(@"^\| `([^`]+)` \|")]
    private static partial Regex FirstCell();
}
