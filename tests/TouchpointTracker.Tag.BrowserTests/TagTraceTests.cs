using System.Text;

namespace TouchpointTracker.Tag.BrowserTests;

/// <summary>The benchmark's reading of a Chromium trace: only the tag's own time on the page's main thread counts.</summary>
public class TagTraceTests
{
    private const string Tag = "http://127.0.0.1:5000/tt.js";

    [Test]
    public void Counts_the_outermost_tag_events_of_the_main_thread_and_names_what_is_inside()
    {
        var trace = """
            {"traceEvents":[
             {"name":"thread_name","ph":"M","pid":1,"tid":2,"args":{"name":"CrRendererMain"}},
             {"name":"thread_name","ph":"M","pid":1,"tid":3,"args":{"name":"ThreadPoolForegroundWorker"}},
             {"name":"EvaluateScript","ph":"X","pid":1,"tid":2,"ts":1000,"dur":3000,"tdur":2000,"args":{"data":{"url":"http://127.0.0.1:5000/tt.js"}}},
             {"name":"v8.compile","ph":"X","pid":1,"tid":2,"ts":1100,"dur":500,"tdur":500,"args":{"data":{"url":"http://127.0.0.1:5000/tt.js"}}},
             {"name":"CookieJar::Cookies","ph":"X","pid":1,"tid":2,"ts":2000,"dur":1000,"args":{}},
             {"name":"FunctionCall","ph":"X","pid":1,"tid":2,"ts":10000,"dur":4000,"tdur":1000,"args":{"data":{"url":"http://127.0.0.1:5000/tt.js"}}},
             {"name":"ResourceFetcher::requestResource","ph":"X","pid":1,"tid":2,"ts":11000,"dur":1500,"args":{"url":"http://127.0.0.1:5000/collect"}},
             {"name":"FunctionCall","ph":"X","pid":1,"tid":2,"ts":20000,"dur":9000,"tdur":9000,"args":{"data":{"url":"http://127.0.0.1:6000/page.js"}}},
             {"name":"CookieJar::Cookies","ph":"X","pid":1,"tid":2,"ts":21000,"dur":2000,"args":{}},
             {"name":"v8.compile","ph":"X","pid":1,"tid":3,"ts":500,"dur":7000,"args":{"data":{"url":"http://127.0.0.1:5000/tt.js"}}}
            ]}
            """;
        var cost = TagTrace.Measure(Encoding.UTF8.GetBytes(trace), Tag);
        Assert.Multiple(() =>
        {
            Assert.That(cost.ScriptWall, Is.EqualTo(3.0), "the script's run; the compile inside it is not counted twice");
            Assert.That(cost.ScriptCpu, Is.EqualTo(2.0));
            Assert.That(cost.TotalWall, Is.EqualTo(7.0), "plus the later call into the tag; not the page's own script, not a worker thread");
            Assert.That(cost.TotalCpu, Is.EqualTo(3.0));
            Assert.That(cost.Parts, Is.EquivalentTo(new Dictionary<string, double>
            {
                ["script run: compiling"] = 0.5,
                ["script run: document.cookie reads"] = 1.0,
                ["later tasks: starting the beacon's request (fetch)"] = 1.5,
            }));
        });
    }

    [Test]
    public void A_trace_without_the_tag_costs_nothing()
    {
        var cost = TagTrace.Measure(Encoding.UTF8.GetBytes("""[{"name":"thread_name","ph":"M","pid":1,"tid":2,"args":{"name":"CrRendererMain"}}]"""), Tag);
        Assert.That((cost.ScriptWall, cost.TotalWall, cost.Parts.Count), Is.EqualTo((0.0, 0.0, 0)));
    }
}
