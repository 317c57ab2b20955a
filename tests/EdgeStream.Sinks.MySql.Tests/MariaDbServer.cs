using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using MySqlConnector;

namespace EdgeStream.Sinks.MySql.Tests;

/// <summary>
/// A real MariaDB server for this test assembly: <c>mariadb-install-db</c> into a temp directory, <c>mariadbd</c> on a
/// free loopback port with its socket in that directory, torn down after the run. The server must be installed
/// (<c>./test.sh</c> installs <c>mariadb-server</c>); when it cannot start, the tests fail with the reason.
/// </summary>
[SetUpFixture]
public sealed class MariaDbServer
{
    /// <summary>The test user's password: it has the characters URLs and DSNs treat specially.</summary>
    public const string Password = "p@ss:w0rd/;=x";

    public const string User = "edge";

    public const string Database = "edgetest";

    private static Process? server;
    private static string? directory;
    private static ProcessStartInfo? startInfo;

    public static int Port { get; private set; }

    /// <summary>A connection string for the test user and database over TCP.</summary>
    public static string ConnectionString => new MySqlConnectionStringBuilder
    {
        Server = "127.0.0.1",
        Port = (uint)Port,
        UserID = User,
        Password = Password,
        Database = Database,
    }.ConnectionString;

    private static string Socket => Path.Combine(directory!, "mysqld.sock");

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        var daemon = Find("mariadbd", "/usr/sbin/mariadbd", "/usr/libexec/mariadbd") ?? Find("mysqld", "/usr/sbin/mysqld");
        var install = Find("mariadb-install-db", "/usr/bin/mariadb-install-db") ?? Find("mysql_install_db", "/usr/bin/mysql_install_db");
        if (daemon is null || install is null)
        {
            Assert.Fail("MariaDB is not installed here: run ./test.sh, which installs the Debian package mariadb-server, or apt-get install mariadb-server");
        }

        directory = Path.Combine(Path.GetTempPath(), "edgestream-mariadb-" + Guid.NewGuid().ToString("N")[..8]);
        var data = Path.Combine(directory, "data");
        Directory.CreateDirectory(data);
        var asRoot = Environment.UserName == "root";
        var user = asRoot ? ["--user=root"] : Array.Empty<string>();
        Run(install!, ["--no-defaults", $"--datadir={data}", "--auth-root-authentication-method=normal", "--skip-test-db", .. user]);

        Port = FreePort();
        var start = new ProcessStartInfo(daemon!)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in (string[])["--no-defaults", $"--datadir={data}", $"--socket={Socket}", $"--port={Port}", "--bind-address=127.0.0.1",
                     "--skip-name-resolve", $"--pid-file={Path.Combine(directory, "mariadb.pid")}", $"--log-error={Path.Combine(directory, "error.log")}",
                     "--innodb-buffer-pool-size=32M", "--max-connections=200", .. user])
        {
            start.ArgumentList.Add(argument);
        }

        startInfo = start;
        server = Process.Start(start) ?? throw new InvalidOperationException("mariadbd did not start");
        await WaitUntilUpAsync();
        await using var admin = new MySqlConnection($"Server={Socket};Protocol=Unix;User ID=root;");
        await admin.OpenAsync();
        await using var setup = admin.CreateCommand();
        setup.CommandText = $"CREATE DATABASE {Database}; CREATE USER '{User}'@'%' IDENTIFIED BY @password; GRANT ALL ON *.* TO '{User}'@'%'; FLUSH PRIVILEGES;";
        setup.Parameters.AddWithValue("@password", Password);
        await setup.ExecuteNonQueryAsync();
    }

    [OneTimeTearDown]
    public void Stop()
    {
        if (server is { HasExited: false })
        {
            server.Kill(entireProcessTree: true);
            server.WaitForExit(10_000);
        }

        server?.Dispose();
        if (directory is not null && Directory.Exists(directory))
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    /// <summary>Kills the server (SIGKILL, as a crash or power loss would), keeps it down for <paramref name="downtime"/>, starts it again.</summary>
    public static async Task CrashAndRestartAsync(TimeSpan downtime)
    {
        server!.Kill(entireProcessTree: true);
        await server.WaitForExitAsync();
        server.Dispose();
        await Task.Delay(downtime);
        server = Process.Start(startInfo!) ?? throw new InvalidOperationException("mariadbd did not restart");
        await WaitUntilUpAsync();
    }

    /// <summary>Runs a statement as the test user.</summary>
    public static async Task<object?> ScalarAsync(string sql)
    {
        await using var connection = new MySqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        return await command.ExecuteScalarAsync();
    }

    /// <summary>Reads every row of a query as column → value.</summary>
    public static async Task<List<Dictionary<string, object?>>> QueryAsync(string sql)
    {
        await using var connection = new MySqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<Dictionary<string, object?>>();
        while (await reader.ReadAsync())
        {
            var row = new Dictionary<string, object?>(StringComparer.Ordinal);
            for (var i = 0; i < reader.FieldCount; i++)
            {
                row[reader.GetName(i)] = reader.IsDBNull(i) ? null : reader.GetValue(i);
            }

            rows.Add(row);
        }

        return rows;
    }

    private static async Task WaitUntilUpAsync()
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            try
            {
                await using var probe = new MySqlConnection($"Server={Socket};Protocol=Unix;User ID=root;Connection Timeout=2;");
                await probe.OpenAsync();
                return;
            }
            catch (MySqlException) when (DateTime.UtcNow < deadline && server is { HasExited: false })
            {
                await Task.Delay(200);
            }
            catch (MySqlException e)
            {
                var log = Path.Combine(directory!, "error.log");
                Assert.Fail($"MariaDB did not start: {e.Message}\n{(File.Exists(log) ? File.ReadAllText(log) : "(no error log)")}");
            }
        }
    }

    private static void Run(string program, string[] arguments)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        process.WaitForExit(120_000);
        if (process.ExitCode != 0)
        {
            Assert.Fail($"{Path.GetFileName(program)} failed ({process.ExitCode}): {output.Result}\n{errors.Result}");
        }
    }

    private static string? Find(string name, params string[] candidates)
    {
        foreach (var path in candidates.Concat((Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(':').Select(p => Path.Combine(p, name))))
        {
            if (File.Exists(path))
            {
                return path;
            }
        }

        return null;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
