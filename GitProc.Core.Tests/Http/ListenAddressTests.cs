using System.Net;
using GitProc.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace GitProc.Core.Tests.Http;

public sealed class ListenAddressTests
{
    [TestCase("127.0.0.1:9101", "127.0.0.1", 9101)]
    [TestCase("9101", "127.0.0.1", 9101)]
    [TestCase(" localhost:9101 ", "127.0.0.1", 9101)]
    [TestCase("0.0.0.0:80", "0.0.0.0", 80)]
    [TestCase("[::1]:9101", "::1", 9101)]
    [TestCase("[::]:65535", "::", 65535)]
    public void Parses_host_and_port_or_a_port_alone_on_loopback(string text, string address, int port)
    {
        var endPoint = ListenAddress.Parse(text, out var error);
        Assert.That(error, Is.Null);
        Assert.That(endPoint, Is.EqualTo(new IPEndPoint(IPAddress.Parse(address), port)));
    }

    [TestCase(":9101", "give the host too")]
    [TestCase("127.0.0.1:0", "from 1 to 65535 (was '0')")]
    [TestCase("127.0.0.1:99999", "from 1 to 65535 (was '99999')")]
    [TestCase("127.0.0.1:http", "(was 'http')")]
    [TestCase("example.com:9101", "an IP address or localhost (was 'example.com')")]
    [TestCase("::1:9101", "brackets")]
    [TestCase("[::1]9101", "brackets")]
    [TestCase("", "(was '')")]
    public void Refuses_what_is_not_an_address_saying_why(string text, string because)
    {
        Assert.That(ListenAddress.Parse(text, out var error), Is.Null);
        Assert.That(error, Does.Contain(because));
    }

    [Test]
    public void An_invalid_Metrics_Listen_fails_validation_naming_the_setting_and_the_value()
    {
        using var provider = new ServiceCollection()
            .AddGitProc(o => o.Metrics.Listen = "metrics.example:9101")
            .BuildServiceProvider();

        var failure = Assert.Throws<OptionsValidationException>(() => _ = provider.GetRequiredService<IOptions<GitProcOptions>>().Value);
        Assert.That(failure!.Message, Does.Contain("Metrics.Listen must be HOST:PORT").And.Contain("(was 'metrics.example:9101')"));
    }

    [Test]
    public void Metrics_are_off_by_default() =>
        Assert.That(new GitProcOptions().Metrics.Listen, Is.Null);
}
