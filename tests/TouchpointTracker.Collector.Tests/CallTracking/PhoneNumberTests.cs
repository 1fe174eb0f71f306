using FsCheck;
using FsCheck.Fluent;
using TouchpointTracker.Collector.CallTracking;

namespace TouchpointTracker.Collector.Tests.CallTracking;

/// <summary>Phone-number normalisation: examples of the formats people write, and properties over generated numbers and strings.</summary>
public class PhoneNumberTests
{
    private const int Runs = 3000;

    [TestCase("+33 1 23 45 67 89", null, "+33123456789")]
    [TestCase("+33 (0)1 23 45 67 89", null, "+33123456789")]
    [TestCase("0033 1 23 45 67 89", null, "+33123456789")]
    [TestCase("+33.1.23.45.67.89", null, "+33123456789")]
    [TestCase("tel:+33-1-23-45-67-89", null, "+33123456789")]
    [TestCase("01 23 45 67 89", "33", "+33123456789")]
    [TestCase("01.23.45.67.89", "33", "+33123456789")]
    [TestCase("(01) 23 45 67 89", "33", "+33123456789")]
    [TestCase("01\u00a023\u00a045\u00a067\u00a089", "33", "+33123456789")]
    [TestCase("+44 (0)20 7946 0958", null, "+442079460958")]
    [TestCase("020 7946 0958", "44", "+442079460958")]
    [TestCase("(555) 010-0199", "1", "+15550100199")]
    [TestCase("1-555-010-0199", "1", "+15550100199")]
    [TestCase("011 33 1 23 45 67 89", "1", "+33123456789")]
    [TestCase("06 91 23 45 67", "39", "+390691234567")]
    [TestCase("8 (495) 123-45-67", "7", "+74951234567")]
    [TestCase("030/1234567", "49", "+49301234567")]
    public void Common_formats_normalise_to_E164(string text, string? country, string expected) =>
        Assert.That(PhoneNumbers.Normalize(text, country), Is.EqualTo(expected));

    [TestCase("01 23 45 67 89", null)] // national without a country
    [TestCase("1 23 45 67 89", "33")] // national without the trunk prefix, where there is one
    [TestCase("+33 1 23 45 67 89 ext 12", null)]
    [TestCase("+33 1 (0)23 45 67 89", null)] // (0) not after the country code
    [TestCase("+0 123 456 789", null)]
    [TestCase("+33 12", null)]
    [TestCase("+1234567890123456", null)] // 16 digits
    [TestCase("33+1234567", null)]
    [TestCase("((01)) 23 45 67 89", "33")]
    [TestCase("(01 23 45 67 89", "33")]
    [TestCase("", "33")]
    [TestCase("call us", "33")]
    public void Other_text_is_not_a_number(string text, string? country) =>
        Assert.That(PhoneNumbers.Normalize(text, country), Is.Null);

    [TestCase("+33123456789", "+33 1 23 45 67 89", "01 23 45 67 89")]
    [TestCase("+33198765432", null, "01 98 76 54 32")]
    [TestCase("+15550100199", null, "(555) 010-0199")]
    [TestCase("+442079460958", "+44 20 7946 0958", "020 7946 0958")]
    [TestCase("+390691234567", "+39 06 9123 4567", "06 9123 4567")]
    public void The_display_is_national_and_grouped_like_the_published_number(string e164, string? pattern, string expected) =>
        Assert.That(PhoneNumbers.Display(e164, pattern), Is.EqualTo(expected));

    [TestCase("+33123456789", "33")]
    [TestCase("+15550100199", "1")]
    [TestCase("+74951234567", "7")]
    [TestCase("+353123456789", "353")]
    [TestCase("+442079460958", "44")]
    public void The_country_code_is_read_off_the_number(string e164, string code) =>
        Assert.That(PhoneNumbers.CountryCodeOf(e164), Is.EqualTo(code));

    // ---- properties ----

    private static readonly string[] Codes = ["1", "7", "33", "44", "49", "39", "34", "36", "353", "971", "212", "61", "86"];
    private static readonly string[] Separators = ["", " ", ".", "-", "/", "\u00a0", " - "];

    /// <summary>A valid E.164 number: a country code, then a national number of 6 to 15 − code digits not starting with 0 (the trunk).</summary>
    private static Gen<(string Code, string National)> Numbers =>
        Gen.Elements(Codes).SelectMany(code => (code == "1" ? Gen.Constant(10) : Gen.Choose(6, PhoneNumbers.MaxDigits - code.Length)).SelectMany(length =>
            Gen.Zip(Gen.Choose(1, 9), Gen.ArrayOf(Gen.Choose(0, 9), length - 1)).Select(d =>
                (code, d.Item1.ToString(System.Globalization.CultureInfo.InvariantCulture) + string.Concat(d.Item2)))));

    /// <summary>Digits split in groups of 1 to 4 by random separators.</summary>
    private static Gen<string> Grouped(string digits) =>
        Gen.ArrayOf(Gen.Zip(Gen.Choose(1, 4), Gen.Elements(Separators)), digits.Length).Select(parts =>
        {
            var sb = new System.Text.StringBuilder();
            var at = 0;
            foreach (var (size, sep) in parts)
            {
                if (at >= digits.Length)
                {
                    break;
                }
                var take = Math.Min(size, digits.Length - at);
                if (at > 0)
                {
                    sb.Append(sep);
                }
                sb.Append(digits, at, take);
                at += take;
            }
            return sb.ToString();
        });

    /// <summary>One way a person writes the number: +cc, 00cc, +cc (0) where there is a trunk 0, or national with the trunk prefix.</summary>
    private static Gen<(string Text, string Code, string E164)> Written =>
        Numbers.SelectMany(n => Gen.Zip(Gen.Zip(Grouped(n.National), Gen.Choose(0, 3)), Gen.Elements(Separators)).Select(t =>
        {
            var ((grouped, form), sep) = t;
            var e164 = "+" + n.Code + n.National;
            var trunk = PhoneNumbers.TrunkOf(n.Code);
            var text = form switch
            {
                0 => "+" + n.Code + sep + grouped,
                1 => "00" + n.Code + sep + grouped,
                2 when trunk == "0" => "+" + n.Code + " (0)" + grouped,
                _ => (n.Code == "1" ? "" : trunk) + grouped,
            };
            return (text, n.Code, e164);
        }));

    [Test]
    public void Any_written_form_of_a_number_normalises_to_its_E164() =>
        Prop.ForAll(Written.ToArbitrary(), w => PhoneNumbers.Normalize(w.Text, w.Code) == w.E164)
            .Check(Config.QuickThrowOnFailure.WithMaxTest(Runs));

    [Test]
    public void The_display_of_a_number_normalises_back_to_it() =>
        Prop.ForAll(Numbers.ToArbitrary(), n =>
        {
            var e164 = "+" + n.Code + n.National;
            return PhoneNumbers.Normalize(PhoneNumbers.Display(e164), n.Code) == e164;
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(Runs));

    private static Gen<string> Noise =>
        Gen.ListOf(Gen.Elements("+", "0", "00", "1", "3", "9", " ", "(", ")", "(0)", ".", "-", "/", "tel:", "x", "\u00a0", "\ud83d", "٣", "\0", "123456789"))
            .Select(parts => string.Concat(parts));

    [Test]
    public void Whatever_the_text_the_result_is_null_or_E164_and_normalising_again_keeps_it() =>
        Prop.ForAll(Gen.Zip(Gen.OneOf(Noise, ArbMap.Default.GeneratorFor<string>()), Gen.Elements<string?>([null, .. Codes])).ToArbitrary(), t =>
        {
            var once = PhoneNumbers.Normalize(t.Item1, t.Item2);
            return once is null || (PhoneNumbers.IsE164(once) && PhoneNumbers.Normalize(once) == once && PhoneNumbers.Normalize(once, t.Item2) == once);
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(Runs));
}
