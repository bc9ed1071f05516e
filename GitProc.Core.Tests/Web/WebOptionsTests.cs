using GitProc.Web;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace GitProc.Core.Tests.Web;

public sealed class WebOptionsTests
{
    [Test]
    public void The_status_page_is_off_by_default_and_shows_200_lines()
    {
        var options = new GitProcOptions();
        Assert.That(options.Web.Listen, Is.Null);
        Assert.That(options.Web.LogLines, Is.EqualTo(200));
    }

    [Test]
    public void An_invalid_Web_Listen_or_LogLines_fails_validation_naming_each_setting_and_value()
    {
        using var provider = new ServiceCollection()
            .AddGitProc(o => o.Web = new WebOptions { Listen = "status.example:9102", LogLines = 0 })
            .BuildServiceProvider();

        var failure = Assert.Throws<OptionsValidationException>(() => _ = provider.GetRequiredService<IOptions<GitProcOptions>>().Value);
        Assert.That(failure!.Message, Does.Contain("Web.Listen must be HOST:PORT such as 127.0.0.1:9102").And.Contain("(was 'status.example:9102')"));
        Assert.That(failure.Message, Does.Contain("Web.LogLines must be from 1 to 10000 (was 0)"));
    }
}
