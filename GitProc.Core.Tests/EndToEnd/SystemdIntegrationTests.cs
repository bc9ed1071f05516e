using System.Net.Sockets;
using System.Runtime.Versioning;
using System.Text;
using GitProc.Core.Tests.TestSupport;

namespace GitProc.Core.Tests.EndToEnd;

/// <summary>
/// The daemon under systemd: <c>samples/integrations/gitproc.service</c> (<c>Type=notify</c>) checked by
/// <c>systemd-analyze verify</c>, and the daemon's sd_notify messages read off a real <c>NOTIFY_SOCKET</c>, a Unix
/// datagram socket this test binds, as systemd does.
/// </summary>
[Platform(Include = "Linux")]
[SupportedOSPlatform("linux")]
[CancelAfter(120_000)]
public sealed class SystemdIntegrationTests
{
    private const string Unit = "samples/integrations/gitproc.service";

    [Test]
    public async Task Started_by_systemd_the_daemon_says_READY_once_the_initial_apply_has_started_its_services_and_STOPPING_when_it_stops(CancellationToken token)
    {
        await using var sandbox = await GitProcSandbox.CreateAsync(token);

        // The apply takes a second (ExecStartPre), so READY=1 sent before it ended would find web not yet running.
        sandbox.WriteUnit("web", sandbox.Unit("web", "ExecStartPre=/bin/sleep 1"));
        await sandbox.CommitAsync("web", token);

        var socketPath = Path.Combine(sandbox.Root, "notify.sock");
        using var notify = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        notify.Bind(new UnixDomainSocketEndPoint(socketPath));

        // .NET takes a process for a systemd service when its parent is named systemd (or when it is PID 1 with
        // NOTIFY_SOCKET set): a shell under that name stands in for systemd, passing SIGTERM on as systemd sends it.
        var systemd = Path.Combine(sandbox.Root, "systemd");
        File.CreateSymbolicLink(systemd, "/bin/sh");
        string[] wrapper = [systemd, "-c", "trap 'kill -TERM $child' TERM INT; \"$@\" & child=$!; wait $child; wait $child", "systemd"];
        await sandbox.StartDaemonAsync(token, connect: false, wrapper: wrapper, environment: new Dictionary<string, string> { ["NOTIFY_SOCKET"] = socketPath });

        var ready = await ReceiveAsync(notify, token);
        Assert.That(ready, Does.Contain("READY=1"), sandbox.DaemonOutput);
        var list = await sandbox.ListAsync();
        Assert.That(list["web"].Status, Is.EqualTo("running"), "READY=1 came after the initial apply");

        var exitCode = await sandbox.StopDaemonAsync();
        Assert.That(await ReceiveAsync(notify, token), Does.Contain("STOPPING=1"), sandbox.DaemonOutput);
        Assert.That(exitCode, Is.Zero, sandbox.DaemonOutput);

        // journald's priority prefixes instead of the console's own format.
        Assert.That(sandbox.DaemonOutput, Does.Contain("<6>GitProc.Hosting.GitProcDaemonService[1101] Applied commit"), sandbox.DaemonOutput);
    }

    [Test]
    public async Task The_shipped_unit_is_a_notify_service_that_systemd_analyze_verify_accepts_without_a_warning(CancellationToken token)
    {
        var analyze = Tools.Require("systemd-analyze", "systemd");
        var text = await File.ReadAllTextAsync(Path.Combine(GitProcSandbox.SourceRoot, Unit), token);
        var lines = text.Split('\n').Select(l => l.Trim()).ToArray();
        Assert.That(lines, Does.Contain("Type=notify").And.Contain("KillMode=process").And.Contain("ExecReload=/bin/kill -HUP $MAINPID"));

        // verify checks that ExecStart's program exists: the unit's /opt/gitproc/gitproc is put where this test has one.
        var directory = Directory.CreateTempSubdirectory("gitproc-unit-");
        try
        {
            var program = Path.Combine(directory.FullName, "gitproc");
            await File.WriteAllTextAsync(program, "#!/bin/sh\n", token);
            File.SetUnixFileMode(program, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            var unit = Path.Combine(directory.FullName, "gitproc.service");
            await File.WriteAllTextAsync(unit, text.Replace("/opt/gitproc/gitproc", program, StringComparison.Ordinal), token);

            await using var sandbox = await GitProcSandbox.CreateAsync(token);
            var verify = await sandbox.RunToolAsync(analyze, ["verify", "--man=no", unit], token);
            Assert.That(verify.ExitCode, Is.Zero, verify.ToString);
            Assert.That(verify.Stderr + verify.Stdout, Is.Empty, "no warning about any line of the unit:\n" + verify);
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    private static async Task<string> ReceiveAsync(Socket socket, CancellationToken token)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(token);
        timeout.CancelAfter(TimeSpan.FromSeconds(30));
        var buffer = new byte[4096];
        try
        {
            var count = await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token);
            return Encoding.UTF8.GetString(buffer, 0, count);
        }
        catch (OperationCanceledException) when (!token.IsCancellationRequested)
        {
            Assert.Fail("Nothing came on NOTIFY_SOCKET within 30 s.");
            return "";
        }
    }
}
