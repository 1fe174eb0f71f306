using TouchpointTracker.Collector.Buffering;
using TouchpointTracker.Collector.Forwarding;

namespace TouchpointTracker.Collector.Tests.Buffering;

public sealed class ShardMapTests
{
    [Test]
    public void A_visitor_always_maps_to_the_same_shard()
    {
        var first = Enumerable.Range(0, 1000).Select(i => RedisShardMap.ShardOf("site", "v-" + i, 8)).ToArray();
        var again = Enumerable.Range(0, 1000).Select(i => RedisShardMap.ShardOf("site", string.Concat("v-", i.ToString(System.Globalization.CultureInfo.InvariantCulture)), 8)).ToArray();
        Assert.That(again, Is.EqualTo(first));
        Assert.That(first, Has.All.InRange(0, 7));
    }

    [Test]
    public void The_shard_function_is_stable_across_processes_and_versions()
    {
        // FNV-1a over "site:visitor"; pinned so a change of the function (which would move visitors
        // between shards and break their order across the change) cannot go unnoticed.
        Assert.That(RedisShardMap.ShardOf("s1", "v1", 1024), Is.EqualTo(Fnv("s1:v1") % 1024));
        Assert.That(RedisShardMap.ShardOf("demo", "0b0c6f3e-visitor", 16), Is.EqualTo(Fnv("demo:0b0c6f3e-visitor") % 16));
        Assert.That(RedisShardMap.ShardOf("a", "b", 1), Is.Zero);
    }

    [Test]
    public void Visitors_spread_evenly_over_the_shards()
    {
        const int shards = 8;
        var counts = new int[shards];
        for (var i = 0; i < 40_000; i++)
        {
            counts[RedisShardMap.ShardOf("shop", Guid.NewGuid().ToString(), shards)]++;
        }
        Assert.That(counts, Has.All.InRange(4_000, 6_000));
    }

    [Test]
    public void Keys_carry_a_hash_tag_per_shard_so_a_shard_lives_in_one_cluster_slot()
    {
        var map = new RedisShardMap("tt", 4);
        Assert.Multiple(() =>
        {
            Assert.That((string?)map.Stream(3), Is.EqualTo("tt:{s3}:events"));
            Assert.That((string?)map.DeadLetter(3), Is.EqualTo("tt:{s3}:dead"));
            Assert.That((string?)map.Lease(3), Is.EqualTo("tt:{s3}:lease"));
            Assert.That(RedisShardMap.StreamKey("x", 0), Is.EqualTo("x:{s0}:events"));
        });
    }

    private static uint Fnv(string text)
    {
        var h = 2166136261u;
        foreach (var c in text)
        {
            h = (h ^ c) * 16777619u;
        }
        return h;
    }
}

public sealed class RedisStreamIdTests
{
    [TestCase("1700000000000-0", 1700000000000UL, 0UL)]
    [TestCase("5-18446744073709551615", 5UL, ulong.MaxValue)]
    [TestCase("42", 42UL, 0UL)]
    public void Parses(string text, ulong ms, ulong seq)
    {
        Assert.That(RedisStreamId.TryParse(text, out var id), Is.True);
        Assert.That(id, Is.EqualTo(new RedisStreamId(ms, seq)));
    }

    [TestCase("")]
    [TestCase("-1")]
    [TestCase("1-")]
    [TestCase("a-1")]
    [TestCase("1-2-3")]
    public void Rejects(string text) => Assert.That(RedisStreamId.TryParse(text, out _), Is.False);

    [Test]
    public void Orders_by_time_then_sequence_and_next_is_the_smallest_greater_id()
    {
        Assert.That(new RedisStreamId(1, 9) < new RedisStreamId(2, 0), Is.True);
        Assert.That(new RedisStreamId(2, 1) > new RedisStreamId(2, 0), Is.True);
        Assert.That(new RedisStreamId(7, 3).Next, Is.EqualTo(new RedisStreamId(7, 4)));
        Assert.That(new RedisStreamId(7, ulong.MaxValue).Next, Is.EqualTo(new RedisStreamId(8, 0)));
        Assert.That(new RedisStreamId(7, 3).ToString(), Is.EqualTo("7-3"));
    }
}

public sealed class StreamTrimPolicyTests
{
    private static RedisStreamId Id(ulong ms, ulong seq = 0) => new(ms, seq);

    [Test]
    public void Nothing_is_trimmed_before_the_group_has_read_anything()
    {
        Assert.That(StreamTrimPolicy.ChooseMinId(null, null), Is.Null);
        Assert.That(StreamTrimPolicy.ChooseMinId(null, RedisStreamId.Zero), Is.Null);
    }

    [Test]
    public void Without_pending_entries_everything_read_may_go_and_nothing_unread()
    {
        // MINID removes ids below the bound: the last delivered entry goes, the next one stays.
        Assert.That(StreamTrimPolicy.ChooseMinId(null, Id(100, 5)), Is.EqualTo(Id(100, 6)));
    }

    [Test]
    public void The_oldest_pending_entry_and_everything_after_it_stay()
    {
        Assert.That(StreamTrimPolicy.ChooseMinId(Id(50, 2), Id(100, 5)), Is.EqualTo(Id(50, 2)));
        Assert.That(StreamTrimPolicy.ChooseMinId(Id(100, 5), Id(100, 5)), Is.EqualTo(Id(100, 5)));
    }

    [Test]
    public void A_pending_id_above_the_last_delivered_one_never_widens_the_trim()
    {
        Assert.That(StreamTrimPolicy.ChooseMinId(Id(200), Id(100)), Is.EqualTo(Id(100, 1)));
    }
}

public sealed class BufferEntryWriterTests
{
    private static Contracts.Touchpoint Sample(string title, string url) => new()
    {
        EventId = "e-1",
        SiteId = "shop",
        VisitorId = "v-1",
        SessionId = "s-1",
        SessionIndex = 2,
        Type = "pageview",
        ClientTs = DateTimeOffset.FromUnixTimeMilliseconds(1_765_000_000_123),
        ReceivedTs = new DateTimeOffset(2026, 12, 6, 14, 0, 0, TimeSpan.Zero).AddTicks(1234567),
        DerivedTs = new DateTimeOffset(2026, 12, 6, 14, 0, 0, TimeSpan.Zero),
        Page = new() { Url = url, Title = title, Query = "a=1&b=<2>" },
        Campaign = new() { Source = "newsletter", Name = "l\u00e4unch" },
        Props = new() { ["plan"] = System.Text.Json.JsonDocument.Parse("""{"x":[1,"&"],"y":null}""").RootElement },
    };

    [TestCase("What is a customer journey? A guide for marketers", "https://shop.example/blog?utm_source=a&utm_medium=b")]
    [TestCase("<script>&amp; 'quotes' \"double\" \\ back", "https://shop.example/+plus/%20")]
    [TestCase("\u65e5\u672c\u8a9e \ud83d\ude00 \u0000\u001f\u007f \u2028\u2029", "https://xn--n3h.example/\u00e9")]
    [TestCase("lone \ud800 surrogate", "https://a.example/")]
    public void Entries_hold_the_same_json_values_as_the_contract_serializer(string title, string url)
    {
        var tp = Sample(title, url);
        var reference = System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(tp, Contracts.ContractsJsonContext.Default.Touchpoint);
        // Twice on one thread: the reused writer must not carry anything from one entry into the next.
        _ = BufferEntryWriter.Serialize(Sample("a much longer title than the next one, to leave bytes behind", url + "/long/path"));
        var entry = BufferEntryWriter.Serialize(tp);
        Assert.That(System.Text.Json.Nodes.JsonNode.DeepEquals(System.Text.Json.Nodes.JsonNode.Parse(entry), System.Text.Json.Nodes.JsonNode.Parse(reference)), Is.True,
            System.Text.Encoding.UTF8.GetString(entry));
        Assert.That(entry.Length, Is.LessThanOrEqualTo(reference.Length));
        var back = System.Text.Json.JsonSerializer.Deserialize(entry, Contracts.ContractsJsonContext.Default.Touchpoint)!;
        Assert.That((back.Page.Title, back.Page.Url, back.ReceivedTs, back.ClientTs), Is.EqualTo((tp.Page.Title, tp.Page.Url, tp.ReceivedTs, tp.ClientTs)));
    }

    [Test]
    public void A_pooled_entry_holds_the_same_bytes_as_an_entry_of_its_own()
    {
        var tp = Sample("a title", "https://shop.example/?utm_source=a&b=2");
        var expected = BufferEntryWriter.Serialize(tp);
        // Rent and return a few times so the pooled array has held a longer entry before.
        BufferEntryWriter.Return(BufferEntryWriter.SerializePooled(Sample(new string('x', 3000), "https://shop.example/long")));
        var pooled = BufferEntryWriter.SerializePooled(tp);

        Assert.That(pooled.ToArray(), Is.EqualTo(expected));
        Assert.That(System.Runtime.InteropServices.MemoryMarshal.TryGetArray(pooled, out var segment) && segment.Offset == 0, Is.True, "a rented array from its start");
        BufferEntryWriter.Return(pooled);
        BufferEntryWriter.Return(default); // nothing to give back: no exception
    }

    [Test]
    public void Html_sensitive_characters_are_not_escaped()
    {
        var entry = System.Text.Encoding.UTF8.GetString(BufferEntryWriter.Serialize(Sample("a < b & c", "https://shop.example/?a=1&b=2")));
        Assert.That(entry, Does.Contain("\"https://shop.example/?a=1&b=2\"").And.Contain("a < b & c"));
    }
}
