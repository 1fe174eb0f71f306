using System.Text.Json;
using TouchpointTracker.Contracts;
using TouchpointTracker.Journeys;
using TouchpointTracker.Journeys.Tests.Support;
using static TouchpointTracker.Journeys.Tests.Support.Touch;

namespace TouchpointTracker.Journeys.Tests.Engine;

/// <summary>Every string the processor keeps in journey state is bounded, whatever the touchpoint carried.</summary>
public sealed class StateBoundsTests
{
    [Test]
    public void Oversized_landing_campaign_term_and_ids_do_not_grow_the_state()
    {
        var runner = new JourneyRunner();
        var huge = new string('x', 60_000);
        var tp = Page("/landing").At(T0).Campaign(huge, huge, huge, term: huge).FromSite("https://ref.example/" + huge, "referral", "Referral").Session(huge).Build("v");
        tp.Landing = new LandingInfo { Url = "https://www.acme.example/?q=" + huge, Referrer = "https://ref.example/" + huge };
        tp.Referrer.Term = huge;
        tp.Campaign.Content = huge;
        tp.Campaign.ClickId = huge;
        tp.Channel = huge;

        var step = runner.Apply(tp);
        var state = runner.StateOf("v");
        var size = JsonSerializer.SerializeToUtf8Bytes(state, JourneysJsonContext.Default.JourneyState).Length;
        var session = state.CurrentSession!;

        Assert.Multiple(() =>
        {
            Assert.That(size, Is.LessThan(12 * 1024), "state of one visitor after one 60 KB-per-field touchpoint");
            Assert.That(session.LandingUrl!, Has.Length.EqualTo(StateLimits.MaxUrlLength));
            Assert.That(session.LandingReferrer!, Has.Length.EqualTo(StateLimits.MaxUrlLength));
            Assert.That(session.Term!, Has.Length.EqualTo(StateLimits.MaxValueLength));
            Assert.That(session.ClientSessionId!, Has.Length.EqualTo(StateLimits.MaxIdLength));
            Assert.That(session.Campaign!.Name!, Has.Length.EqualTo(StateLimits.MaxValueLength));
            Assert.That(session.Channel, Has.Length.EqualTo(StateLimits.MaxValueLength));
            Assert.That(step.Staged, Is.Not.Null);
        });
    }

    [Test]
    public void A_cut_never_ends_inside_a_surrogate_pair() =>
        Assert.That(StateLimits.Bound(new string('a', 255) + "😀", 256), Is.EqualTo(new string('a', 255)));
}
