using EdgeStream.Functions;
using EdgeStream.Planning;
using EdgeStream.Sql.Ast;
using EdgeStream.Sql.Parsing;

namespace EdgeStream;

/// <summary>
/// Parses and checks EdgeStream SQL (eKuiper's dialect) without running it: the same front end rules use, for
/// validating user input, tooling and tests. All methods are thread-safe.
/// </summary>
public static class EdgeSql
{
    /// <summary>Parses one statement and returns it as canonical SQL (upper-case keywords, minimal quoting and parentheses).</summary>
    /// <param name="sql">One statement; a trailing <c>;</c> is allowed.</param>
    /// <returns>The canonical text, which parses back to the same statement.</returns>
    /// <exception cref="SqlException">The text is not valid SQL; the exception says where and what was expected.</exception>
    public static string Format(string sql) => Print(SqlParser.ParseStatement(sql));

    /// <summary>
    /// Parses stream and table declarations, then parses <paramref name="sql"/> and binds it against them: names,
    /// functions and argument counts, where aggregates may appear, and types on typed streams.
    /// </summary>
    /// <param name="sql">One statement; a trailing <c>;</c> is allowed.</param>
    /// <param name="declarations"><c>CREATE STREAM</c> / <c>CREATE TABLE</c> statements, one per item.</param>
    /// <returns>The canonical text of <paramref name="sql"/>.</returns>
    /// <exception cref="SqlException">A declaration or the statement is invalid. For an error in a declaration,
    /// the line and column are those within that declaration's text.</exception>
    public static string Check(string sql, IEnumerable<string> declarations)
    {
        ArgumentNullException.ThrowIfNull(declarations);
        var catalog = new StreamCatalog();
        foreach (var declaration in declarations)
        {
            catalog.Add(SqlParser.ParseCreate(declaration));
        }

        var statement = SqlParser.ParseStatement(sql);
        new Binder(catalog, FunctionRegistry.Builtins).Bind(statement);
        return Print(statement);
    }

    /// <summary>The streams and tables a SELECT reads: the FROM one first, then each JOIN's, as written.</summary>
    /// <param name="sql">A SELECT statement.</param>
    /// <returns>The names.</returns>
    /// <exception cref="SqlException">The text is not a valid SELECT.</exception>
    public static IReadOnlyList<string> SourcesOf(string sql)
    {
        var select = SqlParser.ParseSelect(sql);
        return [select.From.Name, .. select.Joins.Select(j => j.Table.Name)];
    }

    private static string Print(Statement statement)
    {
        try
        {
            return SqlPrinter.Print(statement);
        }
        catch (InsufficientExecutionStackException)
        {
            throw SqlParser.TooDeep();
        }
    }
}
