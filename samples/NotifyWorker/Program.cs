using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Hosting.Systemd;
using NotifyWorker;

// A worker for GitProc's Type=notify (docs/readiness.md). Usage:
//   NotifyWorker [--ready-delay MS] [--stop-pinging-file PATH]
// --ready-delay: how long start-up takes before the host is ready (default 1000 ms).
// --stop-pinging-file: while this file exists the worker stops pinging the watchdog (a hung worker, for tests);
//   it is removed at start, so the restarted worker pings again.
var settings = WorkerSettings.Parse(args);

var builder = Host.CreateDefaultBuilder(args)
    .UseSystemd()
    .ConfigureServices(services =>
    {
        services.AddSingleton(settings);

        // UseSystemd() only switches on when the parent process is named "systemd" (or the worker is PID 1 in a
        // container); under another supervisor that speaks the protocol, such as GitProc, NOTIFY_SOCKET is what
        // says so, and the same lifetime and notifier are registered here.
        if (!SystemdHelpers.IsSystemdService() && Environment.GetEnvironmentVariable("NOTIFY_SOCKET") is { Length: > 0 })
        {
            services.AddSingleton<ISystemdNotifier, SystemdNotifier>();
            services.AddSingleton<IHostLifetime, SystemdLifetime>();
        }

        // Disabled (IsEnabled false) when there is no NOTIFY_SOCKET: the worker then also runs on its own.
        services.TryAddSingleton<ISystemdNotifier, SystemdNotifier>();
        services.AddHostedService<Worker>();
    });

await builder.Build().RunAsync();
