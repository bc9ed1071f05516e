using System.Diagnostics;

namespace GitProc.Core.Tests.Targeting;

/// <summary>The defaults <c>ConditionHost=</c> is matched against: the machine's whole host name and its machine id.</summary>
[Platform(Include = "Linux")]
public class HostDefaultsTests
{
    [Test]
    public void The_default_host_name_is_the_whole_node_name_that_uname_prints()
    {
        using var uname = Process.Start(new ProcessStartInfo("uname", "-n") { RedirectStandardOutput = true })!;
        var nodeName = uname.StandardOutput.ReadToEnd().Trim();
        uname.WaitForExit();

        Assert.That(new GitProcOptions().HostName, Is.EqualTo(nodeName), "not cut at the first dot, as Environment.MachineName is");
    }

    [Test]
    public void The_default_machine_id_is_the_one_in_etc_machine_id()
    {
        if (!File.Exists("/etc/machine-id") || File.ReadAllText("/etc/machine-id").Trim().Length != 32)
        {
            Assert.Ignore("This machine has no /etc/machine-id (a minimal container); the default is then null.");
        }

        Assert.That(new GitProcOptions().MachineId, Is.EqualTo(File.ReadAllText("/etc/machine-id").Trim().ToLowerInvariant()));
    }
}
