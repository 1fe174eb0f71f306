using System.Globalization;
using System.Text;

namespace TouchpointTracker.Analytics;

/// <summary>RFC 4180 CSV of each view; cells that a spreadsheet would run as a formula are prefixed with a quote.</summary>
internal static class Csv
{
    public static string Overview(OverviewResult o)
    {
        var b = new Builder();
        b.Row(["day", "visitors", "sessions", "touchpoints", .. o.Reached.Keys.Select(k => "reached_" + k), .. o.Entered.Keys.Select(k => "entered_" + k)]);
        foreach (var d in o.Days)
        {
            b.Row([d.Day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), N(d.Visitors), N(d.Sessions), N(d.Touchpoints),
                .. d.Reached.Values.Select(N), .. d.Entered.Values.Select(N)]);
        }
        return b.ToString();
    }

    public static string Breakdown(BreakdownResult r)
    {
        var b = new Builder();
        var stages = AnalyticsVocabulary.Stages;
        b.Row([r.By, "visitors", "sessions", "touchpoints", .. stages.Select(s => "reached_" + s), .. stages.Skip(1).Select(s => "conversion_" + s)]);
        foreach (var row in r.Rows)
        {
            b.Row([row.Value, N(row.Visitors), N(row.Sessions), N(row.Touchpoints), .. row.Reached.Values.Select(N), .. row.Conversion.Values.Select(D)]);
        }
        return b.ToString();
    }

    public static string Funnel(FunnelResult f)
    {
        var b = new Builder();
        b.Row([f.By ?? "group", "stage", "visitors", "conversion_from_previous", "drop_off", "drop_off_rate", "timed_journeys", "median_seconds_from_previous", "p75_seconds_from_previous"]);
        void Add(string group, List<FunnelStage> stages)
        {
            foreach (var s in stages)
            {
                b.Row([group, s.Stage, N(s.Visitors), D(s.ConversionFromPrevious), N(s.DropOff), D(s.DropOffRate), N(s.TimedJourneys), D(s.MedianSecondsFromPrevious), D(s.P75SecondsFromPrevious)]);
            }
        }
        Add("all", f.Stages);
        foreach (var g in f.Groups ?? [])
        {
            Add(g.Value, g.Stages);
        }
        return b.ToString();
    }

    public static string Journey(JourneyResult j)
    {
        var b = new Builder();
        b.Row(["visitor_id", "journey_id", "session_index", "ts", "event_id", "type", "name", "page_host", "page_path", "referrer_host",
            "source", "medium", "term", "campaign", "channel", "stage_before", "stage_after", "reasons", "score", "touch_index"]);
        foreach (var s in j.Sessions)
        {
            foreach (var t in s.Touches)
            {
                b.Row([j.VisitorId, s.JourneyId, N(s.SessionIndex), T(t.Ts), t.EventId, t.Type, t.Name, t.PageHost, t.PagePath, t.ReferrerHost,
                    t.Source, t.Medium, t.Term, t.Campaign, t.Channel, t.StageBefore, t.StageAfter, string.Join(' ', t.Reasons), D(t.Score), N(t.TouchIndex)]);
            }
        }
        return b.ToString();
    }

    public static string Search(JourneySearchResult r)
    {
        var b = new Builder();
        b.Row(["visitor_id", "first_seen", "last_seen", "sessions", "touchpoints", "stage"]);
        foreach (var h in r.Visitors)
        {
            b.Row([h.VisitorId, T(h.FirstSeen), T(h.LastSeen), N(h.Sessions), N(h.Touchpoints), h.Stage]);
        }
        return b.ToString();
    }

    public static string Realtime(RealtimeResult r)
    {
        var b = new Builder();
        b.Row(["visitor_id", "stage", "last_seen", "page", "channel", "touches"]);
        foreach (var v in r.Recent)
        {
            b.Row([v.VisitorId, v.Stage, T(v.LastSeen), v.Page, v.Channel, N(v.Touches)]);
        }
        return b.ToString();
    }

    /// <summary>One row per key: conversions then revenue per model (<c>conversions_first_touch</c>, ..., <c>revenue_markov</c>).</summary>
    public static string Attribution(AttributionReport r)
    {
        var b = new Builder();
        b.Row([r.By, .. r.Models.Select(m => "conversions_" + m), .. r.Models.Select(m => "revenue_" + m)]);
        foreach (var row in r.Rows)
        {
            b.Row([row.Key, .. r.Models.Select(m => D(row.Conversions[m])), .. r.Models.Select(m => D(row.Revenue[m]))]);
        }
        return b.ToString();
    }

    private static string N(long v) => v.ToString(CultureInfo.InvariantCulture);
    private static string D(double? v) => v?.ToString("0.######", CultureInfo.InvariantCulture) ?? "";
    private static string T(DateTime v) => DateTime.SpecifyKind(v, DateTimeKind.Utc).ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture);

    private sealed class Builder
    {
        private readonly StringBuilder _b = new();

        public void Row(IEnumerable<string?> cells)
        {
            var first = true;
            foreach (var c in cells)
            {
                if (!first)
                {
                    _b.Append(',');
                }
                first = false;
                Cell(c ?? "");
            }
            _b.Append("\r\n");
        }

        private void Cell(string v)
        {
            if (v.Length > 0 && v[0] is '=' or '+' or '-' or '@' or '\t' or '\r' && !double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out _))
            {
                v = "'" + v;
            }
            if (v.AsSpan().IndexOfAny(",\"\r\n") >= 0)
            {
                _b.Append('"').Append(v.Replace("\"", "\"\"", StringComparison.Ordinal)).Append('"');
            }
            else
            {
                _b.Append(v);
            }
        }

        public override string ToString() => _b.ToString();
    }
}
