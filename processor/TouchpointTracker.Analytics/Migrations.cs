using DuckDB.NET.Data;

namespace TouchpointTracker.Analytics;

/// <summary>
/// Ordered schema migrations, run at open inside one transaction each. Never edit a shipped step: add one.
/// The version reached is recorded in <c>schema_version</c>.
/// </summary>
internal static class Migrations
{
    // Keys: vkey = md5_number_lower(visitor_id), skey = md5_number_lower(journey.session_id),
    // jkey = md5_number_lower(journey.id). 64-bit keys instead of the 36-72 character ids keep the
    // touchpoints table under 100 bytes a row and make count(DISTINCT ...) cheap; the ids themselves
    // live once: visitor ids in visitors, journey ids in stage_transitions; session ids (the id of a session's first
    // event) are not kept, sessions are shown by their index in the journey.
    internal static readonly string?[] Steps =
    [
        // 1: the base tables.
        """
        CREATE TABLE touchpoints (
            site VARCHAR NOT NULL,
            event_id VARCHAR NOT NULL,
            vkey UBIGINT NOT NULL,
            skey UBIGINT NOT NULL,
            jkey UBIGINT NOT NULL,
            ts TIMESTAMP NOT NULL,
            type VARCHAR,
            name VARCHAR,
            page_host VARCHAR,
            page_path VARCHAR,
            landing_page VARCHAR,
            referrer_host VARCHAR,
            source VARCHAR,
            medium VARCHAR,
            term VARCHAR,
            utm_source VARCHAR,
            utm_medium VARCHAR,
            utm_campaign VARCHAR,
            utm_term VARCHAR,
            utm_content VARCHAR,
            click_platform VARCHAR,
            channel VARCHAR,
            browser VARCHAR,
            os VARCHAR,
            device VARCHAR,
            country VARCHAR,
            stage VARCHAR,
            previous_stage VARCHAR,
            reasons VARCHAR[],
            score FLOAT,
            touch_index INTEGER,
            session_index INTEGER
        );
        CREATE TABLE stage_transitions (
            site VARCHAR NOT NULL,
            event_id VARCHAR NOT NULL,
            journey_id VARCHAR NOT NULL,
            jkey UBIGINT NOT NULL,
            vkey UBIGINT NOT NULL,
            from_stage VARCHAR,
            to_stage VARCHAR NOT NULL,
            to_rank TINYINT NOT NULL,
            ts TIMESTAMP NOT NULL,
            reasons VARCHAR[],
            score FLOAT,
            touch_index INTEGER,
            skey UBIGINT,
            channel VARCHAR
        );
        CREATE TABLE visitors (
            site VARCHAR NOT NULL,
            vkey UBIGINT NOT NULL,
            visitor VARCHAR NOT NULL,
            first_ts TIMESTAMP NOT NULL
        );
        CREATE TABLE sessions (
            site VARCHAR NOT NULL,
            skey UBIGINT NOT NULL,
            vkey UBIGINT NOT NULL,
            day DATE NOT NULL,
            start_ts TIMESTAMP NOT NULL,
            end_ts TIMESTAMP NOT NULL,
            touches INTEGER NOT NULL,
            starts TINYINT NOT NULL,
            max_rank TINYINT NOT NULL,
            entered UTINYINT NOT NULL,
            channel VARCHAR,
            source VARCHAR,
            medium VARCHAR,
            campaign VARCHAR,
            term VARCHAR,
            content VARCHAR,
            click_platform VARCHAR,
            landing_page VARCHAR,
            referrer_host VARCHAR,
            device VARCHAR,
            browser VARCHAR,
            os VARCHAR,
            country VARCHAR
        );
        """,
        // 2: conversions (one row per conversion; a refund or a replacement adds a row that retracts).
        """
        CREATE TABLE conversions (
            site VARCHAR NOT NULL,
            conversion_id VARCHAR NOT NULL,
            type VARCHAR NOT NULL,
            goal VARCHAR,
            ts TIMESTAMP NOT NULL,
            vkey UBIGINT NOT NULL,
            jkey UBIGINT NOT NULL,
            skey UBIGINT,
            event_id VARCHAR NOT NULL,
            order_id VARCHAR,
            value DOUBLE,
            currency VARCHAR,
            reporting_value DOUBLE,
            retracted BOOLEAN NOT NULL DEFAULT false
        );
        """,
        // 3: persons (identified people) and which visitor ids belong to each.
        """
        CREATE TABLE persons (
            site VARCHAR NOT NULL,
            pkey UBIGINT NOT NULL,
            person_id VARCHAR NOT NULL,
            user_id_sha256 VARCHAR,
            first_ts TIMESTAMP NOT NULL,
            last_ts TIMESTAMP NOT NULL
        );
        CREATE TABLE person_visitors (
            site VARCHAR NOT NULL,
            vkey UBIGINT NOT NULL,
            pkey UBIGINT NOT NULL,
            ts TIMESTAMP NOT NULL
        );
        """,
        // 4: the visitor_days roll-up (VisitorDays): dense visitor numbers, a dictionary of dimension values, and one
        // narrow row per sessions row with integer ids, backfilled from sessions.
        VisitorDays.MigrationStep,
        // 5: the attribution roll-up (see AttributionPaths), filled from the stored sessions.
        AttributionPaths.MigrationStep,
        // 6: the journey_entries roll-up (JourneyEntries): each journey's first entry per stage, filled from stage_transitions.
        JourneyEntries.MigrationStep,
        // 7: touchpoints.event_uuid and stage_transitions.event_uuid, the event id in 16 bytes when it is a UUID in canonical
        // form (event_id NULL then; the text form is coalesce(event_id, event_uuid::VARCHAR)). Rows stored before keep their
        // text id.
        """
        ALTER TABLE touchpoints ADD COLUMN event_uuid UUID;
        ALTER TABLE touchpoints ALTER COLUMN event_id DROP NOT NULL;
        ALTER TABLE stage_transitions ADD COLUMN event_uuid UUID;
        ALTER TABLE stage_transitions ALTER COLUMN event_id DROP NOT NULL;
        """,
    ];

    internal static int Apply(DuckDBConnection c)
    {
        Exec(c, "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL, applied_at TIMESTAMP NOT NULL)");
        var current = CurrentVersion(c);
        if (current > Steps.Length)
        {
            throw new InvalidOperationException(
                $"The analytics database is at schema version {current}, newer than this build knows ({Steps.Length}); use a newer build or another Analytics:Path.");
        }
        var applied = AppliedVersions(c);
        for (var v = 1; v <= Steps.Length; v++)
        {
            if (Steps[v - 1] is null || applied.Contains(v))
            {
                continue;
            }
            Exec(c, "BEGIN TRANSACTION");
            try
            {
                Exec(c, Steps[v - 1]!);
                using var cmd = c.CreateCommand();
                cmd.CommandText = "INSERT INTO schema_version VALUES ($v, now()::TIMESTAMP)";
                cmd.Parameters.Add(new DuckDBParameter("v", v));
                cmd.ExecuteNonQuery();
                Exec(c, "COMMIT");
            }
            catch
            {
                Exec(c, "ROLLBACK");
                throw;
            }
        }
        return Steps.Length;
    }

    private static HashSet<int> AppliedVersions(DuckDBConnection c)
    {
        using var cmd = c.CreateCommand();
        cmd.CommandText = "SELECT DISTINCT version FROM schema_version";
        using var r = cmd.ExecuteReader();
        var versions = new HashSet<int>();
        while (r.Read())
        {
            versions.Add(r.GetInt32(0));
        }
        return versions;
    }

    internal static int CurrentVersion(DuckDBConnection c)
    {
        using var cmd = c.CreateCommand();
        cmd.CommandText = "SELECT coalesce(max(version), 0) FROM schema_version";
        return Convert.ToInt32(cmd.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
    }

    private static void Exec(DuckDBConnection c, string sql)
    {
        using var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        cmd.ExecuteNonQuery();
    }
}
