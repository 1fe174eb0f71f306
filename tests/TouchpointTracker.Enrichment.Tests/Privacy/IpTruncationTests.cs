using System.Net;
using TouchpointTracker.Enrichment.Privacy;

namespace TouchpointTracker.Enrichment.Tests.Privacy;

public class IpTruncationTests
{
    [TestCase("203.0.113.77", "203.0.113.0")]
    [TestCase("8.8.8.8", "8.8.8.0")]
    [TestCase("255.255.255.255", "255.255.255.0")]
    [TestCase("::ffff:203.0.113.77", "203.0.113.0")]
    [TestCase("2001:db8:85a3:8d3:1319:8a2e:370:7348", "2001:db8:85a3::")]
    [TestCase("2a01:e0a:1ff:ffff:ffff:ffff:ffff:ffff", "2a01:e0a:1ff::")]
    [TestCase("fe80::1%3", "fe80::")]
    [TestCase("::1", "::")]
    public void Truncates(string ip, string expected)
    {
        Assert.That(IpTruncation.TruncateToString(IPAddress.Parse(ip)), Is.EqualTo(expected));
    }

    [Test]
    public void Null_stays_null()
    {
        Assert.That(IpTruncation.Truncate(null), Is.Null);
    }
}
