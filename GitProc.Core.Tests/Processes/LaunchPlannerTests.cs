using System.Runtime.Versioning;
using GitProc.Processes;
using GitProc.UnitFiles;

namespace GitProc.Core.Tests.Processes;

/// <summary>What a launch executes, planned without starting any process.</summary>
[TestFixture]
[Platform(Include = "Linux")]
[SupportedOSPlatform("linux")]
public sealed class LaunchPlannerTests
{
    private static readonly UserAccount Daemon = new("svc", 1000, 1000, "/home/svc", "/bin/bash", InDatabase: true);

    private string _dir = null!;

    [SetUp]
    public void SetUp() => _dir = Directory.CreateTempSubdirectory("gitproc-planner-").FullName;

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    [Test]
    public void A_plain_command_is_spawned_directly_with_its_program_resolved_through_PATH()
    {
        var plan = Plan(Unit("web", "true", "--flag"));

        Assert.That(plan.Program, Is.EqualTo(plan.Executable));
        Assert.That(plan.Executable, Does.EndWith("/true"));
        Assert.That(Path.IsPathRooted(plan.Executable), Is.True);
        Assert.That(plan.Arguments, Is.EqualTo(new[] { "true", "--flag" }), "argv[0] stays as written when nothing wraps the command");
        Assert.That(plan.WorkingDirectory, Is.EqualTo(_dir));
    }

    [Test]
    public void The_environment_is_built_clean_with_the_files_over_the_unit_and_the_supervisors_variables_over_both()
    {
        var unit = Unit("web", "/bin/true") with
        {
            Environment = new Dictionary<string, string> { ["SHARED"] = "unit", ["ONLY_UNIT"] = "u", ["NAME"] = "%n" },
        };
        var launch = Launch(unit) with
        {
            Environment = new Dictionary<string, string> { ["NOTIFY_SOCKET"] = "/run/n.sock", ["FROM_FILE"] = "supervisor" },
        };
        var fromFiles = new Dictionary<string, string> { ["SHARED"] = "file", ["FROM_FILE"] = "file" };
        Environment.SetEnvironmentVariable("GITPROC_TEST_SHOULD_NOT_LEAK", "leak");

        var environment = LaunchPlanner.Plan(launch, fromFiles, Host()).Environment;

        Assert.Multiple(() =>
        {
            Assert.That(environment["PATH"], Is.EqualTo("/usr/bin:/bin"));
            Assert.That((environment["HOME"], environment["USER"], environment["LOGNAME"], environment["SHELL"]), Is.EqualTo(("/home/svc", "svc", "svc", "/bin/bash")));
            Assert.That(environment["SHARED"], Is.EqualTo("file"), "systemd.exec(5): EnvironmentFile= overrides Environment=");
            Assert.That(environment["ONLY_UNIT"], Is.EqualTo("u"));
            Assert.That(environment["NAME"], Is.EqualTo("web.service"), "specifiers are expanded in Environment=");
            Assert.That(environment["FROM_FILE"], Is.EqualTo("supervisor"));
            Assert.That(environment["NOTIFY_SOCKET"], Is.EqualTo("/run/n.sock"));
            Assert.That(environment, Does.Not.ContainKey("GITPROC_TEST_SHOULD_NOT_LEAK"));
        });
    }

    [Test]
    public void Variables_of_the_environment_and_specifiers_are_expanded_in_the_arguments()
    {
        var unit = Unit("web@blue", "/usr/bin/printf", "$A", "${A}", "pre${B}post", "$$A", "$MISSING", "%n", "%i", "$MAINPID") with
        {
            Environment = new Dictionary<string, string> { ["A"] = "one  two", ["B"] = "x" },
        };

        var plan = LaunchPlanner.Plan(Launch(unit).WithEnvironment(new Dictionary<string, string> { ["MAINPID"] = "42" }), null, Host());

        Assert.That(plan.Arguments, Is.EqualTo(new[] { "/usr/bin/printf", "one", "two", "one  two", "prexpost", "$A", "web@blue.service", "blue", "42" }));
    }

    [Test]
    public void Cgroups_and_pid_variables_go_through_the_shim_which_execs_the_resolved_program()
    {
        var launch = Launch(Unit("web", "true", "a b")) with
        {
            CgroupProcsFiles = ["/sys/fs/cgroup/x/cgroup.procs"],
            CgroupJoinFiles = ["/sys/fs/cgroup/memory/x/cgroup.procs", "/sys/fs/cgroup/pids/x/cgroup.procs"],
            PidVariables = ["SYSTEMD_EXEC_PID"],
        };

        var plan = LaunchPlanner.Plan(launch, null, Host());

        Assert.That(plan.Program, Is.EqualTo(LaunchPlanner.Shell));
        Assert.That(plan.Arguments, Is.EqualTo(new[]
        {
            "/bin/sh", "-c", "SYSTEMD_EXEC_PID=$$; export SYSTEMD_EXEC_PID; " + LaunchPlanner.ShimScript, "gitproc-exec", "2",
            "/sys/fs/cgroup/memory/x/cgroup.procs", "/sys/fs/cgroup/pids/x/cgroup.procs", plan.Executable, "a b",
        }));
    }

    [Test]
    public void A_service_open_file_limit_other_than_the_daemons_is_set_by_the_shim()
    {
        var unit = Unit("web", "/bin/true") with { LimitNOFILE = new ProcessLimit(512, 512) };

        var plan = LaunchPlanner.Plan(Launch(unit), null, Host() with { OpenFileLimit = new ProcessLimit(1024, 4096) });

        Assert.That(plan.Arguments.Take(4), Is.EqualTo(new[]
        {
            "/bin/sh", "-c", "ulimit -S -n 512 && ulimit -H -n 512 || exit 205; " + LaunchPlanner.ShimScript, "gitproc-exec",
        }));
    }

    [Test]
    public void A_user_switch_goes_through_setpriv_with_the_users_ids_and_home()
    {
        Assume.That(File.Exists(LaunchPlanner.SetPriv), $"needs {LaunchPlanner.SetPriv} (util-linux)");
        var nobody = UserAccount.Find("nobody");
        Assume.That(nobody, Is.Not.Null, "needs a user named nobody");

        var plan = LaunchPlanner.Plan(Launch(Unit("web", "/bin/true") with { User = "nobody" }), null, Host() with { IsPrivileged = true });

        Assert.That(plan.Program, Is.EqualTo(LaunchPlanner.SetPriv));
        Assert.That(plan.Arguments, Is.EqualTo(new[]
        {
            LaunchPlanner.SetPriv, $"--reuid={nobody!.Uid}", $"--regid={nobody.Gid}", "--init-groups", "--", "/bin/true",
        }));
        Assert.That(plan.Environment["HOME"], Is.EqualTo(nobody.Home));
        Assert.That(plan.Environment["USER"], Is.EqualTo("nobody"));
    }

    [Test]
    public void Each_way_a_launch_cannot_happen_is_an_error_naming_what_to_change()
    {
        var plain = Path.Join(_dir, "plain.txt");
        File.WriteAllText(plain, "not a program");
        var gone = Path.Join(_dir, "gone");

        Assert.Multiple(() =>
        {
            Assert.That(Error(Unit("web")), Is.EqualTo("Cannot start web: (empty command): the command is empty"));
            Assert.That(Error(Unit("web", "/usr/bin/nope")), Is.EqualTo("Cannot start web: /usr/bin/nope: no such file"));
            Assert.That(Error(Unit("web", plain)), Does.StartWith($"Cannot start web: {plain}: is not executable"));
            Assert.That(Error(Unit("web", "gitproc-no-such-program")), Is.EqualTo("Cannot start web: gitproc-no-such-program: no such executable in PATH (/usr/bin:/bin)"));
            Assert.That(Error(Unit("web", "/bin/true") with { WorkingDirectory = gone }), Does.Contain($"working directory {gone} does not exist (WorkingDirectory= in web.service)"));
            Assert.That(Error(Unit("web", "/bin/true") with { User = "gitproc-no-such-user" }), Is.EqualTo("Cannot start web: /bin/true: user gitproc-no-such-user does not exist (User=gitproc-no-such-user)"));
            Assert.That(Error(Unit("web", "/bin/true") with { User = "root" }), Does.StartWith("Cannot start web: /bin/true: switching to user root needs root"));
        });
    }

    [Test]
    public void An_optional_missing_working_directory_falls_back_to_the_default()
    {
        var plan = Plan(Unit("web", "/bin/true") with { WorkingDirectory = "-" + Path.Join(_dir, "gone") });

        Assert.That(plan.WorkingDirectory, Is.EqualTo(_dir));
    }

    private static LaunchHost Host() =>
        new([new("PATH", "/usr/bin:/bin")], Daemon, Daemon.Uid, Daemon.Gid, IsPrivileged: false, FileDescriptorLimit.ServiceDefault, MayRaiseHardLimit: false);

    private static UnitFile Unit(string name, params string[] argv) => new()
    {
        Name = name,
        FileName = name + ".service",
        ExecStartCommands = [new UnitCommand(string.Join(' ', argv), argv, false)],
    };

    private ProcessLaunch Launch(UnitFile unit) => new(unit, unit.ExecStartCommands[0]) { DefaultWorkingDirectory = _dir };

    private LaunchPlan Plan(UnitFile unit) => LaunchPlanner.Plan(Launch(unit), null, Host());

    private string Error(UnitFile unit) => Assert.Throws<ProcessStartException>(() => Plan(unit))!.Message;
}
