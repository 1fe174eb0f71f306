using DuckDB.NET.Data;

namespace TouchpointTracker.Analytics.Tests;

/// <summary>
/// The chunk reader over DuckDB's C API (<see cref="NativeResult"/>) against the ADO.NET reader on the same queries: every
/// column type it reads, NULLs, empty results, results of one row short of, exactly and one row past a chunk, and of
/// many chunks, and the parameters it binds.
/// </summary>
public sealed class NativeResultTests
{
    private static DuckDBConnection Open()
    {
        var c = new DuckDBConnection("Data Source=:memory:");
        c.Open();
        return c;
    }

    /// <summary>Every fixed-width type, a NULL every 7th row (none in column i).</summary>
    private const string AllTypes = """
        SELECT i::BIGINT AS i,
               CASE WHEN i % 7 = 1 THEN NULL ELSE i % 3 = 0 END AS b,
               CASE WHEN i % 7 = 2 THEN NULL ELSE (i % 256 - 128)::TINYINT END AS i8,
               CASE WHEN i % 7 = 3 THEN NULL ELSE (i % 65536 - 32768)::SMALLINT END AS i16,
               CASE WHEN i % 7 = 4 THEN NULL ELSE (i * 7919 - 2000000000)::INTEGER END AS i32,
               CASE WHEN i % 7 = 5 THEN NULL ELSE i * -1234567890123 END AS i64,
               CASE WHEN i % 7 = 6 THEN NULL ELSE (i % 256)::UTINYINT END AS u8,
               CASE WHEN i % 7 = 0 THEN NULL ELSE (i % 65536)::USMALLINT END AS u16,
               CASE WHEN i % 7 = 1 THEN NULL ELSE (i * 104729 % 4294967296)::UINTEGER END AS u32,
               CASE WHEN i % 7 = 2 THEN NULL ELSE (i::UBIGINT << 40) | 18446744073709551615::UBIGINT >> 30 END AS u64,
               CASE WHEN i % 7 = 3 THEN NULL ELSE (i / 3.0)::FLOAT END AS f32,
               CASE WHEN i % 7 = 4 THEN NULL ELSE i / 7.0 - 100 END AS f64,
               CASE WHEN i % 7 = 5 THEN NULL ELSE DATE '1969-12-01' + (i % 20000)::INTEGER END AS d,
               CASE WHEN i % 7 = 6 THEN NULL ELSE TIMESTAMP '2026-01-01 00:00:00' + to_microseconds(i * 1234567) END AS ts
        FROM range($n) t(i) ORDER BY i
        """;

    [TestCase(0)]
    [TestCase(1)]
    [TestCase(2047)]
    [TestCase(2048)]
    [TestCase(2049)]
    [TestCase(50_000)]
    public void Every_column_type_and_NULL_reads_as_the_ADO_NET_reader_reads_it(int n)
    {
        using var c = Open();
        var expected = new List<object?[]>();
        using (var cmd = c.CreateCommand())
        {
            cmd.CommandText = AllTypes;
            cmd.Parameters.Add(new DuckDBParameter("n", n));
            using var r = cmd.ExecuteReader();
            while (r.Read())
            {
                var row = new object?[14];
                row[0] = r.GetInt64(0);
                row[1] = r.IsDBNull(1) ? null : r.GetFieldValue<bool>(1);
                row[2] = r.IsDBNull(2) ? null : r.GetFieldValue<sbyte>(2);
                row[3] = r.IsDBNull(3) ? null : r.GetFieldValue<short>(3);
                row[4] = r.IsDBNull(4) ? null : r.GetFieldValue<int>(4);
                row[5] = r.IsDBNull(5) ? null : r.GetFieldValue<long>(5);
                row[6] = r.IsDBNull(6) ? null : r.GetFieldValue<byte>(6);
                row[7] = r.IsDBNull(7) ? null : r.GetFieldValue<ushort>(7);
                row[8] = r.IsDBNull(8) ? null : r.GetFieldValue<uint>(8);
                row[9] = r.IsDBNull(9) ? null : r.GetFieldValue<ulong>(9);
                row[10] = r.IsDBNull(10) ? null : r.GetFieldValue<float>(10);
                row[11] = r.IsDBNull(11) ? null : r.GetFieldValue<double>(11);
                row[12] = r.IsDBNull(12) ? null : r.GetFieldValue<DateOnly>(12).DayNumber - DateOnly.FromDateTime(DateTime.UnixEpoch).DayNumber;
                row[13] = r.IsDBNull(13) ? null : (r.GetDateTime(13).Ticks - DateTime.UnixEpoch.Ticks) / 10;
                expected.Add(row);
            }
        }
        Assert.That(expected, Has.Count.EqualTo(n));

        var actual = new List<object?[]>();
        var chunks = 0;
        using (var result = NativeResult.Execute(c, AllTypes, [new DuckDBParameter("n", n)]))
        {
            Assert.That(result.RowCount, Is.EqualTo(n));
            Assert.That(result.ColumnCount, Is.EqualTo(14));
            while (result.NextChunk())
            {
                chunks++;
                Assert.That(result.ChunkSize, Is.InRange(1, 2048));
                var size = result.ChunkSize;
                var i = result.NonNullValues<long>(0);
                var b = result.Values<bool>(1);
                var i8 = result.Values<sbyte>(2);
                var i16 = result.Values<short>(3);
                var i32 = result.Values<int>(4);
                var i64 = result.Values<long>(5);
                var u8 = result.Values<byte>(6);
                var u16 = result.Values<ushort>(7);
                var u32 = result.Values<uint>(8);
                var u64 = result.Values<ulong>(9);
                var f32 = result.Values<float>(10);
                var f64 = result.Values<double>(11);
                var d = result.Values<int>(12);
                var ts = result.Values<long>(13);
                for (var row = 0; row < size; row++)
                {
                    object? V<T>(int col, ReadOnlySpan<T> values) where T : unmanaged => result.IsValid(col, row) ? values[row] : null;
                    actual.Add([i[row], V(1, b), V(2, i8), V(3, i16), V(4, i32), V(5, i64), V(6, u8), V(7, u16), V(8, u32), V(9, u64),
                        V(10, f32), V(11, f64), V(12, d), V(13, ts)]);
                }
                for (var col = 1; col < 14; col++)
                {
                    // a NULL every 7th row: a chunk of 7 rows or more has one in every column
                    Assert.That(result.AllValid(col), Is.EqualTo(size < 7 && Enumerable.Range(0, size).All(row => result.IsValid(col, row))));
                }
            }
            Assert.That(result.NextChunk(), Is.False, "an exhausted result stays exhausted");
            Assert.That(result.ChunkSize, Is.Zero);
        }
        Assert.That(chunks, Is.EqualTo((n + 2047) / 2048));
        Assert.That(actual, Is.EqualTo(expected));
    }

    [Test]
    public void A_column_read_as_another_type_or_with_a_NULL_as_non_null_throws()
    {
        using var c = Open();
        using var result = NativeResult.Execute(c, "SELECT 1::UBIGINT, 'text', CASE WHEN i = 3 THEN NULL ELSE i END FROM range(5) t(i)", []);
        Assert.Throws<InvalidOperationException>(() => result.Values<ulong>(0), "before the first chunk");
        Assert.That(result.NextChunk(), Is.True);
        Assert.Throws<InvalidCastException>(() => result.Values<long>(0));
        Assert.Throws<InvalidCastException>(() => result.Values<uint>(0));
        Assert.Throws<InvalidCastException>(() => result.Values<ulong>(1), "strings are not read");
        Assert.That(result.Values<long>(2)[4], Is.EqualTo(4));
        Assert.Throws<InvalidCastException>(() => result.NonNullValues<long>(2));
        Assert.That(result.NonNullValues<ulong>(0).ToArray(), Is.EqualTo(new ulong[] { 1, 1, 1, 1, 1 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => result.Values<ulong>(3));
        Assert.Throws<ArgumentOutOfRangeException>(() => result.IsValid(0, 5));
    }

    [Test]
    public void An_empty_result_has_no_chunk()
    {
        using var c = Open();
        using var result = NativeResult.Execute(c, "SELECT i::UBIGINT FROM range(10) t(i) WHERE i > $min", [new DuckDBParameter("min", 100)]);
        Assert.That(result.RowCount, Is.Zero);
        Assert.That(result.NextChunk(), Is.False);
    }

    [Test]
    public void Parameters_bind_as_the_ADO_NET_command_binds_them()
    {
        using var c = Open();
        var parameters = new DuckDBParameter[]
        {
            new("s", "acme"), new("b", true), new("i8", (sbyte)-5), new("i16", (short)-300), new("i32", -70000), new("i64", -5_000_000_000L),
            new("u8", (byte)200), new("u16", (ushort)60000), new("u32", 4_000_000_000u), new("u64", 18_000_000_000_000_000_000UL),
            new("f32", 1.5f), new("f64", -2.25), new("d", new DateOnly(2026, 3, 31)), new("d0", new DateOnly(1969, 12, 31)),
            new("ts", new DateTime(2026, 1, 2, 3, 4, 5, DateTimeKind.Utc).AddTicks(60)), new("tsl", new DateTime(1960, 5, 6, 7, 8, 9, DateTimeKind.Unspecified)),
            new("nul", null), new("unused", 42),
        };
        const string sql = """
            SELECT hash($s)::UBIGINT, $b::INTEGER::BIGINT, $i8::BIGINT, $i16::BIGINT, $i32::BIGINT, $i64::BIGINT, $u8::BIGINT, $u16::BIGINT, $u32::BIGINT,
                   $u64::UBIGINT, $f32::DOUBLE, $f64::DOUBLE, ($d::DATE - DATE '2000-01-01')::BIGINT, ($d0::DATE - DATE '2000-01-01')::BIGINT,
                   epoch_us($ts::TIMESTAMP), epoch_us($tsl::TIMESTAMP), ($nul::BIGINT IS NULL)::INTEGER::BIGINT
            """;
        var expected = new List<object>();
        using (var cmd = c.CreateCommand())
        {
            cmd.CommandText = sql;
            foreach (var p in parameters)
            {
                cmd.Parameters.Add(new DuckDBParameter(p.ParameterName, p.Value));
            }
            using var r = cmd.ExecuteReader();
            Assert.That(r.Read(), Is.True);
            for (var i = 0; i < r.FieldCount; i++)
            {
                expected.Add(r.GetValue(i));
            }
        }
        var actual = new List<object>();
        using (var result = NativeResult.Execute(c, sql, parameters))
        {
            Assert.That(result.NextChunk(), Is.True);
            actual.Add(result.NonNullValues<ulong>(0)[0]);
            for (var i = 1; i < 9; i++)
            {
                actual.Add(result.NonNullValues<long>(i)[0]);
            }
            actual.Add(result.NonNullValues<ulong>(9)[0]);
            actual.Add(result.NonNullValues<double>(10)[0]);
            actual.Add(result.NonNullValues<double>(11)[0]);
            for (var i = 12; i < 17; i++)
            {
                actual.Add(result.NonNullValues<long>(i)[0]);
            }
        }
        Assert.That(actual, Is.EqualTo(expected));
        Assert.That(actual[16], Is.EqualTo(1L), "null binds NULL");
    }

    [Test]
    public void Positional_parameters_bind_in_order()
    {
        using var c = Open();
        using var result = NativeResult.Execute(c, "SELECT ($1 * 10 + $2)::BIGINT", [new DuckDBParameter(4), new DuckDBParameter(2)]);
        Assert.That(result.NextChunk(), Is.True);
        Assert.That(result.NonNullValues<long>(0)[0], Is.EqualTo(42));
    }

    [Test]
    public void Errors_are_exceptions_and_leave_the_connection_usable()
    {
        using var c = Open();
        Assert.Throws<InvalidOperationException>(() => NativeResult.Execute(c, "SELEC 1", []));
        Assert.Throws<InvalidOperationException>(() => NativeResult.Execute(c, "SELECT $a + $b", [new DuckDBParameter("a", 1)]), "a parameter missing");
        Assert.Throws<InvalidOperationException>(() => NativeResult.Execute(c, "SELECT 1 / 0 FROM range(3) WHERE error('boom') IS NULL", []), "a failure while running");
        Assert.Throws<NotSupportedException>(() => NativeResult.Execute(c, "SELECT $a", [new DuckDBParameter("a", Guid.NewGuid())]));
        using var result = NativeResult.Execute(c, "SELECT 7::UINTEGER", []);
        Assert.That(result.NextChunk(), Is.True);
        Assert.That(result.NonNullValues<uint>(0)[0], Is.EqualTo(7u));
    }

    [TestCase(false, 0)]
    [TestCase(true, 0)]
    [TestCase(true, 1)]
    public void Visitor_rows_read_in_chunks_equal_the_rows_read_one_by_one(bool withSums, int grouping)
    {
        // grouping 0: by a day (DATE), 1: by a dimension id with id 7 counted as 0; and rows without a group
        using var c = Open();
        foreach (var grouped in new[] { true, false })
        {
            if (!grouped && grouping == 1)
            {
                continue;
            }
            var group = !grouped ? null : grouping == 0 ? "DATE '2026-01-01' + (i % 90)::INTEGER AS day" : "(i % 37)::UINTEGER AS id";
            var sql = $"""
                SELECT {DistinctVisitors.ColumnsSql(group, withSums)} FROM (
                    SELECT i, (i * 7 % 100003)::UINTEGER AS vid, (i % 6)::UTINYINT AS max_rank, (i % 64)::UTINYINT AS entered,
                           (i % 5 + 1)::INTEGER AS sessions, (i * 13 % 1000)::INTEGER AS touches
                    FROM range(30000) t(i))
                """;
            var expectedKeys = new List<ulong> { 5UL << 8 };
            var expectedSums = new List<ulong> { 1 };
            using (var cmd = c.CreateCommand())
            {
                cmd.CommandText = sql;
                using var r = cmd.ExecuteReader();
                var f = grouped ? 1 : 0;
                while (r.Read())
                {
                    uint g = !grouped ? 0 : grouping == 0 ? (uint)(r.GetFieldValue<DateOnly>(0).DayNumber - new DateOnly(2025, 12, 31).DayNumber) : r.GetFieldValue<uint>(0);
                    if (grouping == 1 && g == 7)
                    {
                        g = 0;
                    }
                    expectedKeys.Add(DistinctVisitors.Pack(g, r.GetFieldValue<uint>(f), r.GetFieldValue<byte>(f + 1), r.GetFieldValue<byte>(f + 2)));
                    if (withSums)
                    {
                        expectedSums.Add(((ulong)r.GetFieldValue<int>(f + 3) << 32) | (uint)r.GetFieldValue<int>(f + 4));
                    }
                }
            }
            using var rows = new DistinctVisitors.Rows(withSums);
            rows.Add(5UL << 8, 1); // rows already there stay first
            using (var result = NativeResult.Execute(c, sql, []))
            {
                rows.Read(result, grouped, new DateOnly(2025, 12, 31).DayNumber - DateOnly.FromDateTime(DateTime.UnixEpoch).DayNumber, grouping == 1 ? 7u : null);
            }
            Assert.That(rows.Count, Is.EqualTo(30001));
            Assert.That(rows.Keys.Take(rows.Count).ToArray(), Is.EqualTo(expectedKeys.ToArray()));
            Assert.That(rows.Sums?.Take(rows.Count).ToArray(), withSums ? Is.EqualTo(expectedSums.ToArray()) : Is.Null);
            Assert.That(rows.MaxVid, Is.EqualTo(expectedKeys.Max(k => (uint)(k >> 8))));
            Assert.That(rows.MaxGroup, Is.EqualTo(expectedKeys.Max(k => (uint)(k >> 40))));
            Assert.That(rows.MaxGroup, Is.EqualTo(!grouped ? 0u : grouping == 0 ? 90u : 36u));
        }
    }

    [Test]
    public void Visitor_rows_of_the_wrong_shape_are_refused()
    {
        using var c = Open();
        using var rows = new DistinctVisitors.Rows(withSums: true);
        using (var result = NativeResult.Execute(c, "SELECT 1::UINTEGER, 2::UTINYINT, 3::UTINYINT", []))
        {
            Assert.Throws<InvalidOperationException>(() => rows.Read(result, grouped: false), "sums missing");
        }
        using (var result = NativeResult.Execute(c, "SELECT 1::UINTEGER, 2::UINTEGER, 2::UTINYINT, 3::UTINYINT, 1::BIGINT, 1::BIGINT", []))
        {
            Assert.Throws<InvalidCastException>(() => rows.Read(result, grouped: true), "sessions as BIGINT");
        }
        using (var result = NativeResult.Execute(c, "SELECT 16777216::UINTEGER, 2::UINTEGER, 2::UTINYINT, 3::UTINYINT, 1::INTEGER, 1::INTEGER", []))
        {
            Assert.Throws<InvalidOperationException>(() => rows.Read(result, grouped: true), "a group past 2^24");
        }
    }
}
