using EdgeStream.TestServers;

namespace EdgeStream.Sinks.MySql.Tests;

/// <summary>
/// The real MariaDB server of this test assembly (<see cref="MariaDb"/>): started once before the tests, torn down
/// after. When it cannot start, the tests fail with the reason (never skip).
/// </summary>
[SetUpFixture]
public sealed class MariaDbServer
{
    private static MariaDb? server;

    public const string Password = MariaDb.Password;

    public const string User = MariaDb.User;

    public const string Database = MariaDb.Database;

    public static MariaDb Server => server ?? throw new InvalidOperationException("the MariaDB fixture did not start");

    public static int Port => Server.Port;

    public static string ConnectionString => Server.ConnectionString;

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        try
        {
            server = await MariaDb.StartAsync();
        }
        catch (InvalidOperationException e)
        {
            Assert.Fail(e.Message);
        }
    }

    [OneTimeTearDown]
    public async Task StopAsync()
    {
        if (server is not null)
        {
            await server.DisposeAsync();
        }
    }

    public static Task CrashAndRestartAsync(TimeSpan downtime) => Server.CrashAndRestartAsync(downtime);

    public static Task<object?> ScalarAsync(string sql) => Server.ScalarAsync(sql);

    public static Task<List<Dictionary<string, object?>>> QueryAsync(string sql) => Server.QueryAsync(sql);
}
