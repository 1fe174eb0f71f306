using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using TouchpointTracker.Contracts;

namespace TouchpointTracker.Journeys;

/// <summary>
/// The stored form of a <see cref="JourneyState"/>: a compact, versioned binary encoding (Redis, the embedded
/// mode's state file). Pure: bytes in, bytes out.
/// <para>
/// Layout (format 1): the byte <see cref="Format1"/>, then the fields in a fixed order. Integers are LEB128 varints
/// (signed ones zigzag-coded). A string is a varint tag, 0 for null, whose low 3 bits say how the string is made:
/// 1 its UTF-8 bytes follow (<c>tag &gt;&gt; 3</c> of them); 2 a string of the table (number <c>tag &gt;&gt; 3</c>);
/// 3 a prefix of a table string then a tail string; 4 a suffix of a table string; 5 a lowercase UUID in 16 bytes;
/// 6 two strings joined (text ending in a UUID, as a journey id). The table starts with fixed strings (stages,
/// channels, the built-in rule ids) and every string read joins it, so a repeated channel, landing page or rule id
/// costs a byte or two. Times are milliseconds since the Unix
/// epoch (the first) or since the state's journey start (the others), with an escape for sub-millisecond ticks or a
/// non-UTC offset; doubles that are whole numbers are varints, others 8 bytes; event id hashes 8 bytes each.
/// Collections are a count, with 0 for null and count + 1 otherwise where null and empty differ.
/// </para>
/// <para>
/// <see cref="Decode"/> reads the JSON states stored before this encoding (they start with <c>{</c>), so stored
/// states migrate when they are next saved. A future format takes the next first byte; a reader meeting a first byte
/// it does not know refuses the state (<see cref="InvalidDataException"/>) rather than guessing.
/// </para>
/// </summary>
public static class JourneyStateCodec
{
    /// <summary>The first byte of format 1 (not a byte JSON text can start with).</summary>
    public const byte Format1 = 0xB1;

    private const long UnixEpochTicks = 621_355_968_000_000_000L;

    // String kinds (the low 3 bits of a string's tag; tag 0 is null).
    private const int KindLiteral = 1;
    private const int KindRef = 2;
    private const int KindPrefix = 3;
    private const int KindSuffix = 4;
    private const int KindUuid = 5;
    private const int KindConcat = 6;
    private const int MaxDepth = 3;

    /// <summary>
    /// Strings every state of format 1 may refer to by number without writing them: stage names, channels, the usual
    /// sources and media, and the ids of the built-in rules when format 1 was made. Fixed with the format: never
    /// reorder or remove an entry (a new format may add more).
    /// </summary>
    private static readonly string[] StaticStrings =
    [
        "", "awareness", "consideration", "decision", "retention", "advocacy",
        "Organic Search", "Paid Search", "Email", "Direct", "Referral", "Organic Social", "Paid Social", "Display", "Affiliates", "Unassigned", "Offline",
        "(direct)", "(none)", "search", "referral", "email", "organic", "cpc", "social", "offline", "google", "bing", "newsletter",
        "awareness.first-touch", "awareness.top-of-funnel-content", "awareness.informational-search", "consideration.returning-visitor",
        "consideration.visit-within-a-week", "consideration.comparison-content", "consideration.case-study", "consideration.commercial-search",
        "consideration.branded-search", "consideration.nurture-email", "consideration.content-download", "consideration.newsletter-signup",
        "consideration.deep-visit", "consideration.engaged-visit", "decision.pricing-page", "decision.contact-or-demo-page", "decision.cart-or-checkout",
        "decision.transactional-search", "decision.conversion-event", "decision.lead-form", "decision.offline-conversation", "consideration.offline-reply",
        "decision.crm-qualified", "record.site-search", "retention.customer", "retention.repeat-purchase", "advocacy.referral-or-review",
        "advocacy.customer-share", "score.product-pages", "score.careers-page", "score.awareness", "score.consideration", "score.decision",
        "lead-form", "signup", "lead", "purchase", "download", "add_to_cart", "form_submit", "EUR", "USD", "GBP",
        "/", "/pricing", "/contact", "www.google.com",
    ];

    private static readonly Dictionary<string, int> StaticIndex = StaticStrings.Select((s, i) => (s, i)).ToDictionary(p => p.s, p => p.i, StringComparer.Ordinal);

    private static bool IsCanonicalUuid(ReadOnlySpan<char> s)
    {
        if (s.Length != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-')
        {
            return false;
        }
        foreach (var c in s)
        {
            if (c != '-' && !char.IsAsciiHexDigitLower(c) && !char.IsAsciiDigit(c))
            {
                return false;
            }
        }
        return true;
    }

    [ThreadStatic] private static Writer? t_writer;

    /// <summary>The state in the current format.</summary>
    public static byte[] Encode(JourneyState state)
    {
        var w = t_writer ??= new Writer();
        w.Reset();
        w.State(state);
        return w.ToArray();
    }

    /// <summary>Writes the state in the current format to <paramref name="output"/>; returns the bytes written.</summary>
    public static int Encode(JourneyState state, IBufferWriter<byte> output)
    {
        var w = t_writer ??= new Writer();
        w.Reset();
        w.State(state);
        var span = w.Written;
        output.Write(span);
        return span.Length;
    }

    /// <summary>Whether <paramref name="bytes"/> is a state stored as JSON (before the binary format).</summary>
    public static bool IsJson(ReadOnlySpan<byte> bytes)
    {
        foreach (var b in bytes)
        {
            if (b is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n')
            {
                continue;
            }
            if (b == 0xEF)
            {
                continue; // a UTF-8 byte order mark
            }
            return b == (byte)'{';
        }
        return false;
    }

    /// <summary>Reads a state in any format this version knows: the binary formats and the former JSON.</summary>
    /// <exception cref="InvalidDataException">The bytes are not a state (cut, corrupt, or of an unknown format).</exception>
    public static JourneyState Decode(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length == 0)
        {
            throw new InvalidDataException("journey state: no bytes");
        }
        if (bytes[0] == Format1)
        {
            var r = new Reader(bytes[1..]);
            try
            {
                var state = r.State();
                if (!r.AtEnd)
                {
                    throw new InvalidDataException("journey state: bytes left after the state");
                }
                return state;
            }
            catch (IndexOutOfRangeException)
            {
                throw new InvalidDataException("journey state: cut short");
            }
            catch (ArgumentException)
            {
                throw new InvalidDataException("journey state: a value out of range or cut short");
            }
            catch (OverflowException)
            {
                throw new InvalidDataException("journey state: a value out of range");
            }
            finally
            {
                r.Dispose();
            }
        }
        if (IsJson(bytes))
        {
            try
            {
                return JsonSerializer.Deserialize(bytes, JourneysJsonContext.Default.JourneyState)
                    ?? throw new InvalidDataException("journey state: JSON null");
            }
            catch (JsonException ex)
            {
                throw new InvalidDataException("journey state: bad JSON: " + ex.Message, ex);
            }
        }
        throw new InvalidDataException($"journey state: unknown format 0x{bytes[0]:X2}");
    }

    /// <summary>A deep copy (through the encoding).</summary>
    public static JourneyState Clone(JourneyState state)
    {
        var w = t_writer ??= new Writer();
        w.Reset();
        w.State(state);
        var r = new Reader(w.Written[1..]);
        try
        {
            return r.State();
        }
        finally
        {
            r.Dispose();
        }
    }

    private sealed class Writer
    {
        private byte[] _buffer = new byte[2048];
        private int _pos;
        private readonly List<string> _table = new(32);
        private long _base;

        public ReadOnlySpan<byte> Written => _buffer.AsSpan(0, _pos);

        public byte[] ToArray() => _buffer.AsSpan(0, _pos).ToArray();

        public void Reset()
        {
            _pos = 0;
            _table.Clear();
            if (_buffer.Length > 1 << 20)
            {
                _buffer = new byte[2048]; // do not keep a huge buffer for the thread's lifetime
            }
        }

        public void State(JourneyState s)
        {
            Byte(Format1);
            Signed(s.Version);
            String(s.JourneyId);
            String(s.PersonId);
            String(s.Stage);
            String(s.Furthest);
            Double(s.Score);
            Signed(s.Touches);
            Signed(s.Sessions);
            Signed(s.Pages);
            Signed(s.EngagedMs);
            _base = UnixEpochTicks;
            Time(s.Started);
            _base = s.Started.UtcTicks;
            Time(s.LastSeen);

            if (s.EventCounts is null)
            {
                Unsigned(0);
            }
            else
            {
                Unsigned((ulong)s.EventCounts.Count + 1);
                foreach (var (name, n) in s.EventCounts)
                {
                    String(name);
                    Signed(n);
                }
            }
            Strings(s.FiredOnce);

            var sessions = s.RecentSessions;
            if (sessions is null)
            {
                Unsigned(0);
            }
            else
            {
                Unsigned((ulong)sessions.Count + 1);
                foreach (var session in sessions)
                {
                    Session(session);
                }
            }

            var ids = s.RecentEventIds;
            if (ids is null)
            {
                Unsigned(0);
            }
            else
            {
                Unsigned((ulong)ids.Count + 1);
                Ensure(ids.Count * 8);
                foreach (var id in ids)
                {
                    BinaryPrimitives.WriteUInt64LittleEndian(_buffer.AsSpan(_pos), id);
                    _pos += 8;
                }
            }

            if (s.Orders is null)
            {
                Unsigned(0);
            }
            else
            {
                Unsigned((ulong)s.Orders.Count + 1);
                foreach (var o in s.Orders)
                {
                    Order(o);
                }
            }

            Landings(s.Landings);

            if (s.StageHistory is null)
            {
                Unsigned(0);
            }
            else
            {
                Unsigned((ulong)s.StageHistory.Count + 1);
                foreach (var e in s.StageHistory)
                {
                    if (e is null)
                    {
                        Unsigned(0);
                        continue;
                    }
                    Unsigned(1);
                    String(e.Stage);
                    Time(e.At);
                }
            }
        }

        private void Session(SessionState? s)
        {
            if (s is null)
            {
                Unsigned(0);
                return;
            }
            var c = s.Campaign;
            // Presence flags: bit 0 session present, bit 1 previous end, bit 2 campaign.
            Unsigned(1u | (s.PreviousEnd.HasValue ? 2u : 0) | (c is not null ? 4u : 0));
            String(s.Id);
            Signed(s.Index);
            String(s.ClientSessionId);
            Time(s.Start);
            Time(s.End);
            if (s.PreviousEnd is { } previous)
            {
                Time(previous);
            }
            Signed(s.Pages);
            Signed(s.EngagedMs);
            String(s.Channel);
            if (c is not null)
            {
                String(c.Source);
                String(c.Medium);
                String(c.Name);
                String(c.Term);
                String(c.Content);
                String(c.Id);
                String(c.ClickId);
                String(c.ClickPlatform);
            }
            String(s.LandingUrl);
            String(s.LandingReferrer);
            String(s.Term);
            Signed(s.Intent);
            Strings(s.FiredOnce);
            Strings(s.SiteSearchTerms);
        }

        private void Order(OrderMemory? o)
        {
            if (o is null)
            {
                Unsigned(0);
                return;
            }
            // Flags: bit 0 present, bit 1 value, bit 2 refunded, bit 3 retracted.
            Unsigned(1u | (o.Value.HasValue ? 2u : 0) | (BitConverter.DoubleToInt64Bits(o.Refunded) != 0 ? 4u : 0) | (o.Retracted ? 8u : 0));
            Ensure(8);
            BinaryPrimitives.WriteUInt64LittleEndian(_buffer.AsSpan(_pos), o.Hash);
            _pos += 8;
            String(o.Id);
            if (o.Value is { } value)
            {
                Double(value);
            }
            String(o.Currency);
            if (BitConverter.DoubleToInt64Bits(o.Refunded) != 0)
            {
                Double(o.Refunded);
            }
        }

        private void Landings(LandingLog? log)
        {
            if (log is null)
            {
                Unsigned(0);
                return;
            }
            Unsigned(1);
            Strings(log.Strings);
            var entries = log.Entries;
            if (entries is null)
            {
                Unsigned(0);
                return;
            }
            Unsigned((ulong)entries.Count + 1);
            foreach (var e in entries)
            {
                if (e is null)
                {
                    Unsigned(0);
                    continue;
                }
                var values = e.Values;
                Unsigned(values is null ? 1 : (ulong)values.Length + 2);
                Signed(e.AtSeconds);
                if (values is not null)
                {
                    foreach (var v in values)
                    {
                        Signed(v);
                    }
                }
            }
        }

        private void Strings(List<string>? list)
        {
            if (list is null)
            {
                Unsigned(0);
                return;
            }
            Unsigned((ulong)list.Count + 1);
            foreach (var s in list)
            {
                String(s);
            }
        }

        /// <param name="depth">How deep in a composed string (a prefix's tail, a joined part) this one is: bounded, so a reader never recurses far.</param>
        private void String(string? s, int depth = 0)
        {
            if (s is null)
            {
                Unsigned(0);
                return;
            }
            if (StaticIndex.TryGetValue(s, out var known))
            {
                Unsigned(((ulong)known + 1) << 3 | KindRef);
                return;
            }
            var table = _table;
            int bestPrefix = 0, prefixOf = -1;
            for (var i = 0; i < table.Count; i++)
            {
                var t = table[i];
                if (ReferenceEquals(t, s) || (t.Length == s.Length && string.Equals(t, s, StringComparison.Ordinal)))
                {
                    Unsigned(((ulong)(i + StaticStrings.Length + 1) << 3) | KindRef);
                    return;
                }
            }
            if (s.Length >= 12 && depth < MaxDepth)
            {
                for (var i = 0; i < table.Count; i++)
                {
                    var t = table[i];
                    if (t.Length < 8 || t[0] != s[0])
                    {
                        continue;
                    }
                    var n = s.AsSpan().CommonPrefixLength(t);
                    if (n > bestPrefix)
                    {
                        bestPrefix = n;
                        prefixOf = i;
                    }
                }
                // Not inside a surrogate pair, and worth it.
                if (bestPrefix > 0 && char.IsHighSurrogate(s[bestPrefix - 1]))
                {
                    bestPrefix--;
                }
                if (bestPrefix >= 8 && bestPrefix < s.Length)
                {
                    Unsigned(((ulong)(prefixOf + StaticStrings.Length + 1) << 3) | KindPrefix);
                    Unsigned((ulong)bestPrefix);
                    String(s[bestPrefix..], depth + 1);
                    table.Add(s);
                    return;
                }
                if (bestPrefix == s.Length)
                {
                    // s is a prefix of an earlier string.
                    Unsigned(((ulong)(prefixOf + StaticStrings.Length + 1) << 3) | KindPrefix);
                    Unsigned((ulong)bestPrefix);
                    Unsigned(0); // no tail
                    table.Add(s);
                    return;
                }
            }
            if (s.Length >= 8)
            {
                for (var i = 0; i < table.Count; i++)
                {
                    var t = table[i];
                    if (t.Length > s.Length && t.EndsWith(s, StringComparison.Ordinal) && !char.IsLowSurrogate(s[0]))
                    {
                        Unsigned(((ulong)(i + StaticStrings.Length + 1) << 3) | KindSuffix);
                        Unsigned((ulong)s.Length);
                        table.Add(s);
                        return;
                    }
                }
            }
            if (s.Length == 36 && IsCanonicalUuid(s))
            {
                Unsigned(KindUuid);
                Ensure(16);
                Guid.ParseExact(s, "D").TryWriteBytes(_buffer.AsSpan(_pos, 16));
                _pos += 16;
                table.Add(s);
                return;
            }
            if (s.Length > 36 && depth < MaxDepth && IsCanonicalUuid(s.AsSpan(s.Length - 36)) && !char.IsHighSurrogate(s[^37]))
            {
                // Text ending in an event id (a journey id is visitor:event).
                Unsigned(KindConcat);
                String(s[..^36], depth + 1);
                String(s[^36..], depth + 1);
                table.Add(s);
                return;
            }
            Literal(s);
            table.Add(s);
        }

        private void Literal(string s)
        {
            var max = Encoding.UTF8.GetMaxByteCount(s.Length);
            Ensure(max + 5);
            if (s.Length < 64)
            {
                // Small: write the bytes after room for a two-byte tag, then move them if one byte does.
                var n = Encoding.UTF8.GetBytes(s, _buffer.AsSpan(_pos + 2));
                var tag = ((ulong)n << 3) | KindLiteral;
                if (tag < 0x80)
                {
                    _buffer[_pos] = (byte)tag;
                    _buffer.AsSpan(_pos + 2, n).CopyTo(_buffer.AsSpan(_pos + 1));
                    _pos += 1 + n;
                }
                else if (tag < 0x4000)
                {
                    _buffer[_pos] = (byte)(tag | 0x80);
                    _buffer[_pos + 1] = (byte)(tag >> 7);
                    _pos += 2 + n;
                }
                else
                {
                    var bytes = _buffer.AsSpan(_pos + 2, n).ToArray();
                    Unsigned(tag);
                    bytes.CopyTo(_buffer.AsSpan(_pos));
                    _pos += n;
                }
            }
            else
            {
                var n = Encoding.UTF8.GetByteCount(s);
                Unsigned(((ulong)n << 3) | KindLiteral);
                _pos += Encoding.UTF8.GetBytes(s, _buffer.AsSpan(_pos));
            }
        }

        private void Time(DateTimeOffset t)
        {
            var ticks = t.UtcTicks - _base;
            if (t.Offset == TimeSpan.Zero && ticks % TimeSpan.TicksPerMillisecond == 0)
            {
                Unsigned(ZigZag(ticks / TimeSpan.TicksPerMillisecond) << 1);
                return;
            }
            // The exact form: 1, the UTC ticks, the offset in minutes.
            Unsigned(1);
            Unsigned((ulong)t.UtcTicks);
            Signed((long)t.Offset.TotalMinutes);
        }

        private void Double(double d)
        {
            // Whole numbers in ±2^52 (not -0) as varints; anything else as its 8 bytes.
            if (d == Math.Floor(d) && Math.Abs(d) < 4_503_599_627_370_496d && !(d == 0 && double.IsNegative(d)))
            {
                Unsigned(ZigZag((long)d) << 1);
                return;
            }
            Unsigned(1);
            Ensure(8);
            BinaryPrimitives.WriteInt64LittleEndian(_buffer.AsSpan(_pos), BitConverter.DoubleToInt64Bits(d));
            _pos += 8;
        }

        private void Signed(long v) => Unsigned(ZigZag(v));

        private static ulong ZigZag(long v) => (ulong)((v << 1) ^ (v >> 63));

        private void Byte(byte b)
        {
            Ensure(1);
            _buffer[_pos++] = b;
        }

        private void Unsigned(ulong v)
        {
            Ensure(10);
            var buffer = _buffer;
            var pos = _pos;
            while (v >= 0x80)
            {
                buffer[pos++] = (byte)(v | 0x80);
                v >>= 7;
            }
            buffer[pos++] = (byte)v;
            _pos = pos;
        }

        private void Ensure(int more)
        {
            if (_pos + more > _buffer.Length)
            {
                Array.Resize(ref _buffer, Math.Max(_buffer.Length * 2, _pos + more));
            }
        }
    }

    private ref struct Reader
    {
        private readonly ReadOnlySpan<byte> _bytes;
        private int _pos;
        private string[]? _table;
        private int _count;
        private long _base;

        public Reader(ReadOnlySpan<byte> bytes)
        {
            _bytes = bytes;
            _pos = 0;
            _table = ArrayPool<string>.Shared.Rent(32);
            _count = 0;
            _base = 0;
        }

        public readonly bool AtEnd => _pos == _bytes.Length;

        public void Dispose()
        {
            if (_table is not null)
            {
                Array.Clear(_table, 0, _count);
                ArrayPool<string>.Shared.Return(_table);
                _table = null;
            }
        }

        public JourneyState State()
        {
            var s = new JourneyState
            {
                Version = (int)Signed(),
                JourneyId = String() ?? "",
                PersonId = String(),
                Stage = String() ?? "",
                Furthest = String(),
                Score = Double(),
                Touches = (int)Signed(),
                Sessions = (int)Signed(),
                Pages = (int)Signed(),
                EngagedMs = Signed(),
            };
            _base = UnixEpochTicks;
            s.Started = Time();
            _base = s.Started.UtcTicks;
            s.LastSeen = Time();

            var counts = Count();
            if (counts > 0)
            {
                var map = new Dictionary<string, int>(counts - 1, StringComparer.Ordinal);
                for (var i = 1; i < counts; i++)
                {
                    var name = String() ?? throw new InvalidDataException("journey state: null event name");
                    map[name] = (int)Signed();
                }
                s.EventCounts = map;
            }
            s.FiredOnce = Strings();

            var sessions = Count();
            if (sessions == 0)
            {
                s.RecentSessions = null!;
            }
            else
            {
                var list = new List<SessionState>(sessions - 1);
                for (var i = 1; i < sessions; i++)
                {
                    list.Add(Session()!);
                }
                s.RecentSessions = list;
            }

            var ids = Count();
            if (ids == 0)
            {
                s.RecentEventIds = null!;
            }
            else
            {
                var n = ids - 1;
                if ((long)n * 8 > _bytes.Length - _pos)
                {
                    throw new InvalidDataException("journey state: cut short");
                }
                var list = new List<ulong>(Math.Max(n, 4));
                for (var i = 0; i < n; i++)
                {
                    list.Add(BinaryPrimitives.ReadUInt64LittleEndian(_bytes.Slice(_pos, 8)));
                    _pos += 8;
                }
                s.RecentEventIds = list;
            }

            var orders = Count();
            if (orders > 0)
            {
                var list = new List<OrderMemory>(orders - 1);
                for (var i = 1; i < orders; i++)
                {
                    list.Add(Order()!);
                }
                s.Orders = list;
            }

            s.Landings = Landings();

            var history = Count();
            if (history > 0)
            {
                var list = new List<StageEntry>(history - 1);
                for (var i = 1; i < history; i++)
                {
                    if (Unsigned() == 0)
                    {
                        list.Add(null!);
                        continue;
                    }
                    list.Add(new StageEntry { Stage = String() ?? "", At = Time() });
                }
                s.StageHistory = list;
            }
            return s;
        }

        private SessionState? Session()
        {
            var flags = Unsigned();
            if (flags == 0)
            {
                return null;
            }
            var s = new SessionState
            {
                Id = String()!,
                Index = (int)Signed(),
                ClientSessionId = String(),
                Start = Time(),
                End = Time(),
            };
            if ((flags & 2) != 0)
            {
                s.PreviousEnd = Time();
            }
            s.Pages = (int)Signed();
            s.EngagedMs = Signed();
            s.Channel = String()!;
            if ((flags & 4) != 0)
            {
                s.Campaign = new CampaignInfo
                {
                    Source = String(),
                    Medium = String(),
                    Name = String(),
                    Term = String(),
                    Content = String(),
                    Id = String(),
                    ClickId = String(),
                    ClickPlatform = String(),
                };
            }
            s.LandingUrl = String();
            s.LandingReferrer = String();
            s.Term = String();
            s.Intent = (int)Signed();
            s.FiredOnce = Strings();
            s.SiteSearchTerms = Strings();
            return s;
        }

        private OrderMemory? Order()
        {
            var flags = Unsigned();
            if (flags == 0)
            {
                return null;
            }
            var o = new OrderMemory { Hash = BinaryPrimitives.ReadUInt64LittleEndian(_bytes.Slice(_pos, 8)) };
            _pos += 8;
            o.Id = String()!;
            if ((flags & 2) != 0)
            {
                o.Value = Double();
            }
            o.Currency = String();
            if ((flags & 4) != 0)
            {
                o.Refunded = Double();
            }
            o.Retracted = (flags & 8) != 0;
            return o;
        }

        private LandingLog? Landings()
        {
            if (Unsigned() == 0)
            {
                return null;
            }
            var log = new LandingLog { Strings = Strings()! };
            var entries = Count();
            if (entries == 0)
            {
                log.Entries = null!;
                return log;
            }
            var list = new List<LandingEntry>(entries - 1);
            for (var i = 1; i < entries; i++)
            {
                var shape = Unsigned();
                if (shape == 0)
                {
                    list.Add(null!);
                    continue;
                }
                var e = new LandingEntry { AtSeconds = Signed() };
                if (shape == 1)
                {
                    e.Values = null!;
                }
                else
                {
                    var n = CheckCount(shape - 2);
                    var values = n == e.Values.Length ? e.Values : new int[n];
                    for (var f = 0; f < n; f++)
                    {
                        values[f] = (int)Signed();
                    }
                    e.Values = values;
                }
                list.Add(e);
            }
            log.Entries = list;
            return log;
        }

        private List<string>? Strings()
        {
            var n = Count();
            if (n == 0)
            {
                return null;
            }
            var list = new List<string>(n - 1);
            for (var i = 1; i < n; i++)
            {
                list.Add(String()!);
            }
            return list;
        }

        /// <summary>A count + 1 (0 for null), checked against the bytes left (every element takes at least one byte).</summary>
        private int Count() => CheckCount(Unsigned());

        private readonly int CheckCount(ulong n)
        {
            if (n > (ulong)(_bytes.Length - _pos) + 1)
            {
                throw new InvalidDataException("journey state: a count past the end");
            }
            return (int)n;
        }

        private string? String(int depth = 0)
        {
            var tag = Unsigned();
            if (tag == 0)
            {
                return null;
            }
            if (depth > MaxDepth)
            {
                throw new InvalidDataException("journey state: a string nested too deep");
            }
            string s;
            switch ((int)(tag & 7))
            {
                case KindLiteral:
                {
                    var length = tag >> 3;
                    if (length > (ulong)(_bytes.Length - _pos))
                    {
                        throw new InvalidDataException("journey state: cut short");
                    }
                    s = length == 0 ? "" : Encoding.UTF8.GetString(_bytes.Slice(_pos, (int)length));
                    _pos += (int)length;
                    break;
                }
                case KindRef:
                    return Lookup(tag >> 3);
                case KindPrefix:
                {
                    var of = Lookup(tag >> 3);
                    var n = Unsigned();
                    if (n > (ulong)of.Length)
                    {
                        throw new InvalidDataException("journey state: a prefix longer than its string");
                    }
                    var tail = String(depth + 1);
                    s = string.Concat(of.AsSpan(0, (int)n), tail);
                    break;
                }
                case KindSuffix:
                {
                    var of = Lookup(tag >> 3);
                    var n = Unsigned();
                    if (n > (ulong)of.Length)
                    {
                        throw new InvalidDataException("journey state: a suffix longer than its string");
                    }
                    s = of[^(int)n..];
                    break;
                }
                case KindUuid when tag == KindUuid:
                    s = new Guid(_bytes.Slice(_pos, 16)).ToString("D");
                    _pos += 16;
                    break;
                case KindConcat when tag == KindConcat:
                {
                    var head = String(depth + 1) ?? throw new InvalidDataException("journey state: a null part");
                    var tail = String(depth + 1) ?? throw new InvalidDataException("journey state: a null part");
                    s = string.Concat(head, tail);
                    break;
                }
                default:
                    throw new InvalidDataException("journey state: an unknown string kind");
            }
            if (_count == _table!.Length)
            {
                var bigger = ArrayPool<string>.Shared.Rent(_count * 2);
                Array.Copy(_table, bigger, _count);
                Array.Clear(_table, 0, _count);
                ArrayPool<string>.Shared.Return(_table);
                _table = bigger;
            }
            _table[_count++] = s;
            return s;
        }

        private readonly string Lookup(ulong number)
        {
            if (number == 0)
            {
                throw new InvalidDataException("journey state: string reference 0");
            }
            var index = number - 1;
            if (index < (ulong)StaticStrings.Length)
            {
                return StaticStrings[(int)index];
            }
            index -= (ulong)StaticStrings.Length;
            if (index >= (ulong)_count)
            {
                throw new InvalidDataException("journey state: a string reference past the table");
            }
            return _table![(int)index];
        }

        private DateTimeOffset Time()
        {
            var v = Unsigned();
            if ((v & 1) == 0)
            {
                var ms = UnZigZag(v >> 1);
                return new DateTimeOffset(checked(_base + ms * TimeSpan.TicksPerMillisecond), TimeSpan.Zero);
            }
            if (v != 1)
            {
                throw new InvalidDataException("journey state: bad time");
            }
            var utc = (long)Unsigned();
            var offset = TimeSpan.FromMinutes(Signed());
            return new DateTimeOffset(utc + offset.Ticks, offset);
        }

        private double Double()
        {
            var v = Unsigned();
            if ((v & 1) == 0)
            {
                return UnZigZag(v >> 1);
            }
            var d = BitConverter.Int64BitsToDouble(BinaryPrimitives.ReadInt64LittleEndian(_bytes.Slice(_pos, 8)));
            _pos += 8;
            return d;
        }

        private long Signed() => UnZigZag(Unsigned());

        private static long UnZigZag(ulong v) => (long)(v >> 1) ^ -(long)(v & 1);

        private ulong Unsigned()
        {
            ulong v = 0;
            var shift = 0;
            while (true)
            {
                var b = _bytes[_pos++];
                v |= (ulong)(b & 0x7F) << shift;
                if ((b & 0x80) == 0)
                {
                    return v;
                }
                shift += 7;
                if (shift > 63)
                {
                    throw new InvalidDataException("journey state: a varint too long");
                }
            }
        }
    }
}
