using EdgeStream.Sql;
using EdgeStream.Sql.Ast;

namespace EdgeStream.Planning;

/// <summary>The declared streams and tables a statement binds against. Names are case-insensitive.</summary>
internal sealed class StreamCatalog
{
    private readonly Dictionary<string, StreamDefinition> streams = new(StringComparer.OrdinalIgnoreCase);

    public IEnumerable<StreamDefinition> All => streams.Values;

    /// <summary>Adds a declaration; a second declaration of the same name is an error.</summary>
    public StreamDefinition Add(CreateStreamStatement statement)
    {
        var definition = StreamDefinition.Create(statement);
        if (!streams.TryAdd(statement.Name, definition))
        {
            throw BindError.At(statement.Span, SqlErrorCode.Duplicate,
                $"{(statement.IsTable ? "table" : "stream")} `{statement.Name}` is already declared");
        }

        return definition;
    }

    public bool Remove(string name) => streams.Remove(name);

    public bool TryGet(string name, out StreamDefinition definition) => streams.TryGetValue(name, out definition!);

    public string? Closest(string name) => SqlNames.Closest(name, streams.Keys);
}
