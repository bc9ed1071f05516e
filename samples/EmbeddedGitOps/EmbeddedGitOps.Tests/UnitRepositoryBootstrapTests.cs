using GitProc.Git;
using Microsoft.Extensions.Logging.Abstractions;
using Moq;

namespace EmbeddedGitOps.Tests;

public sealed class UnitRepositoryBootstrapTests
{
    [Test]
    public async Task Creates_the_repository_when_there_is_none()
    {
        var git = new Mock<IGitIntegration>();
        git.Setup(g => g.RepositoryPath).Returns("/srv/app/units");
        git.Setup(g => g.GetBranchTipAsync(null, It.IsAny<CancellationToken>())).ThrowsAsync(new GitException("There is no Git repository at /srv/app/units."));

        await new UnitRepositoryBootstrap(git.Object, NullLogger<UnitRepositoryBootstrap>.Instance).StartAsync(CancellationToken.None);

        git.Verify(g => g.InitAsync(null, It.IsAny<CancellationToken>()), Times.Once);
    }

    [TestCase(null, TestName = "Leaves_an_empty_repository_alone")]
    [TestCase("4b825dc642cb6eb9a060e54bf8d69288fbee4904", TestName = "Leaves_a_repository_with_commits_alone")]
    public async Task Leaves_an_existing_repository_alone(string? tip)
    {
        var git = new Mock<IGitIntegration>();
        git.Setup(g => g.GetBranchTipAsync(null, It.IsAny<CancellationToken>())).ReturnsAsync(tip);

        await new UnitRepositoryBootstrap(git.Object, NullLogger<UnitRepositoryBootstrap>.Instance).StartAsync(CancellationToken.None);

        git.Verify(g => g.InitAsync(It.IsAny<string?>(), It.IsAny<CancellationToken>()), Times.Never);
    }
}
