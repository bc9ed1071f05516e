using System.CommandLine;

namespace GitProc.Cli.Commands;

/// <summary>
/// <c>gitproc completion bash|zsh|fish</c>: prints the shell's completion script for every command and option, with
/// service names completed from the daemon (<see cref="CompletionScripts"/>). Install, for example,
/// <c>gitproc completion bash &gt; /etc/bash_completion.d/gitproc</c>. It prints a script, so it takes no <c>--json</c>.
/// </summary>
internal static class CompletionCommand
{
    public static Command Create(CliContext context, RootCommand root)
    {
        var shell = new Argument<string>("SHELL") { Description = "The shell: bash, zsh or fish" };
        shell.AcceptOnlyFromAmong("bash", "zsh", "fish");
        var command = new Command("completion", "Print the shell completion script for bash, zsh or fish") { shell };
        command.SetAction(parseResult =>
        {
            var spec = CompletionSpec.From(root);
            context.Out.Write(parseResult.GetRequiredValue(shell) switch
            {
                "bash" => CompletionScripts.Bash(spec),
                "zsh" => CompletionScripts.Zsh(spec),
                _ => CompletionScripts.Fish(spec),
            });
            return ExitCodes.Success;
        });
        return command;
    }
}
