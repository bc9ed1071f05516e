using System.Globalization;
using GitProc.Logs;
using GitProc.Supervision;
using GitProc.UnitFiles;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

// GitProc as a library: an ordinary .NET app registers the supervisor with AddGitProc(), hands it units (here parsed
// from strings; they could come from anywhere), and drives it through ISupervisor. No Git, no socket, no daemon.
// It starts two services (the second depends on the first), shows their status and logs, then stops them.
if (!OperatingSystem.IsLinux())
{
    Console.Error.WriteLine("GitProc supervises processes on Linux only.");
    return 1;
}

// State and logs in a scratch directory, so the sample never touches the default locations (CONTRACT §5).
var scratch = Directory.CreateTempSubdirectory("gitproc-embedded-");
try
{
    var builder = Host.CreateApplicationBuilder(args);
    builder.Logging.AddSimpleConsole(o => o.SingleLine = true);
    builder.Services.AddGitProc(options =>
    {
        options.RepositoryPath = scratch.FullName; // services' default working directory
        options.StatePath = Path.Combine(scratch.FullName, "state.json");
        options.LogDirectory = Path.Combine(scratch.FullName, "logs");
        options.ResourceControl.CgroupRoot = "gitproc-embedded-sample"; // apart from a gitproc daemon's cgroups (as root)
    });

    using var host = builder.Build();
    await host.StartAsync(); // validates GitProcOptions

    var supervisor = host.Services.GetRequiredService<ISupervisor>();
    var logs = host.Services.GetRequiredService<IServiceLogs>();
    await supervisor.InitializeAsync();

    UnitFile[] units =
    [
        UnitFileParser.Parse("clock.service", """
            [Unit]
            Description=Counts every second

            [Service]
            ExecStart=/bin/sh -c 'n=0; while :; do n=$((n+1)); echo "tick $n"; sleep 1; done'
            Restart=always
            """),
        UnitFileParser.Parse("reporter.service", """
            [Unit]
            Description=Reports every two seconds; starts after clock
            Requires=clock.service
            After=clock.service

            [Service]
            ExecStart=/bin/sh -c 'n=0; while :; do n=$((n+1)); echo "$GREETING: report $n"; sleep 2; done'
            Environment="GREETING=hello"
            Restart=on-failure
            """),
    ];

    var applied = await supervisor.ApplyAsync(units);
    Console.WriteLine($"Applied: started {string.Join(", ", applied.Started)}");
    PrintStatus(supervisor);

    Console.WriteLine("Letting them run for 4 seconds...");
    await Task.Delay(TimeSpan.FromSeconds(4));

    foreach (var service in new[] { "clock", "reporter" })
    {
        Console.WriteLine($"Last lines of {service}'s log:");
        foreach (var line in await logs.ReadLastLinesAsync(service, 3))
        {
            Console.WriteLine("  " + line);
        }
    }

    await supervisor.StopAllAsync(); // reverse dependency order: reporter, then clock
    Console.WriteLine("Stopped every service.");
    PrintStatus(supervisor);

    await host.StopAsync();
    return 0;
}
finally
{
    scratch.Delete(recursive: true);
}

static void PrintStatus(ISupervisor supervisor)
{
    foreach (var s in supervisor.ListServices())
    {
        var pid = s.Pid is { } p ? p.ToString(CultureInfo.InvariantCulture) : "-";
        Console.WriteLine($"  {s.Name,-9} {s.Status.ToString().ToLowerInvariant(),-8} pid {pid,-7} {s.SubState,-8} {s.Description}");
    }
}
