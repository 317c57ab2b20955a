namespace EdgeStream.Hosting;

/// <summary>
/// The streams or rules declared for the host (in configuration or in code) are invalid. Thrown at startup, before
/// any declared rule starts; <see cref="Errors"/> lists every problem, each with the configuration path it is at.
/// </summary>
public sealed class EdgeStreamConfigurationException : Exception
{
    /// <summary>Creates the exception with no errors listed.</summary>
    public EdgeStreamConfigurationException()
        : this("EdgeStream configuration is invalid", [])
    {
    }

    /// <summary>Creates the exception with a message and no errors listed.</summary>
    /// <param name="message">The message.</param>
    public EdgeStreamConfigurationException(string message)
        : this(message, [])
    {
    }

    /// <summary>Creates the exception with a message and an inner exception.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public EdgeStreamConfigurationException(string message, Exception innerException)
        : base(message, innerException) => Errors = [];

    internal EdgeStreamConfigurationException(string message, IReadOnlyList<string> errors)
        : base(errors.Count == 0 ? message : message + ":" + Environment.NewLine + string.Join(Environment.NewLine, errors.Select(e => "  " + e))) =>
        Errors = errors;

    /// <summary>Each problem, as <c>path: what is wrong</c> (for example <c>EdgeStream:Rules:0: line 1, column 8: …</c>).</summary>
    public IReadOnlyList<string> Errors { get; }
}
