namespace EdgeStream.Compilation;

/// <summary>
/// A SQL LIKE pattern: <c>%</c> matches any run of characters, <c>_</c> any one character, and the escape character
/// (default <c>\</c>) makes the next character literal. Matching is case-sensitive and linear in practice (greedy with
/// one backtrack point per <c>%</c>), with no regular expression behind it. Its worst case is the text's length times
/// the pattern's (a pattern from a row: <c>%a%a%a…b</c> over <c>aaaa…</c>), so a match that runs past its timeout
/// (<see cref="EdgeStreamLimits.MatchTimeout"/>) fails its row.
/// </summary>
internal sealed class LikePattern
{
    private const char AnyRun = '\uE000';
    private const char AnyOne = '\uE001';
    /// <summary>How many steps go between two looks at the clock.</summary>
    private const int StepsPerClockCheck = 1 << 16;

    private readonly string compiled;
    private readonly TimeSpan timeout;

    public LikePattern(string pattern, char escape = '\\', TimeSpan? timeout = null)
    {
        this.timeout = timeout ?? Runtime.InputLimits.Default.MatchTimeout;
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
        int t = 0, i = 0, star = -1, mark = 0, steps = 0;
        var started = 0L;
        while (t < text.Length)
        {
            if (++steps == StepsPerClockCheck)
            {
                steps = 0;
                started = CheckTime(started, text.Length);
            }

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

    /// <summary>Starts the clock at the first check, and fails the match once it has run past the timeout.</summary>
    private long CheckTime(long started, int length)
    {
        var now = System.Diagnostics.Stopwatch.GetTimestamp();
        if (started == 0)
        {
            return now;
        }

        if (System.Diagnostics.Stopwatch.GetElapsedTime(started, now) > timeout)
        {
            throw new EvaluationException($"a LIKE match on {length} characters took longer than {timeout.TotalMilliseconds} ms (EdgeStreamLimits.MatchTimeout)");
        }

        return started;
    }
}
