using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using TouchpointTracker.Contracts;

namespace TouchpointTracker.Journeys.Conversions;

/// <summary>
/// Which conversion a staged touch produces, if any (pure: no I/O, no clock). In this order, the first that applies:
/// <list type="number">
/// <item>built in: the tag's <c>purchase</c> and <c>lead</c> events; offline <c>crm_stage</c> with stage <c>won</c>
/// (type won), <c>revenue</c> (type purchase) and <c>refund</c>;</item>
/// <item>the rules file's goals, in file order.</item>
/// </list>
/// An order, deal or lead id deduplicates: a second conversion with the same id in the visitor's remembered orders
/// produces nothing. A refund takes back (part of) the remembered conversion of its order.
/// </summary>
internal static class ConversionLogic
{
    /// <summary>Longest order, deal or lead id kept (the offline API's limit).</summary>
    private const int MaxKeyLength = 128;

    public static ConversionInfo? Detect(Touchpoint tp, JourneyState state, SessionState session, StageEngine engine,
        ReportingCurrencies currencies, out bool duplicate)
    {
        duplicate = false;
        string? type = null;
        ConversionGoal? goal = null;
        if (tp.Type == "event")
        {
            type = tp.Name switch
            {
                "purchase" => ConversionTypes.Purchase,
                "lead" => ConversionTypes.Lead,
                _ => null,
            };
        }
        else if (tp.Type == "offline")
        {
            type = tp.Name switch
            {
                "crm_stage" when string.Equals(JsonProps.Text(tp.Props, "stage")?.Trim(), "won", StringComparison.OrdinalIgnoreCase) => ConversionTypes.Won,
                "revenue" => ConversionTypes.Purchase,
                "refund" => ConversionTypes.Refund,
                _ => null,
            };
        }
        if (type is null)
        {
            var goals = engine.Goals;
            for (var i = 0; i < goals.Count; i++)
            {
                var g = goals[i];
                if (g.Repeat == RuleRepeat.OncePerSession && session.HasFired(g.FiredKey) ||
                    g.Repeat == RuleRepeat.OncePerJourney && state.HasFired(g.FiredKey) ||
                    !g.Matches(tp))
                {
                    continue;
                }
                goal = g;
                type = g.Type;
                break;
            }
            if (goal is null)
            {
                return null;
            }
        }

        var key = KeyOf(tp);
        var (value, currency) = goal?.Value is { } fixedValue ? (fixedValue, goal.Currency) : (ValueOf(tp), CurrencyOf(tp));
        // A currency the touch gives but that is no ISO code: the value stays, without a reporting value.
        var badCurrency = goal?.Value is null && currency is null && JsonProps.Text(tp.Props, "currency") is { Length: > 0 };
        if (type == ConversionTypes.Refund)
        {
            return Refund(tp, state, currencies, key, value, currency, badCurrency, out duplicate);
        }
        if (key is not null && state.FindOrder(key.Value.Hash) is not null)
        {
            duplicate = true; // the same order, deal or lead again: it counted once already
            return null;
        }
        if (goal is not null)
        {
            if (goal.Repeat == RuleRepeat.OncePerSession)
            {
                session.MarkFired(goal.FiredKey);
            }
            else if (goal.Repeat == RuleRepeat.OncePerJourney)
            {
                state.MarkFired(goal.FiredKey);
            }
        }
        var id = ConversionId(tp.SiteId, state.JourneyId, key is { } k ? k.Text : "event:" + tp.EventId + (goal is null ? "" : ":" + goal.Id));
        var conversion = new ConversionInfo
        {
            ConversionId = id,
            Type = type!,
            Goal = goal?.Id,
            Value = value,
            Currency = value is null ? null : currency,
            ReportingValue = value is { } v && !badCurrency ? currencies.ToReporting(tp.SiteId, v, currency) : null,
            OrderId = key?.Id,
        };
        if (key is { } remembered)
        {
            state.RememberOrder(new OrderMemory { Hash = remembered.Hash, Id = id, Value = value, Currency = conversion.Currency });
        }
        return conversion;
    }

    /// <summary>
    /// A refund: negative value (the refunded amount, else the whole remembered value), and <c>retracts</c> = the
    /// conversion id of its order when the order is remembered. An order refunded in full is marked so; a further
    /// refund of it is a duplicate.
    /// </summary>
    private static ConversionInfo? Refund(Touchpoint tp, JourneyState state, ReportingCurrencies currencies,
        (ulong Hash, string Text, string Id)? key, double? value, string? currency, bool badCurrency, out bool duplicate)
    {
        duplicate = false;
        var original = key is { } k ? state.FindOrder(k.Hash) : null;
        if (original is { Retracted: true })
        {
            duplicate = true;
            return null;
        }
        var amount = value is { } given ? Math.Abs(given) : original?.Value is { } whole ? Math.Abs(whole) - original.Refunded : (double?)null;
        currency = value is null ? original?.Currency : currency ?? original?.Currency;
        if (original is not null && amount is { } a)
        {
            original.Refunded = Math.Round(original.Refunded + a, 6);
            original.Retracted = original.Value is not { } v || original.Refunded >= Math.Abs(v) - 1e-9;
        }
        else if (original is not null)
        {
            original.Retracted = true; // a refund without an amount takes the whole order back
        }
        var negative = amount is { } n ? -n : (double?)null;
        return new ConversionInfo
        {
            ConversionId = ConversionId(tp.SiteId, state.JourneyId, "refund:" + tp.EventId),
            Type = ConversionTypes.Refund,
            Value = negative,
            Currency = negative is null ? null : currency,
            ReportingValue = negative is { } r && !(badCurrency && value is not null) ? currencies.ToReporting(tp.SiteId, r, currency) : null,
            OrderId = key?.Id,
            Retracts = original?.Id,
        };
    }

    /// <summary>
    /// The id that deduplicates: <c>order_id</c>, else <c>deal_id</c>, else the lead id (the tag's <c>lead_id</c> is
    /// hashed here, as the offline API hashes its own on arrival, so both name a lead the same and neither is kept in clear).
    /// </summary>
    internal static (ulong Hash, string Text, string Id)? KeyOf(Touchpoint tp)
    {
        if (Text(tp, "order_id") is { } order)
        {
            return Key("order:", order);
        }
        if (Text(tp, "deal_id") is { } deal)
        {
            return Key("deal:", deal);
        }
        if (Text(tp, "lead_id_sha256") is { } leadHash)
        {
            return Key("lead:", leadHash.ToLowerInvariant());
        }
        if (Text(tp, "lead_id") is { } lead)
        {
            return Key("lead:", Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(lead))));
        }
        return null;

        static (ulong, string, string) Key(string kind, string id) => (JourneyState.EventIdHash(kind + id), kind + id, id);
    }

    private static string? Text(Touchpoint tp, string name) =>
        JsonProps.Text(tp.Props, name)?.Trim() is { Length: > 0 } t ? StateLimits.Bound(t, MaxKeyLength) : null;

    /// <summary>The touch's <c>value</c>: a number, or a string holding one ("49.90"); null otherwise.</summary>
    internal static double? ValueOf(Touchpoint tp)
    {
        if (tp.Props is null || !tp.Props.TryGetValue("value", out var v))
        {
            return null;
        }
        double d;
        if (v.ValueKind == JsonValueKind.Number && v.TryGetDouble(out d) ||
            v.ValueKind == JsonValueKind.String && double.TryParse(v.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out d))
        {
            return double.IsFinite(d) && Math.Abs(d) <= 1e12 ? d : null;
        }
        return null;
    }

    /// <summary>The touch's <c>currency</c>, upper-cased, when it is three letters; null otherwise.</summary>
    internal static string? CurrencyOf(Touchpoint tp) =>
        JsonProps.Text(tp.Props, "currency")?.Trim().ToUpperInvariant() is { } c && ReportingCurrencies.CurrencyCode().IsMatch(c) ? c : null;

    /// <summary>24 hex digits of SHA-256(site, journey, what identifies the conversion): the same input names it the same.</summary>
    internal static string ConversionId(string site, string journey, string what) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(site + "\n" + journey + "\n" + what)))[..24];
}
