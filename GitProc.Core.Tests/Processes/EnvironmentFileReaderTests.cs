using GitProc.Processes;

namespace GitProc.Core.Tests.Processes;

[TestFixture]
public sealed class EnvironmentFileReaderTests
{
    [Test]
    public void Reads_assignments_comments_quotes_and_continuations_as_systemd()
    {
        var environment = new Dictionary<string, string>();

        EnvironmentFileReader.Parse(
            "# comment\r\n; also a comment\n\n  KEY = value  \nQUOTED=\"a \\\"b\\\" c\"\nSINGLE='$x y'\nLONG=one \\\ntwo\nNOEQUALS\nEMPTY=\nKEY=last\n",
            environment);

        Assert.That(environment, Is.EqualTo(new Dictionary<string, string>
        {
            ["KEY"] = "last",
            ["QUOTED"] = "a \"b\" c",
            ["SINGLE"] = "$x y",
            ["LONG"] = "one two",
            ["EMPTY"] = string.Empty,
        }));
    }
}
