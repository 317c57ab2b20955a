using System.Text;

namespace EdgeStream.State.Sqlite.Tests;

/// <summary>The contract every <see cref="IStateStore"/> keeps, checked on the SQLite file store and the in-memory one.</summary>
[TestFixture("sqlite")]
[TestFixture("memory")]
public sealed class StateStoreContractTests(string kind)
{
    private string folder = null!;
    private IStateStore store = null!;

    [SetUp]
    public void Open()
    {
        folder = Directory.CreateTempSubdirectory("edgestream-state-").FullName;
        store = kind == "sqlite" ? new SqliteStateStore(Path.Combine(folder, "state.db")) : new InMemoryStateStore();
    }

    [TearDown]
    public async Task Close()
    {
        if (store is IAsyncDisposable disposable)
        {
            await disposable.DisposeAsync();
        }

        Directory.Delete(folder, recursive: true);
    }

    [Test]
    public async Task A_value_is_read_back_byte_for_byte_replaced_whole_and_deleted()
    {
        byte[] binary = [0, 1, 2, 0, 255, 254, 0];
        Assert.That(await store.GetAsync("rule/r1/checkpoint"), Is.Null);
        await store.SetAsync("rule/r1/checkpoint", binary);
        Assert.That(await store.GetAsync("rule/r1/checkpoint"), Is.EqualTo(binary));

        await store.SetAsync("rule/r1/checkpoint", new byte[] { 7 });
        Assert.That(await store.GetAsync("rule/r1/checkpoint"), Is.EqualTo(new byte[] { 7 }), "replaced, not appended");

        await store.SetAsync("empty", ReadOnlyMemory<byte>.Empty);
        Assert.That(await store.GetAsync("empty"), Is.Empty, "an empty value is a value, not a missing one");

        Assert.That(await store.DeleteAsync("rule/r1/checkpoint"), Is.True);
        Assert.That(await store.DeleteAsync("rule/r1/checkpoint"), Is.False);
        Assert.That(await store.GetAsync("rule/r1/checkpoint"), Is.Null);
    }

    [Test]
    public async Task The_array_given_can_be_reused_after_the_call_and_the_array_read_is_the_callers()
    {
        var value = new byte[] { 1, 2, 3 };
        await store.SetAsync("k", value);
        value[0] = 9;
        var read = (await store.GetAsync("k"))!;
        Assert.That(read, Is.EqualTo(new byte[] { 1, 2, 3 }));
        read[1] = 9;
        Assert.That(await store.GetAsync("k"), Is.EqualTo(new byte[] { 1, 2, 3 }));
    }

    [Test]
    public async Task Keys_are_listed_by_prefix_in_ordinal_order()
    {
        foreach (var key in new[] { "rule/b", "rule/a", "stream/s", "rule/A", "rules", "rule/é", "rule/%", "rule/_x" })
        {
            await store.SetAsync(key, new byte[] { 1 });
        }

        Assert.That(await store.KeysAsync("rule/"), Is.EqualTo(new[] { "rule/%", "rule/A", "rule/_x", "rule/a", "rule/b", "rule/é" }));
        Assert.That(await store.KeysAsync("rule/_"), Is.EqualTo(new[] { "rule/_x" }), "_ and % are not wildcards");
        Assert.That(await store.KeysAsync(""), Has.Count.EqualTo(8));
        Assert.That(await store.KeysAsync("nothing/"), Is.Empty);
    }

    [Test]
    public async Task Keys_and_values_that_look_like_sql_are_kept_as_text()
    {
        const string key = "x'); DROP TABLE edgestream_state; --";
        var value = Encoding.UTF8.GetBytes("'; DELETE FROM edgestream_state; --");
        await store.SetAsync(key, value);
        await store.SetAsync("other", new byte[] { 2 });
        Assert.That(await store.GetAsync(key), Is.EqualTo(value));
        Assert.That(await store.KeysAsync(""), Is.EqualTo(new[] { "other", key }));
    }

    [Test]
    public void A_key_no_store_takes_is_refused_with_the_reason()
    {
        Assert.That(async () => await store.SetAsync("", new byte[] { 1 }), Throws.ArgumentException);
        Assert.That(async () => await store.GetAsync(null!), Throws.ArgumentNullException);
        var tooLong = new string('k', StateKeys.MaxLength + 1);
        Assert.That(async () => await store.SetAsync(tooLong, new byte[] { 1 }), Throws.ArgumentException.With.Message.Contains("at most 1024"));
        Assert.That(async () => await store.SetAsync(new string('k', StateKeys.MaxLength), new byte[] { 1 }), Throws.Nothing);
    }

    [Test]
    public async Task Writers_on_many_threads_each_keep_their_last_value()
    {
        await Task.WhenAll(Enumerable.Range(0, 8).Select(writer => Task.Run(async () =>
        {
            for (var i = 0; i < 50; i++)
            {
                await store.SetAsync($"w{writer}/k{i % 10}", BitConverter.GetBytes((writer * 1000) + i));
            }
        })));

        var keys = await store.KeysAsync("w");
        Assert.That(keys, Has.Count.EqualTo(80));
        for (var writer = 0; writer < 8; writer++)
        {
            for (var k = 0; k < 10; k++)
            {
                var value = await store.GetAsync($"w{writer}/k{k}");
                Assert.That(BitConverter.ToInt32(value), Is.EqualTo((writer * 1000) + 40 + k), $"w{writer}/k{k}");
            }
        }
    }
}

/// <summary>What only the file store does: keep its values across closing and reopening, and refuse a file that is not its own.</summary>
public sealed class SqliteStateStoreTests
{
    private string folder = null!;

    [SetUp]
    public void Folder() => folder = Directory.CreateTempSubdirectory("edgestream-state-").FullName;

    [TearDown]
    public void Remove() => Directory.Delete(folder, recursive: true);

    [Test]
    public async Task Values_survive_closing_and_reopening_the_file()
    {
        var path = Path.Combine(folder, "state.db");
        await using (var first = new SqliteStateStore(path))
        {
            await first.SetAsync("rule/r1", new byte[] { 1, 2 });
            await first.SetAsync("rule/r2", new byte[] { 3 });
            await first.DeleteAsync("rule/r2");
        }

        await using var second = new SqliteStateStore(path);
        Assert.That(await second.GetAsync("rule/r1"), Is.EqualTo(new byte[] { 1, 2 }));
        Assert.That(await second.KeysAsync(""), Is.EqualTo(new[] { "rule/r1" }));
        Assert.That(second.Path, Is.EqualTo(Path.GetFullPath(path)));
    }

    [Test]
    public void A_file_that_is_not_a_database_is_refused_naming_the_file()
    {
        var path = Path.Combine(folder, "not-a-db.db");
        File.WriteAllText(path, new string('x', 4096));
        Assert.That(() => new SqliteStateStore(path), Throws.InvalidOperationException.With.Message.Contains(path).And.Message.Contains("cannot be opened"));
    }

    [Test]
    public void A_folder_that_does_not_exist_is_refused_naming_the_file()
    {
        var path = Path.Combine(folder, "missing", "state.db");
        Assert.That(() => new SqliteStateStore(path), Throws.InvalidOperationException.With.Message.Contains(path));
    }

    [Test]
    public async Task A_closed_store_refuses_calls()
    {
        var store = new SqliteStateStore(Path.Combine(folder, "state.db"));
        store.Dispose();
        await store.DisposeAsync(); // twice is fine
        Assert.That(async () => await store.GetAsync("k"), Throws.TypeOf<ObjectDisposedException>());
    }
}
