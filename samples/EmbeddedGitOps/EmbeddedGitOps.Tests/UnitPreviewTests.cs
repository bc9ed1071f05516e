using System.Text;
using GitProc.Dependencies;
using GitProc.Git;
using GitProc.UnitFiles;
using Moq;

namespace EmbeddedGitOps.Tests;

[FixtureLifeCycle(LifeCycle.InstancePerTestCase)]
public sealed class UnitPreviewTests
{
    private const string Commit = "0123456789abcdef0123456789abcdef01234567";

    private readonly Mock<IGitIntegration> _git = new();
    private readonly Mock<IUnitFileParser> _parser = new(MockBehavior.Strict);
    private readonly Mock<IDependencyResolver> _resolver = new();

    private UnitPreview Preview => new(_git.Object, _parser.Object, _resolver.Object);

    [Test]
    public async Task Parses_every_unit_of_the_branch_tip_and_reports_their_start_order()
    {
        _git.Setup(g => g.GetBranchTipAsync(null, It.IsAny<CancellationToken>())).ReturnsAsync(Commit);
        GivenFiles(("db.service", "db text"), ("web.service", "web text"));
        var db = Unit("db");
        var web = Unit("web", "Requires=db.service");
        _parser.Setup(p => p.Parse("db.service", "db text")).Returns(db);
        _parser.Setup(p => p.Parse("web.service", "web text")).Returns(web);
        _resolver.Setup(r => r.GetStartOrder(null)).Returns(["db", "web"]);

        var result = await Preview.PreviewAsync();

        Assert.Multiple(() =>
        {
            Assert.That(result.Commit, Is.EqualTo(Commit));
            Assert.That(result.StartOrder, Is.EqualTo(new[] { "db", "web" }));
            Assert.That(result.Problems, Is.Empty);
        });
        _resolver.Verify(r => r.AddUnit(db), Times.Once);
        _resolver.Verify(r => r.AddUnit(web), Times.Once);
    }

    [Test]
    public async Task Reports_every_unit_that_does_not_parse_and_orders_nothing()
    {
        GivenFiles(("a.service", "a"), ("b.service", "b"), ("c.service", "c"));
        _parser.Setup(p => p.Parse("a.service", "a")).Throws(new UnitFileParseException("a.service", 3, "Restart", "sometimes", "not a restart policy"));
        _parser.Setup(p => p.Parse("b.service", "b")).Returns(Unit("b"));
        _parser.Setup(p => p.Parse("c.service", "c")).Throws(new UnitFileParseException("c.service", 1, null, null, "no [Service] section"));

        var result = await Preview.PreviewAsync(Commit);

        Assert.Multiple(() =>
        {
            Assert.That(result.StartOrder, Is.Empty);
            Assert.That(result.Problems, Has.Count.EqualTo(2));
            Assert.That(result.Problems[0], Does.Contain("a.service").And.Contain("sometimes"));
            Assert.That(result.Problems[1], Does.Contain("c.service"));
        });
        _resolver.Verify(r => r.GetStartOrder(It.IsAny<IEnumerable<string>?>()), Times.Never);
    }

    [Test]
    public async Task Reports_a_dependency_cycle_as_a_problem()
    {
        GivenFiles(("a.service", "a"));
        _parser.Setup(p => p.Parse("a.service", "a")).Returns(Unit("a"));
        _resolver.Setup(r => r.GetStartOrder(null)).Throws(new DependencyCycleException(["a", "b"]));

        var result = await Preview.PreviewAsync(Commit);

        Assert.That(result.Problems, Is.EqualTo(new[] { new DependencyCycleException(["a", "b"]).Message }));
    }

    [Test]
    public async Task A_branch_without_commits_has_nothing_to_preview()
    {
        _git.Setup(g => g.GetBranchTipAsync(null, It.IsAny<CancellationToken>())).ReturnsAsync((string?)null);

        var result = await Preview.PreviewAsync();

        Assert.Multiple(() =>
        {
            Assert.That(result.Commit, Is.Null);
            Assert.That(result.StartOrder, Is.Empty);
            Assert.That(result.Problems, Is.Empty);
        });
        _git.Verify(g => g.ReadUnitFilesAsync(It.IsAny<string>(), It.IsAny<CancellationToken>()), Times.Never);
    }

    private void GivenFiles(params (string Name, string Text)[] files) =>
        _git.Setup(g => g.ReadUnitFilesAsync(Commit, It.IsAny<CancellationToken>()))
            .ReturnsAsync(files.Select(f => new GitUnitFileContent(f.Name, "blob-" + f.Name, Encoding.UTF8.GetBytes(f.Text))).ToList());

    // Real units from the package's static parser: the mock parser hands them out.
    private static UnitFile Unit(string name, string unitSection = "") => UnitFileParser.Parse(name + ".service", $"""
        [Unit]
        {unitSection}

        [Service]
        ExecStart=/bin/true
        """);
}
