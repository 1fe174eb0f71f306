using System.Text.Json;
using TouchpointTracker.Contracts;

namespace TouchpointTracker.Journeys.Identity;

/// <summary>What identity did while staging touches: the counts behind <c>tt_identity_*</c>.</summary>
public sealed class IdentityTally
{
    /// <summary>A visitor joined a person (identify, or an offline event with a visitor id and a user id).</summary>
    public int Linked { get; set; }
    /// <summary>A visitor's anonymous journey was merged into the person's.</summary>
    public int Merged { get; set; }
    /// <summary>A junk (blocklisted) user id: no person, the touch staged on the visitor's own journey.</summary>
    public int Junk { get; set; }
    /// <summary>A visitor refused because the person had the maximum number of visitors.</summary>
    public int CapRefused { get; set; }
    /// <summary>A visitor identified as another user than the one it was linked to: it moves to that person, nothing merges.</summary>
    public int Relinked { get; set; }
    /// <summary>Offline events without a visitor id matched to a visitor.</summary>
    public int Matched { get; set; }
    /// <summary>Offline events that matched nobody, kept as unmatched.</summary>
    public int Unmatched { get; set; }
    /// <summary>Unmatched events matched later, when their identifier appeared.</summary>
    public int Rematched { get; set; }

    public void Clear() => Linked = Merged = Junk = CapRefused = Relinked = Matched = Unmatched = Rematched = 0;
}

/// <summary>
/// The outcome of one touch with identity: the journey step (Duplicate with no staged touch when the touch was
/// re-keyed or kept unmatched), and the touches to stage again under a visitor id (an offline event matched to
/// a visitor, unmatched events matched by an identifier this touch taught), and the journey state the touch was
/// staged on (the person's or the visitor's; null when nothing was staged), from which a conversion record is built.
/// </summary>
public readonly record struct IdentityStep(JourneyStep Step, IReadOnlyList<Touchpoint> Rekeyed, bool KeptUnmatched = false, JourneyState? State = null);

/// <summary>
/// Staging with identity (pure; the host supplies the state through <see cref="IIdentityLookup"/>):
/// <list type="number">
/// <item>an offline event without a visitor id (its <c>visitor_id</c> is the collector's placeholder, starting
/// with <c>~</c>) is resolved by its identifiers (user id, e-mail, phone, lead id, click ids, as SHA-256) to a
/// visitor and returned to be staged under that visitor, or kept as unmatched;</item>
/// <item>a touch carrying a usable hashed user id (identify, or an offline event) links its visitor to the
/// person of that user id, under the cap; a first link merges the visitor's anonymous journey into the person's;</item>
/// <item>a linked visitor's touch is staged on the person's journey and carries <c>journey.person_id</c>;</item>
/// <item>identifiers the touch carries (hashed e-mail/phone of identify traits or offline events, landing click
/// ids) are learnt, pointing at the person or the visitor, and unmatched touches waiting for them come back to
/// be staged.</item>
/// </list>
/// </summary>
public sealed class IdentityStager(JourneyProcessor journeys, IdentityResolver resolver)
{
    /// <summary>The collector's placeholder visitor id of an offline event sent without one starts with this.</summary>
    public const string PlaceholderPrefix = "~";

    private static readonly string[] ClickIdProps = ["gclid_sha256", "gbraid_sha256", "wbraid_sha256", "msclkid_sha256", "fbclid_sha256", "ttclid_sha256"];
    private static readonly IReadOnlyList<Touchpoint> None = [];

    public JourneyProcessor Journeys => journeys;
    public IdentityResolver Resolver => resolver;

    /// <summary>An offline event that came without a visitor id.</summary>
    public static bool IsIdentityOnly(Touchpoint tp) => tp.Type == "offline" && tp.VisitorId.StartsWith(PlaceholderPrefix, StringComparison.Ordinal);

    /// <summary>
    /// The identifier keys a touch carries, strongest first: <c>u:</c> user id, <c>e:</c> e-mail, <c>t:</c> phone,
    /// <c>l:</c> lead id, <c>c:</c> click id; each followed by the SHA-256 hex (lower case).
    /// </summary>
    public static List<string> KeysOf(Touchpoint tp)
    {
        var keys = new List<string>(2);
        var props = tp.Props;
        if (props is not null)
        {
            Add(keys, "u:", Text(props, "user_id_sha256"));
            Add(keys, "e:", Text(props, "email_sha256"));
            Add(keys, "t:", Text(props, "phone_sha256"));
            if (props.TryGetValue("traits", out var traits) && traits.ValueKind == JsonValueKind.Object)
            {
                foreach (var p in traits.EnumerateObject())
                {
                    if (p.Value.ValueKind == JsonValueKind.String && p.Name.EndsWith("_sha256", StringComparison.Ordinal))
                    {
                        var kind = p.Name.Contains("phone", StringComparison.Ordinal) || p.Name.Contains("mobile", StringComparison.Ordinal) ? "t:" : "e:";
                        Add(keys, kind, p.Value.GetString());
                    }
                }
            }
            Add(keys, "l:", Text(props, "lead_id_sha256"));
            foreach (var name in ClickIdProps)
            {
                Add(keys, "c:", Text(props, name));
            }
        }
        if (tp.Type == "pageview" && !string.IsNullOrWhiteSpace(tp.Campaign.ClickId))
        {
            Add(keys, "c:", IdentityHashing.ClickId(tp.Campaign.ClickId));
        }
        return keys;
    }

    /// <summary>The person id a touch's user id names (null without a usable one).</summary>
    public string? PersonNamedBy(Touchpoint tp) =>
        Text(tp.Props, "user_id_sha256") is { } uid && !resolver.Policy.IsJunkHash(uid) ? IdentityResolver.PersonIdFor(tp.SiteId, uid) : null;

    public IdentityStep Stage(Touchpoint tp, IIdentityLookup ids, StagingTally tally, IdentityTally identity)
    {
        if (JourneyProcessor.IsBot(tp))
        {
            return new IdentityStep(journeys.Stage(tp, ids, tally), None);
        }
        if (IsIdentityOnly(tp))
        {
            return Resolve(tp, ids, identity);
        }
        var keys = KeysOf(tp); // before staging, which carries the session's campaign (and click id) onto every touch
        var visitor = ids.GetOrCreate(tp);
        var person = LinkIfIdentified(tp, visitor, ids, identity);
        if (person is null && visitor.PersonId is { } linked)
        {
            person = ids.FindPerson(tp.SiteId, linked);
            if (person is null)
            {
                // The person's state expired or was evicted while the visitor's link stayed: it starts again.
                person = new PersonState { PersonId = linked, Visitors = [tp.VisitorId] };
                ids.PersonChanged(tp.SiteId, person);
            }
        }
        var journey = person?.Journey ?? visitor;
        var step = journeys.Stage(tp, new Fixed(journey), tally);
        if (step.Outcome != TouchOutcome.Staged)
        {
            return new IdentityStep(step, None);
        }
        if (person is not null)
        {
            step.Staged!.Journey!.PersonId = person.PersonId;
            if (tp.DerivedTs > visitor.LastSeen)
            {
                visitor.LastSeen = tp.DerivedTs; // the link lives as long as the visitor is seen
            }
            ids.PersonChanged(tp.SiteId, person);
        }
        var rekeyed = Learn(tp, keys, person, ids, identity);
        return new IdentityStep(step, rekeyed, State: journey);
    }

    /// <summary>Links the touch's visitor to the person of its user id, if it carries a usable one; returns that person.</summary>
    private PersonState? LinkIfIdentified(Touchpoint tp, JourneyState visitor, IIdentityLookup ids, IdentityTally identity)
    {
        var uid = Text(tp.Props, "user_id_sha256");
        if (uid is null)
        {
            if (tp.Type == "identify")
            {
                identity.Junk++; // the collector dropped a junk id (or none was given)
            }
            return null;
        }
        if (resolver.Policy.IsJunkHash(uid))
        {
            identity.Junk++;
            return null;
        }
        var personId = IdentityResolver.PersonIdFor(tp.SiteId, uid);
        var person = ids.FindPerson(tp.SiteId, personId);
        if (person is null)
        {
            person = IdentityResolver.NewPerson(tp.SiteId, uid);
        }
        else if (person.UserIdSha256.Length == 0)
        {
            person.UserIdSha256 = uid.ToLowerInvariant();
        }
        if (visitor.PersonId == personId)
        {
            resolver.Link(person, tp.VisitorId); // back in the list if the person's state had restarted
            ids.PersonChanged(tp.SiteId, person);
            return person;
        }
        if (resolver.Link(person, tp.VisitorId) == LinkOutcome.CapReached)
        {
            identity.CapRefused++;
            ids.PersonChanged(tp.SiteId, person);
            return null; // the visitor stays as it was (anonymous, or another person's)
        }
        identity.Linked++;
        if (visitor.PersonId is null)
        {
            if (visitor.Touches > 0)
            {
                identity.Merged++;
            }
            var merged = JourneyMerge.Merge(person.Journey, visitor, journeys.Engine, journeys.Settings);
            merged.PersonId = null;
            person.Journey = merged;
            visitor.ClearJourney(); // merged into the person's: only the link, the dedup ids and what outlives a journey stay
        }
        else
        {
            identity.Relinked++; // another user on this device: from now on its touches are the new person's
        }
        visitor.PersonId = personId;
        ids.PersonChanged(tp.SiteId, person);
        return person;
    }

    /// <summary>An offline event without a visitor id: staged under the visitor its identifiers name, or kept as unmatched.</summary>
    private IdentityStep Resolve(Touchpoint tp, IIdentityLookup ids, IdentityTally identity)
    {
        var keys = KeysOf(tp);
        foreach (var key in keys)
        {
            var target = key.StartsWith("u:", StringComparison.Ordinal) && !resolver.Policy.IsJunkHash(key[2..])
                ? "p:" + IdentityResolver.PersonIdFor(tp.SiteId, key[2..])
                : ids.FindTarget(tp.SiteId, key);
            if (VisitorOf(tp.SiteId, target, ids) is { } visitorId)
            {
                identity.Matched++;
                return new IdentityStep(NotStaged, [Rekey(tp, visitorId, key)]);
            }
        }
        identity.Unmatched++;
        ids.KeepUnmatched(tp, keys);
        return new IdentityStep(NotStaged, None, KeptUnmatched: true);
    }

    private static readonly JourneyStep NotStaged = new(TouchOutcome.Duplicate, null, null);

    private static string? VisitorOf(string site, string? target, IIdentityLookup ids)
    {
        if (target is null)
        {
            return null;
        }
        if (target.StartsWith("v:", StringComparison.Ordinal))
        {
            return target[2..];
        }
        return target.StartsWith("p:", StringComparison.Ordinal) ? ids.FindPerson(site, target[2..])?.LatestVisitor : null;
    }

    /// <summary>Learns the touch's identifiers (pointing at its person, else its visitor) and brings back the unmatched touches they match.</summary>
    private List<Touchpoint> Learn(Touchpoint tp, List<string> keys, PersonState? person, IIdentityLookup ids, IdentityTally identity)
    {
        if (keys.Count == 0)
        {
            return [];
        }
        var target = person is not null ? "p:" + person.PersonId : "v:" + tp.VisitorId;
        List<Touchpoint>? rekeyed = null;
        foreach (var key in keys)
        {
            if (person is not null)
            {
                if (key.StartsWith("e:", StringComparison.Ordinal))
                {
                    var list = person.Emails;
                    resolver.Remember(ref list, key[2..]);
                    person.Emails = list;
                }
                else if (key.StartsWith("t:", StringComparison.Ordinal))
                {
                    var list = person.Phones;
                    resolver.Remember(ref list, key[2..]);
                    person.Phones = list;
                }
            }
            if (!key.StartsWith("u:", StringComparison.Ordinal))
            {
                ids.Learn(tp.SiteId, key, target); // user ids need no index: the person id is derived from them
            }
            else if (person is null)
            {
                continue; // a junk or refused user id teaches nothing
            }
            foreach (var waiting in ids.TakeUnmatched(tp.SiteId, key))
            {
                identity.Rematched++;
                (rekeyed ??= []).Add(Rekey(waiting, tp.VisitorId, key));
            }
        }
        if (person is not null)
        {
            ids.PersonChanged(tp.SiteId, person);
        }
        return rekeyed ?? [];
    }

    private static Touchpoint Rekey(Touchpoint tp, string visitorId, string key)
    {
        tp.VisitorId = visitorId;
        tp.Props ??= [];
        using (var doc = JsonDocument.Parse("\"" + KindOf(key) + "\""))
        {
            tp.Props["matched_by"] = doc.RootElement.Clone();
        }
        return tp;
    }

    private static string KindOf(string key) => key[0] switch
    {
        'u' => "user_id",
        'e' => "email",
        't' => "phone",
        'l' => "lead_id",
        _ => "click_id",
    };


    private static void Add(List<string> keys, string kind, string? hash)
    {
        if (IdentityHashing.IsSha256Hex(hash))
        {
            var key = kind + hash!.ToLowerInvariant();
            if (!keys.Contains(key))
            {
                keys.Add(key);
            }
        }
    }

    private static string? Text(Dictionary<string, JsonElement>? props, string name) =>
        props is not null && props.TryGetValue(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    /// <summary>A lookup that always answers one state: the journey the touch is staged on.</summary>
    private readonly struct Fixed(JourneyState state) : IJourneyStateLookup
    {
        public JourneyState GetOrCreate(Touchpoint touchpoint) => state;
    }
}
