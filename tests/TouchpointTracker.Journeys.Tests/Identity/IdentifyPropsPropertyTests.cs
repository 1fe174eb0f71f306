using System.Text.Json;
using FsCheck;
using FsCheck.Fluent;
using TouchpointTracker.Journeys.Identity;

namespace TouchpointTracker.Journeys.Tests.Identity;

/// <summary>
/// The collector's hashing of properties, over generated identify and event properties as a browser may send
/// them: it never throws, never lets an e-mail address, a phone number under a phone name, or an identify's
/// user id through in clear, and keeps every other property as it was.
/// </summary>
public class IdentifyPropsPropertyTests
{
    private const int Runs = 1000;
    private static readonly string[] Names = ["email", "Email", "contact_email", "mail", "phone", "mobile", "tel", "name", "plan", "company", "note", "user_id", "x_sha256"];
    private static readonly string[] Values =
    [
        "jane@example.com", " Jane.Doe@Example.COM ", "a@b", "@", "x@", "not an email", "+33 6 12 34 56 78", "0612345678", "12", "()", "",
        "null", "undefined", "anonymous", "u-42", "pro", "ACME Inc.", "\u202e", "é@ü.example", "two@at@signs.example",
    ];

    private static Gen<(string, string, int)> PropGen =>
        from n in Gen.Elements(Names)
        from v in Gen.Elements(Values)
        from kind in Gen.Choose(0, 3)
        select (n, v, kind);

    private static Dictionary<string, JsonElement> Build((string Name, string Value, int Kind)[] props, bool traits)
    {
        var root = new System.Text.Json.Nodes.JsonObject();
        var inner = new System.Text.Json.Nodes.JsonObject();
        foreach (var (name, value, kind) in props)
        {
            System.Text.Json.Nodes.JsonNode? node = kind switch
            {
                0 => value,
                1 => value.Length,
                2 => value.Length % 2 == 0,
                _ => null,
            };
            (traits && name != "user_id" ? inner : root)[name] = node;
        }
        if (traits)
        {
            root["traits"] = inner;
        }
        return JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(root.ToJsonString())!;
    }

    [Test]
    public void Identifiers_never_stay_in_clear_and_other_properties_stay_as_they_were()
    {
        Prop.ForAll(PropGen.ArrayOf().ToArbitrary(), Gen.Elements("identify", "event").ToArbitrary(), Gen.Elements(true, false).ToArbitrary(), (generated, type, traits) =>
        {
            var props = generated.Reverse().DistinctBy(p => p.Item1).Reverse().ToArray(); // one value per name, as a JSON object holds it
            var input = Build(props, traits);
            var output = IdentifyProps.Protect(type, input, UserIdPolicy.Default);
            var text = JsonSerializer.Serialize(output);
            var flat = Flatten(output);
            foreach (var v in flat.Select(kv => kv.Value))
            {
                if (v.Contains('@', StringComparison.Ordinal) && IdentityHashing.Email(v) is not null)
                {
                    throw new AssertionException($"e-mail {v} in clear: {text}");
                }
            }
            foreach (var (name, v) in flat)
            {
                if (name is "phone" or "mobile" or "tel" or "email" or "Email" or "contact_email" or "mail" && v.Length > 0)
                {
                    throw new AssertionException($"{name} {v} in clear: {text}");
                }
            }
            if (type == "identify" && output is not null && output.ContainsKey("user_id"))
            {
                return false;
            }
            // Properties that are neither identifiers nor objects are kept as they were.
            foreach (var (name, value) in input)
            {
                var identifier = name is "user_id" || name.Contains("mail", StringComparison.OrdinalIgnoreCase) || name is "phone" or "mobile" or "tel" ||
                    value.ValueKind == JsonValueKind.Object || value.ValueKind == JsonValueKind.String && value.GetString()!.Contains('@', StringComparison.Ordinal);
                if (!identifier && (output is null || !output.TryGetValue(name, out var kept) || kept.GetRawText() != value.GetRawText()))
                {
                    throw new AssertionException($"{name} changed: {JsonSerializer.Serialize(input)} -> {text}");
                }
            }
            return true;
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(Runs));
    }

    /// <summary>Every string value of the properties and of their one level of object, by name.</summary>
    private static List<KeyValuePair<string, string>> Flatten(Dictionary<string, JsonElement>? props)
    {
        var list = new List<KeyValuePair<string, string>>();
        foreach (var (name, value) in props ?? [])
        {
            if (value.ValueKind == JsonValueKind.String)
            {
                list.Add(new(name, value.GetString()!));
            }
            else if (value.ValueKind == JsonValueKind.Object)
            {
                list.AddRange(value.EnumerateObject().Where(p => p.Value.ValueKind == JsonValueKind.String).Select(p => new KeyValuePair<string, string>(p.Name, p.Value.GetString()!)));
            }
        }
        return list;
    }

    [Test]
    public void An_identify_with_a_junk_id_is_marked_refused_and_a_usable_one_hashed()
    {
        var junk = IdentifyProps.Protect("identify", Build([("user_id", " Undefined ", 0)], traits: false), UserIdPolicy.Default)!;
        Assert.That(junk["identify_refused"].GetString(), Is.EqualTo("blocklisted"));
        Assert.That(junk.ContainsKey("user_id_sha256"), Is.False);
        var numeric = IdentifyProps.Protect("identify", Build([("user_id", "12345", 1)], traits: false), UserIdPolicy.Default)!;
        Assert.That(numeric["user_id_sha256"].GetString(), Is.EqualTo(IdentityHashing.UserId("5")), "a number is hashed as its digits");
        var usable = IdentifyProps.Protect("identify", Build([("user_id", "u-42", 0), ("email", " Jane@Example.com", 0), ("phone", "+33 6 12 34 56 78", 0)], traits: true), UserIdPolicy.Default)!;
        Assert.That(usable["user_id_sha256"].GetString(), Is.EqualTo(IdentityHashing.UserId("u-42")));
        Assert.That(usable["traits"].GetProperty("email_sha256").GetString(), Is.EqualTo(IdentityHashing.Email("jane@example.com")));
        Assert.That(usable["traits"].GetProperty("phone_sha256").GetString(), Is.EqualTo(IdentityHashing.Phone("+33612345678")));
    }
}
