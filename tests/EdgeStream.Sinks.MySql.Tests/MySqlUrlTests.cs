using MySqlConnector;

namespace EdgeStream.Sinks.MySql.Tests;

/// <summary>The three ways rules write a server, and errors that never repeat the password.</summary>
public sealed class MySqlUrlTests
{
    [TestCase("Server=db;Port=3307;User ID=u;Password=p;Database=d", "db", 3307u, "u", "p", "d")]
    [TestCase("mysql://u:p%40ss@db:3307/d", "db", 3307u, "u", "p@ss", "d")]
    [TestCase("mysql://u@db/d", "db", 3306u, "u", "", "d")]
    [TestCase("mariadb://u:p@db:3308/", "db", 3308u, "u", "p", "")]
    [TestCase("root:secret@tcp(127.0.0.1:3306)/test", "127.0.0.1", 3306u, "root", "secret", "test")]
    [TestCase("u:p@ss:w@tcp(db)/d?parseTime=true", "db", 3306u, "u", "p@ss:w", "d")]
    [TestCase("u:pw@tcp([::1]:3309)/d", "::1", 3309u, "u", "pw", "d")]
    [TestCase("u:pw@tcp([::1])/d", "::1", 3306u, "u", "pw", "d")]
    public void Every_form_gives_the_same_settings(string url, string server, uint port, string user, string password, string database)
    {
        var settings = MySqlUrl.Parse(url);
        Assert.That((settings.Server, settings.Port, settings.UserID, settings.Password, settings.Database), Is.EqualTo((server, port, user, password, database)));
        Assert.That(settings.Pooling, Is.True);
    }

    [Test]
    public void A_go_dsn_over_a_unix_socket_uses_the_socket()
    {
        var settings = MySqlUrl.Parse("u:p@unix(/run/mysqld/mysqld.sock)/d");
        Assert.That((settings.Server, settings.ConnectionProtocol), Is.EqualTo(("/run/mysqld/mysqld.sock", MySqlConnectionProtocol.UnixSocket)));
    }

    [TestCase("not a url with hunter2")]
    [TestCase("mysql://u:hunter2@/d")]
    [TestCase("u:hunter2@tcp(db:99999)/d")]
    [TestCase("u:hunter2@tcp(db:3306)d")]
    [TestCase("Server=;Password=hunter2")]
    public void A_bad_url_is_refused_without_showing_the_password(string url)
    {
        var error = Assert.Throws<ArgumentException>(() => MySqlUrl.Parse(url))!;
        Assert.That(error.Message, Does.StartWith("url:"));
        Assert.That(error.Message, Does.Not.Contain("hunter2"));
    }

    [TestCase("plain", "`plain`")]
    [TestCase("with`tick", "`with``tick`")]
    [TestCase("db.table", "`db`.`table`")]
    [TestCase("x'); DROP TABLE y; --", "`x'); DROP TABLE y; --`")]
    public void Table_names_are_quoted_identifiers(string table, string quoted) =>
        Assert.That(MySqlIdentifier.QuoteTable(table), Is.EqualTo(quoted));

    [TestCase("")]
    [TestCase("ends with space ")]
    [TestCase("nul\0byte")]
    public void Names_that_cannot_be_identifiers_are_refused(string name) =>
        Assert.Throws<ArgumentException>(() => MySqlIdentifier.Quote(name, "column"));
}
