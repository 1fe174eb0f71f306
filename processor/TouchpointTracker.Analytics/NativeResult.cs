using System.Runtime.InteropServices;
using DuckDB.NET.Data;
using DuckDB.NET.Native;

namespace TouchpointTracker.Analytics;

/// <summary>
/// A query run through DuckDB's C API (the bindings DuckDB.NET is built on) whose result is read a chunk at a time (up
/// to 2,048 rows), each column as a span over DuckDB's own vector, instead of a value at a time through the ADO.NET
/// reader. For the aggregate views, which hand millions of rows of one or two integer columns to C#: a chunk's column is
/// one span copy. The result is materialized (as the ADO.NET reader's default), so <see cref="RowCount"/> is known
/// before the first chunk and the caller sizes its arrays once.
/// <para>
/// Fixed-width columns only: BOOLEAN, the signed and unsigned integers up to 64 bits, FLOAT, DOUBLE, DATE (days since
/// 1970-01-01, as <see cref="int"/>) and TIMESTAMP (microseconds since 1970-01-01, as <see cref="long"/>); asking for a
/// column as another type throws. Parameters are bound by name (or by position when unnamed), from the .NET types the
/// queries use: string, bool, the integers, float, double, <see cref="DateOnly"/>, <see cref="DateTime"/> and null.
/// </para>
/// <para>Not thread-safe; one result per connection at a time, like a data reader. The spans of a chunk are valid until
/// the next <see cref="NextChunk"/> or <see cref="Dispose"/>.</para>
/// </summary>
internal sealed unsafe class NativeResult : IDisposable
{
    private static readonly int EpochDay = DateOnly.FromDateTime(DateTime.UnixEpoch).DayNumber;

    private DuckDBResult _result;
    private DuckDBDataChunk? _chunk;
    private readonly DuckDBType[] _types;
    private bool _done;
    private bool _disposed;

    private NativeResult(DuckDBResult result)
    {
        _result = result;
        var columns = (int)NativeMethods.Query.DuckDBColumnCount(ref _result);
        _types = new DuckDBType[columns];
        for (var c = 0; c < columns; c++)
        {
            _types[c] = NativeMethods.Query.DuckDBColumnType(ref _result, c);
        }
        RowCount = NativeMethods.Query.DuckDBRowCount(ref _result);
    }

    /// <summary>Prepares <paramref name="sql"/> (one statement) on <paramref name="connection"/>, binds the parameters and runs it.</summary>
    public static NativeResult Execute(DuckDBConnection connection, string sql, IReadOnlyList<DuckDBParameter> parameters)
    {
        var prepared = NativeMethods.PreparedStatements.DuckDBPrepare(connection.NativeConnection, sql, out var statement);
        using (statement)
        {
            if (prepared != DuckDBState.Success)
            {
                throw new InvalidOperationException("DuckDB could not prepare the query: " + NativeMethods.PreparedStatements.DuckDBPrepareError(statement));
            }
            var expected = NativeMethods.PreparedStatements.DuckDBParams(statement);
            if (parameters.Count < expected)
            {
                throw new InvalidOperationException($"The query has {expected} parameters; {parameters.Count} given.");
            }
            for (var i = 0; i < parameters.Count; i++)
            {
                var p = parameters[i];
                long index = i + 1;
                if (!string.IsNullOrEmpty(p.ParameterName))
                {
                    // a named parameter the statement does not use is left out, as the ADO.NET command does
                    if (NativeMethods.PreparedStatements.DuckDBBindParameterIndex(statement, out var named, p.ParameterName.TrimStart('$')) != DuckDBState.Success)
                    {
                        continue;
                    }
                    index = named;
                }
                else if (index > expected)
                {
                    continue;
                }
                if (Bind(statement, index, p.Value) != DuckDBState.Success)
                {
                    throw new InvalidOperationException($"DuckDB could not bind parameter '{p.ParameterName}' ({p.Value?.GetType().Name ?? "null"}).");
                }
            }
            if (NativeMethods.PreparedStatements.DuckDBExecutePrepared(statement, out var result) != DuckDBState.Success)
            {
                var error = NativeMethods.Query.DuckDBResultError(ref result);
                var type = NativeMethods.Query.DuckDBResultErrorType(ref result);
                NativeMethods.Query.DuckDBDestroyResult(ref result);
                if (type == DuckDBErrorType.Interrupt)
                {
                    throw new OperationCanceledException();
                }
                throw new InvalidOperationException("DuckDB could not run the query: " + error);
            }
            return new NativeResult(result);
        }
    }

    private static DuckDBState Bind(DuckDBPreparedStatement s, long i, object? value) => value switch
    {
        null or DBNull => NativeMethods.PreparedStatements.DuckDBBindNull(s, i),
        string v => NativeMethods.PreparedStatements.DuckDBBindVarchar(s, i, v),
        bool v => NativeMethods.PreparedStatements.DuckDBBindBoolean(s, i, v),
        sbyte v => NativeMethods.PreparedStatements.DuckDBBindInt8(s, i, v),
        short v => NativeMethods.PreparedStatements.DuckDBBindInt16(s, i, v),
        int v => NativeMethods.PreparedStatements.DuckDBBindInt32(s, i, v),
        long v => NativeMethods.PreparedStatements.DuckDBBindInt64(s, i, v),
        byte v => NativeMethods.PreparedStatements.DuckDBBindUInt8(s, i, v),
        ushort v => NativeMethods.PreparedStatements.DuckDBBindUInt16(s, i, v),
        uint v => NativeMethods.PreparedStatements.DuckDBBindUInt32(s, i, v),
        ulong v => NativeMethods.PreparedStatements.DuckDBBindUInt64(s, i, v),
        float v => NativeMethods.PreparedStatements.DuckDBBindFloat(s, i, v),
        double v => NativeMethods.PreparedStatements.DuckDBBindDouble(s, i, v),
        DateOnly v => NativeMethods.PreparedStatements.DuckDBBindDate(s, i, new DuckDBDate { Days = v.DayNumber - EpochDay }),
        // as the ADO.NET command binds a DateTime: its wall-clock value, whatever its Kind
        DateTime v => NativeMethods.PreparedStatements.DuckDBBindTimestamp(s, i, new DuckDBTimestampStruct { Micros = (v.Ticks - DateTime.UnixEpoch.Ticks) / 10 }),
        _ => throw new NotSupportedException($"A parameter of type {value.GetType().Name} cannot be bound by {nameof(NativeResult)}."),
    };

    /// <summary>Rows in the result (known before the first chunk: the result is materialized).</summary>
    public long RowCount { get; }

    public int ColumnCount => _types.Length;

    /// <summary>DuckDB's type of column <paramref name="column"/>.</summary>
    public DuckDBType ColumnType(int column) => _types[column];

    /// <summary>Rows in the current chunk (0 before the first <see cref="NextChunk"/> and after the last).</summary>
    public int ChunkSize { get; private set; }

    /// <summary>Moves to the next chunk; false when the result is exhausted.</summary>
    public bool NextChunk()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        _chunk?.Dispose();
        _chunk = null;
        ChunkSize = 0;
        if (_done)
        {
            return false;
        }
        var chunk = NativeMethods.Query.DuckDBFetchChunk(_result);
        if (chunk.IsInvalid)
        {
            chunk.Dispose();
            _done = true;
            return false;
        }
        var size = (int)NativeMethods.DataChunks.DuckDBDataChunkGetSize(chunk);
        if (size == 0)
        {
            chunk.Dispose();
            _done = true;
            return false;
        }
        _chunk = chunk;
        ChunkSize = size;
        return true;
    }

    /// <summary>
    /// The values of column <paramref name="column"/> in the current chunk (a NULL's slot holds an unspecified value: see
    /// <see cref="IsValid"/>). <typeparamref name="T"/> must be the column's type (see the class summary).
    /// </summary>
    public ReadOnlySpan<T> Values<T>(int column) where T : unmanaged
    {
        var vector = Vector(column);
        if (!Matches<T>(_types[column]))
        {
            throw new InvalidCastException($"Column {column} is {_types[column]}, not readable as {typeof(T).Name}.");
        }
        return new ReadOnlySpan<T>(NativeMethods.Vectors.DuckDBVectorGetData(vector), ChunkSize);
    }

    /// <summary>The values of column <paramref name="column"/> in the current chunk; throws when one is NULL.</summary>
    public ReadOnlySpan<T> NonNullValues<T>(int column) where T : unmanaged
    {
        var values = Values<T>(column);
        if (!AllValid(column))
        {
            throw new InvalidCastException($"Column {column} holds a NULL.");
        }
        return values;
    }

    /// <summary>False when row <paramref name="row"/> of the current chunk is NULL in column <paramref name="column"/>.</summary>
    public bool IsValid(int column, int row)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)row, (uint)ChunkSize, nameof(row));
        var validity = NativeMethods.Vectors.DuckDBVectorGetValidity(Vector(column));
        return validity is null || (validity[row >> 6] & (1UL << (row & 63))) != 0;
    }

    /// <summary>True when no row of the current chunk is NULL in column <paramref name="column"/>.</summary>
    public bool AllValid(int column)
    {
        var validity = NativeMethods.Vectors.DuckDBVectorGetValidity(Vector(column));
        if (validity is null)
        {
            return true; // DuckDB leaves out the mask of a vector without NULLs
        }
        var full = ChunkSize >> 6;
        for (var w = 0; w < full; w++)
        {
            if (validity[w] != ulong.MaxValue)
            {
                return false;
            }
        }
        var rest = ChunkSize & 63;
        return rest == 0 || (validity[full] | (ulong.MaxValue << rest)) == ulong.MaxValue;
    }

    private IntPtr Vector(int column)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)column, (uint)_types.Length, nameof(column));
        if (_chunk is null)
        {
            throw new InvalidOperationException("No current chunk: call NextChunk first.");
        }
        return NativeMethods.DataChunks.DuckDBDataChunkGetVector(_chunk, column);
    }

    private static bool Matches<T>(DuckDBType type) => type switch
    {
        DuckDBType.Boolean => typeof(T) == typeof(bool),
        DuckDBType.TinyInt => typeof(T) == typeof(sbyte),
        DuckDBType.SmallInt => typeof(T) == typeof(short),
        DuckDBType.Integer or DuckDBType.Date => typeof(T) == typeof(int),
        DuckDBType.BigInt or DuckDBType.Timestamp => typeof(T) == typeof(long),
        DuckDBType.UnsignedTinyInt => typeof(T) == typeof(byte),
        DuckDBType.UnsignedSmallInt => typeof(T) == typeof(ushort),
        DuckDBType.UnsignedInteger => typeof(T) == typeof(uint),
        DuckDBType.UnsignedBigInt => typeof(T) == typeof(ulong),
        DuckDBType.Float => typeof(T) == typeof(float),
        DuckDBType.Double => typeof(T) == typeof(double),
        _ => false,
    };

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        _chunk?.Dispose();
        _chunk = null;
        NativeMethods.Query.DuckDBDestroyResult(ref _result);
    }
}
