using System.Runtime.Versioning;
using System.Text;
using GitProc.Processes;

namespace GitProc.Core.Tests.Processes;

[TestFixture]
[Platform(Include = "Linux")]
[SupportedOSPlatform("linux")]
public sealed class ProcStatTests
{
    [Test]
    public void Fields_are_counted_from_the_last_parenthesis_so_odd_command_names_parse()
    {
        var content = "4242 (we) ird (name) S 1 4242 4243 0 -1 4194560 100 0 0 0 0 0 0 0 20 0 1 0 987654321 2990080 448 18446744073709551615\n";

        Assert.That(ProcStat.TryParse(Encoding.ASCII.GetBytes(content), out var stat), Is.True);
        Assert.That(stat, Is.EqualTo(new ProcStat('S', 4242, 4243, 987654321) { ParentPid = 1 }));
    }

    [Test]
    public void A_zombies_exit_status_is_read_from_field_52()
    {
        var fields = string.Join(' ', Enumerable.Range(4, 49).Select(field => field switch
        {
            4 => "1",
            5 => "77",
            6 => "77",
            22 => "5555",
            52 => "35072",
            _ => "0",
        }));
        var content = $"77 (sh) Z {fields}\n";

        Assert.That(ProcStat.TryParse(Encoding.ASCII.GetBytes(content), out var stat), Is.True);
        Assert.That(stat.IsDead, Is.True);
        Assert.That(stat.WaitStatus, Is.EqualTo(35072));
        Assert.That(ProcessExit.FromWaitStatus(stat.WaitStatus!.Value), Is.EqualTo(new ProcessExit(137, null)));
        Assert.That(ProcessExit.FromWaitStatus(9), Is.EqualTo(new ProcessExit(null, 9)));
    }

    [Test]
    public void Truncated_content_does_not_parse()
    {
        Assert.That(ProcStat.TryParse("12 (x) S 1 2 3"u8, out _), Is.False);
        Assert.That(ProcStat.TryParse("garbage"u8, out _), Is.False);
    }

    [Test]
    public void The_current_process_can_be_read_and_a_missing_one_cannot()
    {
        Assert.That(ProcStat.TryRead(Environment.ProcessId, out var self), Is.True);
        Assert.That(self.StartTicks, Is.GreaterThan(0));
        Assert.That(self.IsDead, Is.False);
        Assert.That(ProcStat.TryRead(int.MaxValue, out _), Is.False);
    }
}
