namespace EdgeStream.Compilation;

/// <summary>
/// A SQL LIKE pattern: <c>%</c> matches any run of characters, <c>_</c> any one character, and the escape character
/// (default <c>\</c>) makes the next character literal. Matching is case-sensitive and linear in practice (greedy with
/// one backtrack point per <c>%</c>), with no regular expression behind it.
/// </summary>
internal sealed class LikePattern
{
    private const char AnyRun = '\uE000';
    private const char AnyOne = '\uE001';
    private readonly string compiled;

    public LikePattern(string pattern, char escape = '\\')
    {
        var chars = new System.Text.StringBuilder(pattern.Length);
        for (var i = 0; i < pattern.Length; i++)
        {
            var c = pattern[i];
            if (c == escape && i + 1 < pattern.Length)
            {
                chars.Append(pattern[++i]);
            }
            else
            {
                chars.Append(c switch { '%' => AnyRun, '_' => AnyOne, _ => c });
            }
        }

        compiled = chars.ToString();
    }

    public bool IsMatch(string text)
    {
        var p = compiled;
        int t = 0, i = 0, star = -1, mark = 0;
        while (t < text.Length)
        {
            if (i < p.Length && (p[i] == AnyOne || (p[i] != AnyRun && p[i] == text[t])))
            {
                i++;
                t++;
            }
            else if (i < p.Length && p[i] == AnyRun)
            {
                star = i++;
                mark = t;
            }
            else if (star >= 0)
            {
                i = star + 1;
                t = ++mark;
            }
            else
            {
                return false;
            }
        }

        while (i < p.Length && p[i] == AnyRun)
        {
            i++;
        }

        return i == p.Length;
    }
}
