using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using System.Threading.Channels;
using EdgeStream.Abstractions;
using EdgeStream.Runtime;
using EdgeStream.Runtime.Json;
using EdgeStream.Runtime.Memory;

namespace EdgeStream;

/// <summary>
/// In-process topics, eKuiper's <c>memory</c> connector: host code publishes events to a topic that a stream
/// declared with <c>TYPE="memory", DATASOURCE="topic"</c> reads; a rule action <c>memory</c> with a <c>topic</c>
/// property publishes results that host code (or another rule's memory stream) receives.
/// </summary>
/// <remarks>
/// Delivery is to the subscribers present at publication time, each through its own bounded buffer: a full buffer
/// makes the publisher wait (backpressure), nothing is dropped. All members are thread-safe.
/// </remarks>
public sealed class MemoryBus
{
    // Each topic's subscribers with its route index: publishers read them lock-free, subscriptions change them under
    // the lock (appending, or leaving a hole, so that 10,000 rules subscribe in linear time).
    private readonly ConcurrentDictionary<string, TopicSubscribers> topics = new(StringComparer.Ordinal);
    private readonly Lock gate = new();

    private readonly TimeProvider clock;

    internal MemoryBus(TimeProvider clock) => this.clock = clock;

    /// <summary>Publishes one event, given as field names and plain values (numbers, strings, booleans, arrays, dictionaries).</summary>
    /// <param name="topic">The topic.</param>
    /// <param name="row">The event's fields.</param>
    /// <param name="cancellationToken">Stops waiting for a full subscriber.</param>
    /// <returns>Completes when every current subscriber has taken the event.</returns>
    public ValueTask PublishAsync(string topic, IReadOnlyDictionary<string, object?> row, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(row);
        var value = ClrValues.FromClr(row);
        return PublishAsync(topic, new MemoryMessage(value.AsObject, default, null), cancellationToken);
    }

    /// <summary>
    /// Publishes a batch of events as one message: every subscriber takes the batch in one step, which costs far less
    /// per event than publishing them one by one. A rule's buffer counts each event of the batch against its
    /// <c>bufferLength</c>; the rule processes and emits them one by one, in order.
    /// </summary>
    /// <param name="topic">The topic.</param>
    /// <param name="rows">The events' fields as plain values.</param>
    /// <param name="cancellationToken">Stops waiting for a full subscriber.</param>
    /// <returns>Completes when every current subscriber has taken the batch.</returns>
    public ValueTask PublishBatchAsync(string topic, IEnumerable<IReadOnlyDictionary<string, object?>> rows, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var batch = rows.Select(r => ClrValues.FromClr(r).AsObject).ToArray();
        return batch.Length == 0 ? ValueTask.CompletedTask : PublishAsync(topic, new MemoryMessage(null, default, batch), cancellationToken);
    }

    /// <summary>Publishes one event as a JSON object payload; each subscribing stream decodes it with its own schema.</summary>
    /// <param name="topic">The topic.</param>
    /// <param name="json">UTF-8 JSON. A malformed payload is counted and reported by the rules that read it; they keep running.</param>
    /// <param name="cancellationToken">Stops waiting for a full subscriber.</param>
    /// <returns>Completes when every current subscriber has taken the event.</returns>
    public ValueTask PublishJsonAsync(string topic, ReadOnlyMemory<byte> json, CancellationToken cancellationToken = default) =>
        PublishAsync(topic, new MemoryMessage(null, json, null), cancellationToken);

    /// <summary>
    /// Publishes a batch of JSON payloads as one message, each decoded as <see cref="PublishJsonAsync"/> decodes one:
    /// every subscriber takes the batch in one step, which costs far less per event than publishing them one by one.
    /// A rule's buffer counts each payload against its <c>bufferLength</c>; a malformed payload is counted and reported
    /// on its own and the others are processed.
    /// </summary>
    /// <param name="topic">The topic.</param>
    /// <param name="payloads">UTF-8 JSON payloads, in order. The list is copied; the payloads' memory is read later
    /// and must stay unchanged.</param>
    /// <param name="cancellationToken">Stops waiting for a full subscriber.</param>
    /// <returns>Completes when every current subscriber has taken the batch.</returns>
    public ValueTask PublishJsonBatchAsync(string topic, IEnumerable<ReadOnlyMemory<byte>> payloads, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(payloads);
        var batch = payloads.ToArray();
        return batch.Length == 0 ? ValueTask.CompletedTask : PublishAsync(topic, new MemoryMessage(null, default, null) { Payloads = batch }, cancellationToken);
    }

    /// <summary>
    /// Subscribes to a topic now and returns what arrives from here on: each item is one emission (the rows of one
    /// result; an event published by host code arrives as a list of one row).
    /// </summary>
    /// <param name="topic">The topic.</param>
    /// <param name="cancellationToken">Ends the subscription; the reader then completes.</param>
    /// <param name="capacity">How many emissions may wait unread before publishers wait.</param>
    /// <returns>The reader of the subscription.</returns>
    public ChannelReader<IReadOnlyList<IReadOnlyDictionary<string, object?>>> Subscribe(string topic, CancellationToken cancellationToken, int capacity = 1024)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        var subscriber = new HostSubscriber(capacity);
        Add(topic, subscriber);
        cancellationToken.Register(() =>
        {
            Remove(topic, subscriber);
            subscriber.Channel.Writer.TryComplete();
        });
        return subscriber.Channel.Reader;
    }

    /// <summary>
    /// Publishes one object as an event: each public property is a column (named by <c>[JsonPropertyName]</c> if
    /// present; <c>[JsonIgnore]</c> skips one). The accessors are built once per type, so no reflection runs per event,
    /// and the annotation keeps the properties under trimming and Native AOT.
    /// </summary>
    /// <typeparam name="T">The event type: a class or record (a struct works, read by reflection).</typeparam>
    /// <param name="topic">The topic.</param>
    /// <param name="item">The event.</param>
    /// <param name="cancellationToken">Stops waiting for a full subscriber.</param>
    /// <returns>Completes when every current subscriber has taken the event.</returns>
    /// <exception cref="ArgumentException">A property holds a value with no SQL equivalent.</exception>
    public ValueTask PublishObjectAsync<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicProperties | DynamicallyAccessedMemberTypes.PublicConstructors)] T>(
        string topic, T item, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(item);
        return PublishAsync(topic, new MemoryMessage(TypeMap<T>.ToRow(item), default, null), cancellationToken);
    }

    /// <summary>
    /// Publishes a batch of objects as one message, each an event as <see cref="PublishObjectAsync{T}"/> makes it:
    /// every subscriber takes the batch in one step, which costs far less per event than publishing them one by one.
    /// </summary>
    /// <typeparam name="T">The event type: a class or record.</typeparam>
    /// <param name="topic">The topic.</param>
    /// <param name="items">The events, in order (none may be null).</param>
    /// <param name="cancellationToken">Stops waiting for a full subscriber.</param>
    /// <returns>Completes when every current subscriber has taken the batch.</returns>
    /// <exception cref="ArgumentException">An item is null, or a property holds a value with no SQL equivalent; nothing is published.</exception>
    public ValueTask PublishObjectBatchAsync<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicProperties | DynamicallyAccessedMemberTypes.PublicConstructors)] T>(
        string topic, IEnumerable<T> items, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(items);
        var batch = new List<ValueObject>(items is ICollection<T> known ? known.Count : 16);
        foreach (var item in items)
        {
            batch.Add(TypeMap<T>.ToRow(item ?? throw new ArgumentException("a batch item is null", nameof(items))));
        }

        return batch.Count == 0 ? ValueTask.CompletedTask : PublishAsync(topic, new MemoryMessage(null, default, batch), cancellationToken);
    }

    /// <summary>
    /// Subscribes to a topic now and returns each row that arrives from here on, in order (the rows of an
    /// emission one after another). Enumerate it once; when <paramref name="cancellationToken"/> fires it yields
    /// what had arrived and ends. Leaving the loop early unsubscribes; a result never enumerated stays subscribed
    /// until the token fires.
    /// A reader that falls behind by 1024 emissions makes the publishing rules wait.
    /// </summary>
    /// <param name="topic">The topic.</param>
    /// <param name="cancellationToken">Ends the subscription.</param>
    /// <returns>The rows.</returns>
    public IAsyncEnumerable<IReadOnlyDictionary<string, object?>> ReadAllAsync(string topic, CancellationToken cancellationToken)
    {
        var subscriber = new HostSubscriber(1024);
        Add(topic, subscriber);
        void Leave()
        {
            Remove(topic, subscriber);
            subscriber.Channel.Writer.TryComplete();
        }

        var registration = cancellationToken.Register(Leave);
        return Rows(subscriber.Channel.Reader, () =>
        {
            registration.Dispose();
            Leave();
        });
    }

    /// <summary>
    /// Subscribes to a topic now and returns each row that arrives from here on as a <typeparamref name="T"/>: columns
    /// fill the properties of the same name, matched case-insensitively when no column has the exact name (or the
    /// parameters of a record's constructor); missing columns leave defaults. Otherwise as <see cref="ReadAllAsync(string, CancellationToken)"/>.
    /// </summary>
    /// <typeparam name="T">The result type: a class with settable properties, or a record.</typeparam>
    /// <param name="topic">The topic.</param>
    /// <param name="cancellationToken">Ends the subscription.</param>
    /// <returns>The results; enumerating throws <see cref="InvalidCastException"/> (naming the column) for a value that does not convert.</returns>
    public IAsyncEnumerable<T> ReadAllAsync<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicProperties | DynamicallyAccessedMemberTypes.PublicConstructors)] T>(
        string topic, CancellationToken cancellationToken)
    {
        var rows = ReadAllAsync(topic, cancellationToken);
        return Map(rows);

        static async IAsyncEnumerable<T> Map(IAsyncEnumerable<IReadOnlyDictionary<string, object?>> rows)
        {
            await foreach (var row in rows.ConfigureAwait(false))
            {
                yield return TypeMap<T>.FromRow(row);
            }
        }
    }

    private static async IAsyncEnumerable<IReadOnlyDictionary<string, object?>> Rows(
        ChannelReader<IReadOnlyList<IReadOnlyDictionary<string, object?>>> reader, Action leave)
    {
        try
        {
            // Cancelling the subscription completes the channel, so what arrived before is still read, then the loop ends.
            while (await reader.WaitToReadAsync(CancellationToken.None).ConfigureAwait(false))
            {
                while (reader.TryRead(out var emission))
                {
                    foreach (var row in emission)
                    {
                        yield return row;
                    }
                }
            }
        }
        finally
        {
            leave(); // a reader that stops early (break, an exception) unsubscribes, so it cannot stall the rules
        }
    }

    /// <summary>
    /// Calls <paramref name="onEmission"/> for each emission published to the topic from now on, on the publisher's
    /// task: the publishing rule waits until the callback finishes (backpressure), and calls never overlap for one
    /// publisher. An exception from the callback is counted in the publishing rule's status and reported; the rule
    /// goes on.
    /// </summary>
    /// <param name="topic">The topic.</param>
    /// <param name="onEmission">Receives each emission's rows and a token that fires when the publisher stops waiting.</param>
    /// <returns>Dispose it to unsubscribe.</returns>
    public IDisposable Subscribe(string topic, Func<IReadOnlyList<IReadOnlyDictionary<string, object?>>, CancellationToken, ValueTask> onEmission)
    {
        ArgumentNullException.ThrowIfNull(onEmission);
        var subscriber = new CallbackSubscriber(onEmission);
        Add(topic, subscriber);
        return new Unsubscriber(() => Remove(topic, subscriber));
    }

    private sealed class Unsubscriber(Action remove) : IDisposable
    {
        private Action? remove = remove;

        public void Dispose() => Interlocked.Exchange(ref remove, null)?.Invoke();
    }

    /// <summary>A host callback: converts to plain CLR rows and calls it inline.</summary>
    private sealed class CallbackSubscriber(Func<IReadOnlyList<IReadOnlyDictionary<string, object?>>, CancellationToken, ValueTask> onEmission) : IMemorySubscriber
    {
        public ValueTask DeliverAsync(MemoryMessage message, CancellationToken cancellationToken) =>
            HostRows(message) is { } rows ? onEmission(rows, cancellationToken) : ValueTask.CompletedTask;
    }

    /// <summary>A message as plain CLR rows; null for a payload that is not a JSON object (the rules report those).</summary>
    private static IReadOnlyDictionary<string, object?>[]? HostRows(MemoryMessage message)
    {
        if (message.Rows is { } list)
        {
            return list.Select(ClrValues.ToDictionary).ToArray();
        }

        if (message.Row is { } row)
        {
            return [ClrValues.ToDictionary(row)];
        }

        if (message.Payloads is { } payloads)
        {
            // Each payload as one would be: its object, or nothing for a malformed one (the rules report those).
            return payloads.SelectMany(p => HostRows(new MemoryMessage(null, p, null)) ?? []).ToArray();
        }

        Value value;
        try
        {
            value = JsonValueReader.Parse(message.Json.Span);
        }
        catch (System.Text.Json.JsonException)
        {
            return null;
        }

        return value.Kind == ValueKind.Object ? [ClrValues.ToDictionary(value.AsObject)] : [];
    }

    internal void Add(string topic, IMemorySubscriber subscriber)
    {
        ArgumentException.ThrowIfNullOrEmpty(topic);
        lock (gate)
        {
            if (!topics.TryGetValue(topic, out var subscribers))
            {
                topics[topic] = subscribers = TopicSubscribers.Create(-1, new RouteCounts(), []);
            }

            if (subscribers.Add(subscriber) is { } matching)
            {
                ((IRoutedSubscriber)subscriber).RoutedBy(subscribers.Events, matching);
            }
        }
    }

    internal void Remove(string topic, IMemorySubscriber subscriber)
    {
        lock (gate)
        {
            if (!topics.TryGetValue(topic, out var subscribers) || subscribers.Remove(subscriber) is not (true, var routed))
            {
                return;
            }

            if (routed)
            {
                ((IRoutedSubscriber)subscriber).Unrouted();
            }

            if (subscribers.Living == 0)
            {
                topics.TryRemove(topic, out _);
            }
            else if (subscribers.Sparse)
            {
                topics[topic] = subscribers.Compacted();
            }
        }
    }

    /// <summary>How many topics have subscribers (for leak checks).</summary>
    internal int TopicCount => topics.Count;

    [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(System.Runtime.CompilerServices.PoolingAsyncValueTaskMethodBuilder))]
    internal async ValueTask PublishAsync(string topic, MemoryMessage message, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(topic);
        if (!topics.TryGetValue(topic, out var subscribers))
        {
            return;
        }

        if (message.ArrivedAt == 0)
        {
            // Arrival is when it was published, not when a rule gets to it (a busy rule must not age its events).
            message = message with { ArrivedAt = clock.GetUtcNow().ToUnixTimeMilliseconds() };
        }

        // Every subscriber gets the message even when one of them (a host callback) throws; the failures are
        // rethrown together afterwards, so the publisher learns of them and the others lose nothing.
        List<Exception>? failures = null;
        var (all, count) = subscribers.Subscribers;
        if (Routed(subscribers, message) is { } matched)
        {
            // A decoded event of a shared stream goes only to the rules whose WHERE column = constant it can pass,
            // and to those that take every event, in subscription order. A position past this view's end joined while
            // this was published, a null one has left.
            var every = subscribers.EveryEvent;
            int e = 0, m = 0;
            while (e < every.Length || m < matched.Length)
            {
                var next = m >= matched.Length || (e < every.Length && every[e] < matched[m]) ? every[e++] : matched[m++];
                if (next < count && all[next] is { } subscriber)
                {
                    failures = await DeliverAsync(subscriber, message, failures, cancellationToken).ConfigureAwait(false);
                }
            }
        }
        else
        {
            for (var i = 0; i < count; i++)
            {
                if (all[i] is { } subscriber)
                {
                    failures = await DeliverAsync(subscriber, message, failures, cancellationToken).ConfigureAwait(false);
                }
            }
        }

        if (failures is not null)
        {
            if (failures.Count == 1)
            {
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failures[0]);
            }

            throw new AggregateException(failures);
        }
    }

    /// <summary>
    /// The positions of the routed subscribers that take <paramref name="message"/>, counted as routed; null when it is
    /// not routed (no route on the topic, not a decoded event, or its column holds a value of another kind).
    /// </summary>
    private static int[]? Routed(TopicSubscribers subscribers, MemoryMessage message)
    {
        var slot = subscribers.Slot;
        if (slot < 0 || message.Decoded is not { } row || slot >= row.Values.Length)
        {
            return null;
        }

        var value = row.Values[slot];
        if (value.Kind != subscribers.Kind || RouteKey.Of(value) is not { } key)
        {
            return null;
        }

        subscribers.Events.Add();
        if (subscribers.BucketOf(key) is not { } bucket)
        {
            return [];
        }

        bucket.Count.Add();
        return bucket.Positions;
    }

    [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(System.Runtime.CompilerServices.PoolingAsyncValueTaskMethodBuilder<>))]
    private static async ValueTask<List<Exception>?> DeliverAsync(IMemorySubscriber subscriber, MemoryMessage message, List<Exception>? failures, CancellationToken cancellationToken)
    {
        try
        {
            await subscriber.DeliverAsync(message, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            (failures ??= []).Add(e);
        }

        return failures;
    }

    /// <summary>A host code subscription: converts to plain CLR rows.</summary>
    private sealed class HostSubscriber(int capacity) : IMemorySubscriber
    {
        public Channel<IReadOnlyList<IReadOnlyDictionary<string, object?>>> Channel { get; } =
            System.Threading.Channels.Channel.CreateBounded<IReadOnlyList<IReadOnlyDictionary<string, object?>>>(
                new BoundedChannelOptions(capacity) { FullMode = BoundedChannelFullMode.Wait, SingleReader = false, SingleWriter = false });

        public async ValueTask DeliverAsync(MemoryMessage message, CancellationToken cancellationToken)
        {
            if (HostRows(message) is not { } rows)
            {
                return; // a raw topic reader sees what was published; an undecodable payload is for the rules to report
            }

            try
            {
                await Channel.Writer.WriteAsync(rows, cancellationToken).ConfigureAwait(false);
            }
            catch (ChannelClosedException)
            {
                // The subscriber left while this message was on its way: nobody is there to lose it.
            }
        }
    }
}
