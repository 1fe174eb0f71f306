using System.Text.Json.Serialization;

namespace TouchpointTracker.Journeys.Identity;

/// <summary>
/// An identified person of one site: the hashed user id, the visitor ids linked to it (bounded by
/// <see cref="IdentitySettings.MaxVisitorsPerPerson"/>), the hashed e-mails and phones learnt for it, and the
/// person's one journey, on which the touches of every linked visitor are staged. No clear identifier.
/// </summary>
public sealed class PersonState
{
    [JsonPropertyName("v")] public int Version { get; set; } = 1;
    [JsonPropertyName("person_id")] public string PersonId { get; set; } = "";
    [JsonPropertyName("uid")] public string UserIdSha256 { get; set; } = "";
    /// <summary>Linked visitor ids, in the order they were linked.</summary>
    [JsonPropertyName("visitors")] public List<string> Visitors { get; set; } = [];
    /// <summary>Visitor ids refused because the person had <see cref="IdentitySettings.MaxVisitorsPerPerson"/> already.</summary>
    [JsonPropertyName("refused")] public int RefusedVisitors { get; set; }
    /// <summary>SHA-256 of the person's normalised e-mails, latest last.</summary>
    [JsonPropertyName("emails")] public List<string>? Emails { get; set; }
    /// <summary>SHA-256 of the person's E.164 phone numbers, latest last.</summary>
    [JsonPropertyName("phones")] public List<string>? Phones { get; set; }
    [JsonPropertyName("journey")] public JourneyState Journey { get; set; } = new();

    /// <summary>The visitor most recently linked: where an offline event matched to the person is placed.</summary>
    [JsonIgnore] public string? LatestVisitor => Visitors.Count == 0 ? null : Visitors[^1];
}
