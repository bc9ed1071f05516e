using System.Text;
using GitProc.Core.Tests.EndToEnd;
using GitProc.Core.Tests.TestSupport;
using GitProc.UnitFiles;
using GitProc.Validation;
using Microsoft.Extensions.DependencyInjection;

namespace GitProc.Core.Tests.Validation;

/// <summary>
/// The one check the daemon and <c>gitproc check</c> share: every file of a set parsed, every error of every file kept,
/// then the set's dependencies, each finding placed at its file and line.
/// </summary>
public sealed class UnitCheckTests
{
    private const string Good = "[Service]\nExecStart=/usr/bin/app\n";

    private string _dir = null!;

    [SetUp]
    public void SetUp() => _dir = Directory.CreateTempSubdirectory("gitproc-check-").FullName;

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    private static IUnitCheck Create(Action<GitProcOptions>? configure = null, string? repository = null)
    {
        var provider = new ServiceCollection().AddGitProc(o =>
        {
            if (repository is not null)
            {
                o.RepositoryPath = repository;
            }

            configure?.Invoke(o);
        }).BuildServiceProvider();
        return provider.GetRequiredService<IUnitCheck>();
    }

    private static UnitSource Source(string name, string content) => new(name, Encoding.UTF8.GetBytes(content));

    private static string[] Lines(IEnumerable<UnitDiagnostic> diagnostics) => [.. diagnostics.Select(d => d.ToString())];

    private string Write(string name, string content)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, content);
        return path;
    }

    [Test]
    public void Every_error_of_every_file_is_reported_in_file_then_line_order()
    {
        var result = Create().Check(
        [
            Source("api.service", "[Service]\nExecStart=/usr/bin/api\nHealthCheckUrl=http://127.0.0.1:8080/health\nMemoryMax=lots\n"),
            Source("ok.service", Good + "ProtectSystem=strict\n"),
            Source("web.service", "[Unit]\nDescription=Web\n[Service]\nExecStart=/usr/bin/web\nRestrat=always\nRestart always\n"),
        ]);

        Assert.That(result.IsValid, Is.False);
        Assert.That(result.FileCount, Is.EqualTo(3));
        Assert.That(Lines(result.Errors), Is.EqualTo(new[]
        {
            "api.service:3: HealthCheckUrl: HealthCheckUrl= is not a systemd or GitProc key in [Service]; did you mean HealthCheckURL=? Keys are case-sensitive.",
            "api.service:4: MemoryMax: The value 'lots' is not a memory size; write bytes with an optional K, M, G, T or P suffix (base 1024) such as 512M or 2G, a percentage such as 50%, or infinity.",
            "web.service:5: Restrat: Restrat= is not a systemd or GitProc key in [Service]; did you mean Restart=?",
            "web.service:6: 'Restart always': The line is neither a [Section] header, a Key=value assignment nor a comment (comments start with '#' or ';'); add the missing '=' or comment it out.",
        }));
        Assert.That(Lines(result.Warnings), Is.EqualTo(new[]
        {
            "ok.service:3: ProtectSystem: ProtectSystem= in [Service] is a systemd setting GitProc does not act on; it is kept but ignored.",
        }));
        Assert.That(result.Units.Select(u => u.Name), Is.EqualTo(new[] { "ok" }), "the units that parsed are still returned");
    }

    [Test]
    public void A_dependency_cycle_is_reported_together_with_the_other_files_errors()
    {
        var result = Create().Check(
        [
            Source("a.service", "[Unit]\nDescription=A\nAfter=b\n" + Good),
            Source("b.service", "[Unit]\nRequires=a.service\n" + Good),
            Source("c.service", "[Service]\nExecStart=/usr/bin/c\nRestart=sometimes\n"),
            Source("d.service", "[Unit]\nRequires=gone\n" + Good),
        ]);

        var errors = Lines(result.Errors);
        Assert.That(errors, Has.Length.EqualTo(3), string.Join("\n", errors));
        Assert.That(errors[0], Does.StartWith("a.service:3: After: Dependency cycle: ").And.Contain("a").And.Contain("b"));
        Assert.That(errors[1], Does.StartWith("c.service:3: Restart: The value 'sometimes' is not a restart policy"));
        Assert.That(errors[2], Does.StartWith("d.service:2: Requires: Service 'd' requires 'gone' (Requires=gone in d.service), but gone.service is not in the repository."));
    }

    [Test]
    public void A_required_service_whose_file_is_broken_is_broken_not_missing()
    {
        var result = Create().Check(
        [
            Source("db.service", "[Service]\nExecStart=/usr/bin/db\nRestrat=always\n"),
            Source("web.service", "[Unit]\nRequires=db\n" + Good),
        ]);
        Assert.That(Lines(result.Errors), Has.Length.EqualTo(1).And.All.StartsWith("db.service:3: Restrat:"));
    }

    [Test]
    public void Dependencies_on_what_is_not_a_service_are_warnings_at_their_line()
    {
        var result = Create().Check([Source("web.service", "[Unit]\nDescription=x\nAfter=network.target cache\nWants=metrics\n" + Good)]);
        Assert.That(result.IsValid, Is.True);
        Assert.That(result.Warnings.Select(w => (w.File, w.Line, w.Key)), Is.EqualTo(new (string, int, string?)[]
        {
            ("web.service", 3, "After"), ("web.service", 3, "After"), ("web.service", 4, "Wants"),
        }));
    }

    [Test]
    public void The_same_target_under_Wants_and_After_is_placed_at_each_entry()
    {
        var result = Create().Check([Source("web.service", "[Unit]\nWants=network-online.target\nAfter=network-online.target\n" + Good)]);
        Assert.That(result.Warnings.Select(w => (w.Line, w.Key)), Is.EquivalentTo(new (int, string?)[] { (2, "Wants"), (3, "After") }));
    }

    [Test]
    public void Unknown_keys_are_warnings_with_UnknownKeys_Warn_and_the_set_is_valid()
    {
        var result = Create(o => o.UnitFiles.UnknownKeys = UnknownKeyHandling.Warn)
            .Check([Source("web.service", Good + "Restrat=always\n")]);
        Assert.That(result.IsValid, Is.True);
        Assert.That(Lines(result.Warnings).Single(), Does.StartWith("web.service:3: Restrat: Restrat= is not a systemd or GitProc key in [Service]; did you mean Restart=?"));
    }

    [Test]
    public void The_exception_for_an_invalid_set_counts_and_lists_every_error_one_per_line()
    {
        var result = Create().Check([Source("a.service", Good + "Restrat=always\n"), Source("b.service", "[Service]\n")]);
        var exception = new UnitCheckException(result);
        Assert.That(exception.Message.Split('\n'), Is.EqualTo(new[] { "2 errors:" }.Concat(Lines(result.Errors))));
        Assert.That((exception.FileName, exception.Line), Is.EqualTo(("a.service", 3)));

        var single = new UnitCheckException(Create().Check([Source("a.service", Good + "Restrat=always\n")]));
        Assert.That(single.Message, Is.EqualTo("a.service:3: Restrat: Restrat= is not a systemd or GitProc key in [Service]; did you mean Restart=?"));
    }

    [Test]
    public async Task Paths_are_files_or_directories_of_service_files_shown_as_given()
    {
        Write("web.service", Good + "Restrat=always\n");
        Write("db.service", Good);
        Write("README.md", "not a unit");
        var extra = Directory.CreateDirectory(Path.Combine(_dir, "sub")).FullName;
        File.WriteAllText(Path.Combine(extra, "nested.service"), "[Service]\n");

        var result = await Create().CheckPathsAsync([_dir]);

        // Only the top level, as in a commit; README.md is not a unit file.
        Assert.That(result.FileCount, Is.EqualTo(2));
        Assert.That(Lines(result.Errors), Is.EqualTo(new[]
        {
            $"{_dir}/web.service:3: Restrat: Restrat= is not a systemd or GitProc key in [Service]; did you mean Restart=?",
        }));
    }

    [Test]
    public async Task The_current_directory_shows_bare_file_names_as_a_commit_would()
    {
        Write("web.service", Good + "Restrat=always\n");
        var previous = Environment.CurrentDirectory;
        Environment.CurrentDirectory = _dir;
        try
        {
            var result = await Create().CheckPathsAsync(["."]);
            Assert.That(result.Errors.Single().File, Is.EqualTo("web.service"));
        }
        finally
        {
            Environment.CurrentDirectory = previous;
        }
    }

    [Test]
    public async Task Missing_misnamed_duplicated_and_linked_files_are_reported_by_name()
    {
        var web = Write("web.service", Good);
        var other = Directory.CreateDirectory(Path.Combine(_dir, "other")).FullName;
        var duplicate = Path.Combine(other, "web.service");
        File.WriteAllText(duplicate, Good);
        var misnamed = Write("web.unit", Good);
        var linkDir = Directory.CreateDirectory(Path.Combine(_dir, "linked")).FullName;
        File.CreateSymbolicLink(Path.Combine(linkDir, "alias.service"), web);
        var missing = Path.Combine(_dir, "gone.service");

        var result = await Create().CheckPathsAsync([web, web, duplicate, misnamed, missing, linkDir]);

        Assert.That(Lines(result.Errors), Is.EqualTo(new[]
        {
            $"{duplicate}: The service 'web' is also defined by {web}; the daemon reads one unit file per service, so keep only one.",
            $"{misnamed}: 'web.unit' is not a service unit: GitProc only runs files named NAME.service; rename it or move it out of the repository.",
            $"{missing}: There is no such file or directory.",
        }));
        Assert.That(Lines(result.Warnings), Is.EqualTo(new[]
        {
            $"{linkDir}/alias.service: The file is a symbolic link, which GitProc ignores in a commit, so it would not run; commit the unit file itself.",
        }));
    }

    [Test]
    public async Task A_directory_without_unit_files_is_a_warning()
    {
        var result = await Create().CheckPathsAsync([_dir]);
        Assert.That(result.IsValid, Is.True);
        Assert.That(Lines(result.Warnings), Is.EqualTo(new[] { $"{_dir}: The directory has no unit files (NAME.service); a commit of it would stop every service." }));
    }

    [Test]
    [Platform(Include = "Linux")]
    public async Task A_commit_is_checked_from_Git_not_from_the_working_tree()
    {
        using var repo = new TempGitRepository();
        repo.InitWithCli();
        var bad = repo.Commit("typo", ("web.service", Good + "Restrat=always\n"), ("db.service", Good));
        File.WriteAllText(Path.Combine(repo.Path, "web.service"), Good);
        File.WriteAllText(Path.Combine(repo.Path, "extra.service"), "[Service]\n");

        var result = await Create(repository: repo.Path).CheckCommitAsync(bad[..7]);

        Assert.That(result.FileCount, Is.EqualTo(2));
        Assert.That(Lines(result.Errors), Is.EqualTo(new[] { "web.service:3: Restrat: Restrat= is not a systemd or GitProc key in [Service]; did you mean Restart=?" }));
    }

    /// <summary>
    /// samples/units/examples is what operators copy (samples/units/README.md says they pass a strict check): each file
    /// must stay valid as the parser moves, and must still show the case it is there for.
    /// </summary>
    [Test]
    [Platform(Include = "Linux")]
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public async Task The_example_units_in_samples_pass_a_strict_check_and_show_their_case()
    {
        var folder = Path.Combine(GitProcSandbox.SourceRoot, "samples", "units", "examples");
        var files = Directory.GetFiles(folder, "*.service").Select(Path.GetFileNameWithoutExtension).ToList();

        var result = await Create().CheckPathsAsync([folder]);

        Assert.That(Lines(result.Errors.Concat(result.Warnings)), Is.Empty, "errors and warnings: check --strict would fail");
        Assert.That(result.Units.Select(u => u.Name), Is.EquivalentTo(files));
        var units = result.Units.ToDictionary(u => u.Name);
        Assert.Multiple(() =>
        {
            Assert.That(units["webapp"].HealthCheckUrl, Is.Not.Null);
            Assert.That(units["webapp"].MemoryLimit, Is.EqualTo(256L * 1024 * 1024));
            Assert.That(units["queue-worker"].Restart, Is.EqualTo(RestartPolicy.OnFailure));
            Assert.That(units["queue-worker"].Requires, Is.EqualTo(new[] { "webapp" }));
            Assert.That(units["queue-worker"].After, Is.EquivalentTo(new[] { "webapp", "migrate" }));
            Assert.That(units["notify-app"].Type, Is.EqualTo(ServiceType.Notify));
            Assert.That(units["nginx"].Type, Is.EqualTo(ServiceType.Forking));
            Assert.That(units["nginx"].PidFile, Is.EqualTo("/run/nginx.pid"));
            Assert.That(units["migrate"].Type, Is.EqualTo(ServiceType.Oneshot));
            Assert.That(units["migrate"].RemainAfterExit, Is.True);
            Assert.That(units["envfile-app"].EnvironmentFiles.Select(f => (f.Path, f.Optional)), Is.EqualTo(new[]
            {
                ("/etc/default/envfile-app", false),
                ("/etc/default/envfile-app.local", true),
            }));
        });
    }
}
