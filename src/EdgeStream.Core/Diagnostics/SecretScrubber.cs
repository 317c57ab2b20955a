using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;

namespace EdgeStream.Diagnostics;

/// <summary>
/// Keeps secrets out of every text the engine shows: rule status, logs (its own and those of its sinks and
/// sources), <c>explain</c> and the messages of the exceptions it throws. It knows the secrets of every rule and
/// stream declared in the engine: values of properties whose names say so (<c>password</c>, <c>token</c>,
/// <c>secret</c>, <c>privateKey</c>, credentials…) and passwords inside URLs and DSNs; each is replaced by
/// <c>***</c> wherever it appears (a sink's exception message included), and a URL's or connection string's
/// password is masked even when it was never declared.
/// </summary>
internal sealed partial class SecretScrubber
{
    /// <summary>What a secret is replaced by.</summary>
    public const string Mask = "***";

    /// <summary>Shorter values are masked by pattern only: replacing every "ab" would garble all text and protect little.</summary>
    private const int ShortestMasked = 3;

    private readonly Lock gate = new();
    private string[] secrets = [];

    /// <summary>Takes the secrets among <paramref name="properties"/> (a sink's or a stream's).</summary>
    public void AddFrom(IEnumerable<KeyValuePair<string, string>> properties)
    {
        foreach (var (key, value) in properties)
        {
            if (string.IsNullOrEmpty(value))
            {
                continue;
            }

            if (Runtime.RulePlanText.IsSecretName(key))
            {
                Add(value);
            }

            foreach (Match match in EmbeddedPassword().Matches(value))
            {
                Add(match.Groups["p"].Value);
            }
        }
    }

    private void Add(string secret)
    {
        var forms = new[] { secret, Unescaped(secret) }.Where(s => s.Length >= ShortestMasked).Distinct(StringComparer.Ordinal);
        lock (gate)
        {
            var added = forms.Except(secrets, StringComparer.Ordinal).ToArray();
            if (added.Length > 0)
            {
                // Longest first: a secret that contains another is masked whole.
                secrets = [.. secrets.Concat(added).OrderByDescending(s => s.Length)];
            }
        }
    }

    private static string Unescaped(string text)
    {
        try
        {
            return Uri.UnescapeDataString(text);
        }
        catch (UriFormatException)
        {
            return text;
        }
    }

    /// <summary><paramref name="text"/> with every known secret and every URL or connection-string password masked.</summary>
    [return: System.Diagnostics.CodeAnalysis.NotNullIfNotNull(nameof(text))]
    public string? Scrub(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return text;
        }

        foreach (var secret in Volatile.Read(ref secrets))
        {
            if (text.Contains(secret, StringComparison.Ordinal))
            {
                text = text.Replace(secret, Mask, StringComparison.Ordinal);
            }
        }

        return EmbeddedPassword().Replace(text, static m => m.Groups["p"].Value.StartsWith(Mask, StringComparison.Ordinal)
            ? m.Value // masked already, as a known secret
            : m.Value.Replace(m.Groups["p"].Value, Mask, StringComparison.Ordinal));
    }

    /// <summary>Whether <see cref="Scrub(string)"/> would change <paramref name="text"/>.</summary>
    public bool Leaks(string? text) => !string.Equals(Scrub(text), text, StringComparison.Ordinal);

    /// <summary>The status with its texts scrubbed.</summary>
    public RuleStatus Scrub(RuleStatus status) => status.WithTexts(Scrub);

    /// <summary>
    /// <paramref name="error"/> as the host may see it: itself when it shows no secret, else an exception of the same
    /// kind where one can be made (<see cref="SinkException"/>, <see cref="ArgumentException"/>,
    /// <see cref="InvalidOperationException"/>) with the message scrubbed and without the inner exception that held
    /// the secret.
    /// </summary>
    public Exception Scrub(Exception error)
    {
        if (!Leaks(error.ToString()))
        {
            return error;
        }

        var message = Scrub(error.Message);
        return error switch
        {
            SinkException sink => new SinkException(message, sink.IsTransient),
            SqlException => error, // SQL text holds no property values
            ArgumentException => new ArgumentException(message),
            FormatException => new FormatException(message),
            _ => new InvalidOperationException(message),
        };
    }

    // scheme://user:password@host, Go's user:password@tcp(host), and Password=…; / Pwd=… of a connection string
    [GeneratedRegex(@"(?:(?:^|//|\s|"")[^:/@\s""]+:(?<p>[^@\s""/][^@\s""]*)@)|(?:\b(?:password|pwd)\s*=\s*(?<p>[^;\s""]+))", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex EmbeddedPassword();
}

/// <summary>Loggers whose messages, structured values and exceptions pass through a <see cref="SecretScrubber"/>.</summary>
internal sealed class ScrubbingLoggerFactory(ILoggerFactory inner, SecretScrubber scrubber) : ILoggerFactory
{
    public ILogger CreateLogger(string categoryName) => new ScrubbingLogger(inner.CreateLogger(categoryName), scrubber);

    public void AddProvider(ILoggerProvider provider) => inner.AddProvider(provider);

    /// <summary>The inner factory is the host's: it disposes of it.</summary>
    public void Dispose()
    {
    }

    private sealed class ScrubbingLogger(ILogger inner, SecretScrubber scrubber) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => inner.BeginScope(state);

        public bool IsEnabled(LogLevel logLevel) => inner.IsEnabled(logLevel);

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!inner.IsEnabled(logLevel))
            {
                return;
            }

            var message = formatter(state, exception);
            var leaks = scrubber.Leaks(message) || (exception is not null && scrubber.Leaks(exception.ToString()))
                || (state is IReadOnlyList<KeyValuePair<string, object?>> values && values.Any(v => v.Value is string s && scrubber.Leaks(s)));
            if (!leaks)
            {
                inner.Log(logLevel, eventId, state, exception, formatter);
                return;
            }

            var scrubbed = new ScrubbedState(scrubber.Scrub(message), state is IReadOnlyList<KeyValuePair<string, object?>> list
                ? [.. list.Select(v => new KeyValuePair<string, object?>(v.Key, v.Value is string s ? scrubber.Scrub(s) : v.Value))]
                : []);
            var error = exception is null ? null : new RedactedException(scrubber.Scrub(exception.ToString()));
            inner.Log(logLevel, eventId, scrubbed, error, static (s, _) => s.Message);
        }
    }

    /// <summary>A log entry's values with secrets masked; its text is the scrubbed message.</summary>
    private sealed class ScrubbedState(string message, KeyValuePair<string, object?>[] values) : IReadOnlyList<KeyValuePair<string, object?>>
    {
        public string Message { get; } = message;

        public int Count => values.Length;

        public KeyValuePair<string, object?> this[int index] => values[index];

        public IEnumerator<KeyValuePair<string, object?>> GetEnumerator() => ((IEnumerable<KeyValuePair<string, object?>>)values).GetEnumerator();

        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => values.GetEnumerator();

        public override string ToString() => Message;
    }
}

/// <summary>An exception logged with a secret in it, as text with the secret masked (its type and stack included).</summary>
internal sealed class RedactedException(string text) : Exception(text)
{
    public override string ToString() => Message;
}
