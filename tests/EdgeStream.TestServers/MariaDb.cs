using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using MySqlConnector;

namespace EdgeStream.TestServers;

/// <summary>
/// A real MariaDB server of its own: <c>mariadb-install-db</c> into a temp directory, <c>mariadbd</c> on a free
/// loopback port with its socket in that directory; <see cref="DisposeAsync"/> kills it and deletes the directory.
/// It has a database <see cref="Database"/> and a user <see cref="User"/> whose password has the characters URLs and
/// DSNs treat specially. The server must be installed (<c>./test.sh</c> installs Debian's <c>mariadb-server</c>).
/// </summary>
public sealed class MariaDb : IAsyncDisposable
{
    public const string Password = "p@ss:w0rd/;=x";

    public const string User = "edge";

    public const string Database = "edgetest";

    private readonly string directory;
    private readonly ProcessStartInfo startInfo;
    private Process server;

    private MariaDb(string directory, ProcessStartInfo startInfo, Process server, int port)
    {
        this.directory = directory;
        this.startInfo = startInfo;
        this.server = server;
        Port = port;
    }

    public int Port { get; }

    /// <summary>A connection string for the test user and database over TCP.</summary>
    public string ConnectionString => new MySqlConnectionStringBuilder
    {
        Server = "127.0.0.1",
        Port = (uint)Port,
        UserID = User,
        Password = Password,
        Database = Database,
    }.ConnectionString;

    private string Socket => Path.Combine(directory, "mysqld.sock");

    /// <summary>Installs a data directory, starts the server and creates the database and user.</summary>
    /// <exception cref="InvalidOperationException">MariaDB is not installed, or did not start (the message says why).</exception>
    public static async Task<MariaDb> StartAsync()
    {
        var daemon = Find("mariadbd", "/usr/sbin/mariadbd", "/usr/libexec/mariadbd") ?? Find("mysqld", "/usr/sbin/mysqld");
        var install = Find("mariadb-install-db", "/usr/bin/mariadb-install-db") ?? Find("mysql_install_db", "/usr/bin/mysql_install_db");
        if (daemon is null || install is null)
        {
            throw new InvalidOperationException("MariaDB is not installed here: run ./test.sh, which installs the Debian package mariadb-server, or apt-get install mariadb-server");
        }

        var directory = Path.Combine(Path.GetTempPath(), "edgestream-mariadb-" + Guid.NewGuid().ToString("N")[..8]);
        var data = Path.Combine(directory, "data");
        Directory.CreateDirectory(data);
        var user = Environment.UserName == "root" ? ["--user=root"] : Array.Empty<string>();
        Run(install, ["--no-defaults", $"--datadir={data}", "--auth-root-authentication-method=normal", "--skip-test-db", .. user]);

        var port = FreePort();
        var start = new ProcessStartInfo(daemon) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in (string[])["--no-defaults", $"--datadir={data}", $"--socket={Path.Combine(directory, "mysqld.sock")}", $"--port={port}",
                     "--bind-address=127.0.0.1", "--skip-name-resolve", $"--pid-file={Path.Combine(directory, "mariadb.pid")}",
                     $"--log-error={Path.Combine(directory, "error.log")}", "--innodb-buffer-pool-size=32M", "--max-connections=200", .. user])
        {
            start.ArgumentList.Add(argument);
        }

        var server = new MariaDb(directory, start, Process.Start(start) ?? throw new InvalidOperationException("mariadbd did not start"), port);
        try
        {
            await server.WaitUntilUpAsync();
            await using var admin = new MySqlConnection($"Server={server.Socket};Protocol=Unix;User ID=root;");
            await admin.OpenAsync();
            await using var setup = admin.CreateCommand();
            setup.CommandText = $"CREATE DATABASE {Database}; CREATE USER '{User}'@'%' IDENTIFIED BY @password; GRANT ALL ON *.* TO '{User}'@'%'; FLUSH PRIVILEGES;";
            setup.Parameters.AddWithValue("@password", Password);
            await setup.ExecuteNonQueryAsync();
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>Kills the server (SIGKILL, as a crash or power loss would), keeps it down for <paramref name="downtime"/>, starts it again.</summary>
    public async Task CrashAndRestartAsync(TimeSpan downtime)
    {
        await CrashAsync();
        await Task.Delay(downtime);
        await RestartAsync();
    }

    /// <summary>Kills the server (SIGKILL); <see cref="RestartAsync"/> brings it back with its data.</summary>
    public async Task CrashAsync()
    {
        server.Kill(entireProcessTree: true);
        await server.WaitForExitAsync();
    }

    /// <summary>Starts the server again after <see cref="CrashAsync"/>, on the same port and data.</summary>
    public async Task RestartAsync()
    {
        server.Dispose();
        server = Process.Start(startInfo) ?? throw new InvalidOperationException("mariadbd did not restart");
        await WaitUntilUpAsync();
    }

    /// <summary>Runs a statement as the test user; its first value.</summary>
    public async Task<object?> ScalarAsync(string sql)
    {
        await using var connection = new MySqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        return await command.ExecuteScalarAsync();
    }

    /// <summary>Reads every row of a query as column → value.</summary>
    public async Task<List<Dictionary<string, object?>>> QueryAsync(string sql)
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

    public async ValueTask DisposeAsync()
    {
        if (!server.HasExited)
        {
            server.Kill(entireProcessTree: true);
            await server.WaitForExitAsync();
        }

        server.Dispose();
        if (Directory.Exists(directory))
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private async Task WaitUntilUpAsync()
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
            catch (MySqlException) when (DateTime.UtcNow < deadline && !server.HasExited)
            {
                await Task.Delay(200);
            }
            catch (MySqlException e)
            {
                var log = Path.Combine(directory, "error.log");
                throw new InvalidOperationException($"MariaDB did not start: {e.Message}\n{(File.Exists(log) ? await File.ReadAllTextAsync(log) : "(no error log)")}", e);
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
            throw new InvalidOperationException($"{Path.GetFileName(program)} failed ({process.ExitCode}): {output.Result}\n{errors.Result}");
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
