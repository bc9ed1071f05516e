using System.CommandLine;

namespace GitProc.Cli.Commands;

/// <summary>The NAME argument of the service commands.</summary>
internal static class ServiceArgument
{
    public static Argument<string> Create() => new("NAME") { Description = "The service name (the unit file's name without .service)" };
}
