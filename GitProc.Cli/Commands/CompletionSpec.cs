using System.CommandLine;
using System.CommandLine.Completions;
using System.CommandLine.Help;
using System.Text.RegularExpressions;

namespace GitProc.Cli.Commands;

/// <summary>
/// What the shell completion scripts complete, read from the command tree itself, so a command or option added later
/// completes without anyone editing the scripts.
/// </summary>
/// <param name="GlobalOptions">The root's options (<c>--socket</c>, <c>--config</c>, <c>--help</c>, ...), valid everywhere.</param>
/// <param name="Commands">Each command with its own options and what its argument is.</param>
internal sealed partial record CompletionSpec(IReadOnlyList<CompletionSpec.OptionSpec> GlobalOptions, IReadOnlyList<CompletionSpec.CommandSpec> Commands)
{
    /// <summary>What a word completes to.</summary>
    public enum ValueKind
    {
        /// <summary>Nothing: a flag takes no value; a free value (a count, a commit) is the user's to type.</summary>
        None,

        /// <summary>A file or directory.</summary>
        Path,

        /// <summary>A service name, asked of the daemon.</summary>
        Service,

        /// <summary>One of <see cref="CommandSpec.Choices"/>.</summary>
        Choice,

        /// <summary>Some value, completed by nothing.</summary>
        Free,
    }

    /// <summary>The names of the options that take a value, among every command's: the word after one is its value.</summary>
    public IEnumerable<string> ValueOptionNames =>
        GlobalOptions.Concat(Commands.SelectMany(c => c.Options)).Where(o => o.Value != ValueKind.None).SelectMany(o => o.Names).Distinct();

    public static CompletionSpec From(RootCommand root) => new(
        [.. root.Options.Where(o => !o.Hidden).Select(ToSpec)],
        [.. root.Subcommands.Where(c => !c.Hidden).Select(c => new CommandSpec(
            c.Name,
            FirstSentence(c.Description),
            [.. c.Options.Where(o => !o.Hidden && o is not HelpOption).Select(ToSpec)],
            c.Arguments.FirstOrDefault() is { } argument ? KindOf(argument) : ValueKind.None,
            c.Arguments.FirstOrDefault() is { } first ? ChoicesOf(first) : []))]);

    private static OptionSpec ToSpec(Option option) => new(
        [option.Name, .. option.Aliases.Order(StringComparer.Ordinal)],
        FirstSentence(option.Description),
        option.ValueType == typeof(bool) || option.Arity.MaximumNumberOfValues == 0
            ? ValueKind.None
            : option.HelpName switch
            {
                "PATH" or "FILE" => ValueKind.Path,
                "NAME" => ValueKind.Service,
                _ => ValueKind.Free,
            });

    private static ValueKind KindOf(Argument argument) => argument.Name switch
    {
        "NAME" => ValueKind.Service,
        "PATH" => ValueKind.Path,
        _ => ChoicesOf(argument).Count > 0 ? ValueKind.Choice : ValueKind.Free,
    };

    private static IReadOnlyList<string> ChoicesOf(Argument argument) =>
        argument.Name is "NAME" or "PATH" ? [] : [.. argument.GetCompletions(CompletionContext.Empty).Select(c => c.Label)];

    // Help texts run long; a completion menu shows one short line: the first sentence without its asides in brackets.
    private static string FirstSentence(string? description)
    {
        var text = Aside().Replace((description ?? "").ReplaceLineEndings(" "), "").Trim();
        var end = text.IndexOf(". ", StringComparison.Ordinal);
        return end > 0 ? text[..end] : text.TrimEnd('.');
    }

    [GeneratedRegex(@"\s*\([^()]*\)")]
    private static partial Regex Aside();

    /// <summary>An option: its names (the first the long one), a short description, and what its value completes to.</summary>
    public sealed record OptionSpec(IReadOnlyList<string> Names, string Description, ValueKind Value);

    /// <summary>A command: its name, a short description, its options and what its (first) argument completes to.</summary>
    public sealed record CommandSpec(string Name, string Description, IReadOnlyList<OptionSpec> Options, ValueKind Argument, IReadOnlyList<string> Choices);
}
