using System.Collections.Concurrent;
using System.Collections.Immutable;
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
    private readonly ConcurrentDictionary<string, ImmutableArray<IMemorySubscriber>> topics = new(StringComparer.Ordinal);

    internal MemoryBus()
    {
    }

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

    /// <summary>Publishes one event as a JSON object payload; each subscribing stream decodes it with its own schema.</summary>
    /// <param name="topic">The topic.</param>
    /// <param name="json">UTF-8 JSON. A malformed payload is counted and reported by the rules that read it; they keep running.</param>
    /// <param name="cancellationToken">Stops waiting for a full subscriber.</param>
    /// <returns>Completes when every current subscriber has taken the event.</returns>
    public ValueTask PublishJsonAsync(string topic, ReadOnlyMemory<byte> json, CancellationToken cancellationToken = default) =>
        PublishAsync(topic, new MemoryMessage(null, json, null), cancellationToken);

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

    internal void Add(string topic, IMemorySubscriber subscriber)
    {
        ArgumentException.ThrowIfNullOrEmpty(topic);
        topics.AddOrUpdate(topic, _ => [subscriber], (_, list) => list.Add(subscriber));
    }

    internal void Remove(string topic, IMemorySubscriber subscriber)
    {
        var remaining = topics.AddOrUpdate(topic, _ => [], (_, list) => list.Remove(subscriber));
        if (remaining.IsEmpty)
        {
            // Forget the topic, unless a subscriber arrived meanwhile (then the stored list is no longer this empty one).
            topics.TryRemove(new KeyValuePair<string, ImmutableArray<IMemorySubscriber>>(topic, remaining));
        }
    }

    /// <summary>How many topics have subscribers (for leak checks).</summary>
    internal int TopicCount => topics.Count;

    internal async ValueTask PublishAsync(string topic, MemoryMessage message, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(topic);
        if (!topics.TryGetValue(topic, out var subscribers))
        {
            return;
        }

        foreach (var subscriber in subscribers)
        {
            await subscriber.DeliverAsync(message, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>A host code subscription: converts to plain CLR rows.</summary>
    private sealed class HostSubscriber(int capacity) : IMemorySubscriber
    {
        public Channel<IReadOnlyList<IReadOnlyDictionary<string, object?>>> Channel { get; } =
            System.Threading.Channels.Channel.CreateBounded<IReadOnlyList<IReadOnlyDictionary<string, object?>>>(
                new BoundedChannelOptions(capacity) { FullMode = BoundedChannelFullMode.Wait, SingleReader = false, SingleWriter = false });

        public async ValueTask DeliverAsync(MemoryMessage message, CancellationToken cancellationToken)
        {
            IReadOnlyList<IReadOnlyDictionary<string, object?>> rows;
            if (message.Rows is { } list)
            {
                rows = list.Select(ClrValues.ToDictionary).ToArray();
            }
            else if (message.Row is { } row)
            {
                rows = [ClrValues.ToDictionary(row)];
            }
            else
            {
                // A raw topic reader sees what was published; an undecodable payload is for the rules to report.
                Value value;
                try
                {
                    value = JsonValueReader.Parse(message.Json.Span);
                }
                catch (System.Text.Json.JsonException)
                {
                    return;
                }

                rows = value.Kind == ValueKind.Object ? [ClrValues.ToDictionary(value.AsObject)] : [];
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
