using System.Text.Json;

namespace TouchpointTracker.Journeys.Identity;

/// <summary>
/// What the collector does to a touch's properties on arrival, before anything is buffered, forwarded or logged:
/// an identify's user id becomes <c>user_id_sha256</c> (or, when junk, is dropped and the touch marked
/// <c>identify_refused: "blocklisted"</c>); an e-mail or phone number, in the traits or the properties, becomes
/// <c>&lt;name&gt;_sha256</c> of its normalised value (a malformed one is dropped). A property is an e-mail
/// when its name says so (email, e_mail, mail...) or its value looks like an address; a phone when its name does
/// (phone, mobile, tel...).
/// </summary>
public static class IdentifyProps
{
    private static readonly HashSet<string> PhoneNames = new(StringComparer.OrdinalIgnoreCase)
        { "phone", "phone_number", "phonenumber", "mobile", "mobile_phone", "tel", "telephone", "cell", "whatsapp" };

    /// <summary>The properties to keep (the same dictionary when nothing needed hashing).</summary>
    public static Dictionary<string, JsonElement>? Protect(string type, Dictionary<string, JsonElement>? props, UserIdPolicy policy)
    {
        if (props is null || props.Count == 0)
        {
            return props;
        }
        var identify = type == "identify";
        if (!identify && !props.Any(kv => NeedsHashing(kv.Key, kv.Value) || kv.Value.ValueKind == JsonValueKind.Object))
        {
            return props;
        }
        var result = new Dictionary<string, JsonElement>(props.Count, StringComparer.Ordinal);
        foreach (var (name, value) in props)
        {
            if (identify && name == "user_id")
            {
                var id = value.ValueKind switch
                {
                    JsonValueKind.String => value.GetString(),
                    JsonValueKind.Number => value.GetRawText(),
                    _ => null,
                };
                if (policy.Hash(id) is { } hash)
                {
                    result["user_id_sha256"] = Text(hash);
                }
                else
                {
                    result["identify_refused"] = Text("blocklisted");
                }
                continue;
            }
            if (value.ValueKind == JsonValueKind.Object)
            {
                var inner = new System.Text.Json.Nodes.JsonObject();
                foreach (var p in value.EnumerateObject())
                {
                    Put(inner, p.Name, p.Value);
                }
                result[name] = JsonSerializer.SerializeToElement(inner, IdentityJson.Default.JsonObject);
                continue;
            }
            if (NeedsHashing(name, value))
            {
                if (HashOf(name, value) is { } h)
                {
                    result[name + "_sha256"] = Text(h);
                }
                continue;
            }
            result[name] = value;
        }
        return result;
    }

    private static void Put(System.Text.Json.Nodes.JsonObject inner, string name, JsonElement value)
    {
        if (NeedsHashing(name, value))
        {
            if (HashOf(name, value) is { } h)
            {
                inner[name + "_sha256"] = h;
            }
            return;
        }
        inner[name] = System.Text.Json.Nodes.JsonValue.Create(value);
    }

    private static bool IsEmailName(string name) =>
        name.Contains("email", StringComparison.OrdinalIgnoreCase) || name.Contains("e_mail", StringComparison.OrdinalIgnoreCase) ||
        name.Equals("mail", StringComparison.OrdinalIgnoreCase) || name.Equals("courriel", StringComparison.OrdinalIgnoreCase);

    private static bool NeedsHashing(string name, JsonElement value)
    {
        if (name.EndsWith("_sha256", StringComparison.Ordinal) && value.ValueKind == JsonValueKind.String && IdentityHashing.IsSha256Hex(value.GetString()))
        {
            return false; // already a hash
        }
        if (IsEmailName(name) || PhoneNames.Contains(name))
        {
            return true;
        }
        return value.ValueKind == JsonValueKind.String && value.GetString() is { } s && s.Contains('@') && IdentityHashing.Email(s) is not null;
    }

    private static string? HashOf(string name, JsonElement value)
    {
        var text = value.ValueKind switch
        {
            JsonValueKind.String => value.GetString(),
            JsonValueKind.Number => value.GetRawText(),
            _ => null,
        };
        if (text is null)
        {
            return null;
        }
        return PhoneNames.Contains(name) ? IdentityHashing.Phone(text) : IdentityHashing.Email(text);
    }

    private static JsonElement Text(string s) => JsonSerializer.SerializeToElement(s, IdentityJson.Default.String);
}

[System.Text.Json.Serialization.JsonSerializable(typeof(string))]
[System.Text.Json.Serialization.JsonSerializable(typeof(System.Text.Json.Nodes.JsonObject))]
internal sealed partial class IdentityJson : System.Text.Json.Serialization.JsonSerializerContext;
