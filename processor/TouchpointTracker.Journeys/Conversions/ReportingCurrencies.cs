using System.Globalization;
using System.Text.RegularExpressions;

namespace TouchpointTracker.Journeys.Conversions;

/// <summary>
/// Fixed exchange rates from configuration (section <c>Conversions</c>) and each site's reporting currency:
/// values stay in their own currency and are also given in the reporting currency for sums. Not a live FX
/// service: the rates are whatever the configuration says, until it says otherwise.
/// <c>Conversions:ReportingCurrency</c> (default EUR) is the currency the rates are quoted in:
/// <c>Conversions:Rates:USD=0.92</c> means one US dollar is worth 0.92 of it. A site with its own
/// <c>Conversions:Sites:&lt;site&gt;:ReportingCurrency</c> gets cross rates (rate of the value's currency divided by
/// the rate of the site's currency). A currency without a rate gives no reporting value (counted).
/// </summary>
public sealed partial class ReportingCurrencies
{
    public const string Section = "Conversions";
    public const string DefaultCurrency = "EUR";

    private readonly Dictionary<string, double> _rates;
    private readonly Dictionary<string, string> _sites;

    public ReportingCurrencies(string currency, IReadOnlyDictionary<string, double>? rates = null, IReadOnlyDictionary<string, string>? sites = null)
    {
        Currency = currency;
        _rates = new Dictionary<string, double>(rates ?? new Dictionary<string, double>(), StringComparer.Ordinal) { [currency] = 1.0 };
        _sites = new Dictionary<string, string>(sites ?? new Dictionary<string, string>(), StringComparer.Ordinal);
    }

    /// <summary>EUR, no other rates: every other currency gives no reporting value.</summary>
    public static ReportingCurrencies Default { get; } = new(DefaultCurrency);

    /// <summary>The currency the rates are quoted in (<c>Conversions:ReportingCurrency</c>).</summary>
    public string Currency { get; }

    public IReadOnlyDictionary<string, double> Rates => _rates;

    /// <summary>The site's reporting currency.</summary>
    public string CurrencyOf(string site) => _sites.TryGetValue(site, out var c) ? c : Currency;

    /// <summary>
    /// <paramref name="value"/> in <paramref name="site"/>'s reporting currency; a value without a currency is taken as
    /// already in it; null when either currency has no rate.
    /// </summary>
    public double? ToReporting(string site, double value, string? currency)
    {
        var target = CurrencyOf(site);
        if (currency is null || currency == target)
        {
            return value;
        }
        if (!_rates.TryGetValue(currency, out var from) || !_rates.TryGetValue(target, out var to))
        {
            return null;
        }
        return Math.Round(value * from / to, 6);
    }

    [GeneratedRegex("^[A-Z]{3}$")]
    internal static partial Regex CurrencyCode();

    /// <summary>Reads the <c>Conversions</c> keys of a host's flattened configuration; every problem names its key.</summary>
    public static ReportingCurrencies FromConfiguration(IEnumerable<KeyValuePair<string, string?>> configuration, out List<string> errors)
    {
        errors = [];
        string currency = DefaultCurrency;
        var rates = new Dictionary<string, double>(StringComparer.Ordinal);
        var sites = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, raw) in configuration)
        {
            var parts = key.Split(':');
            if (!parts[0].Equals(Section, StringComparison.OrdinalIgnoreCase) || raw is null)
            {
                continue;
            }
            var value = raw.Trim();
            if (parts.Length == 2 && parts[1].Equals("ReportingCurrency", StringComparison.OrdinalIgnoreCase))
            {
                if (CurrencyCode().IsMatch(value))
                {
                    currency = value;
                }
                else
                {
                    errors.Add($"{key} must be an ISO 4217 code of three capital letters (got '{raw}').");
                }
            }
            else if (parts.Length == 3 && parts[1].Equals("Rates", StringComparison.OrdinalIgnoreCase))
            {
                if (!CurrencyCode().IsMatch(parts[2]))
                {
                    errors.Add($"{key}: '{parts[2]}' is not an ISO 4217 code of three capital letters.");
                }
                else if (!double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var rate) || !double.IsFinite(rate) || rate <= 0)
                {
                    errors.Add($"{key} must be a positive number, the value of one {parts[2]} in the reporting currency (got '{raw}').");
                }
                else
                {
                    rates[parts[2]] = rate;
                }
            }
            else if (parts.Length == 4 && parts[1].Equals("Sites", StringComparison.OrdinalIgnoreCase) && parts[3].Equals("ReportingCurrency", StringComparison.OrdinalIgnoreCase))
            {
                if (CurrencyCode().IsMatch(value))
                {
                    sites[parts[2]] = value;
                }
                else
                {
                    errors.Add($"{key} must be an ISO 4217 code of three capital letters (got '{raw}').");
                }
            }
            else if (parts.Length == 2 && !parts[1].Equals("Rates", StringComparison.OrdinalIgnoreCase) && !parts[1].Equals("Sites", StringComparison.OrdinalIgnoreCase))
            {
                errors.Add($"{key}: unknown setting (Conversions:ReportingCurrency, Conversions:Rates:<CUR>, Conversions:Sites:<site>:ReportingCurrency).");
            }
        }
        foreach (var (site, c) in sites)
        {
            if (c != currency && !rates.ContainsKey(c))
            {
                errors.Add($"Conversions:Sites:{site}:ReportingCurrency is {c}, which has no rate: set Conversions:Rates:{c} (its value in {currency}).");
            }
        }
        return new ReportingCurrencies(currency, rates, sites);
    }
}
