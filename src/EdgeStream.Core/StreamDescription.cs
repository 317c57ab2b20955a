namespace EdgeStream;

/// <summary>
/// A declared stream or table, as <see cref="EdgeStreamEngine.GetStreams"/> lists it (and eKuiper's
/// <c>GET /streams/{name}</c> describes it). Option values that look like secrets are masked.
/// </summary>
public sealed class StreamDescription
{
    internal StreamDescription(string name, bool isTable, string statement, IReadOnlyList<KeyValuePair<string, string>> fields, IReadOnlyDictionary<string, string> options)
    {
        Name = name;
        IsTable = isTable;
        Statement = statement;
        Fields = fields;
        Options = options;
    }

    /// <summary>The name, as declared.</summary>
    public string Name { get; }

    /// <summary>Whether it is a table (<c>CREATE TABLE</c>).</summary>
    public bool IsTable { get; }

    /// <summary>The declaration, printed back as a <c>CREATE</c> statement.</summary>
    public string Statement { get; }

    /// <summary>The declared columns in order, each with its type (<c>bigint</c>, <c>array(string)</c>, …); empty for a schemaless stream.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Fields { get; }

    /// <summary>The <c>WITH</c> options by upper-case name.</summary>
    public IReadOnlyDictionary<string, string> Options { get; }
}
