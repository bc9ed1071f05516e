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

        // Under a service manager UseSystemd() has registered the notifier the worker pings the watchdog through; run
        // by hand, the worker gets one that is off (IsEnabled false) and runs on its own.
        services.TryAddSingleton<ISystemdNotifier, SystemdNotifier>();
        services.AddHostedService<Worker>();
    });

await builder.Build().RunAsync();
