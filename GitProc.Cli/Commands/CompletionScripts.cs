using System.Text;
using System.Text.RegularExpressions;
using static GitProc.Cli.Commands.CompletionSpec;

namespace GitProc.Cli.Commands;

/// <summary>
/// The completion scripts of <c>gitproc completion bash|zsh|fish</c>, written from a <see cref="CompletionSpec"/>.
/// Service names come from the daemon: each script runs <c>gitproc list --json</c> with the <c>--socket</c> and
/// <c>--config</c> of the command line being completed, its errors discarded and under <c>timeout 2</c> where that
/// exists, and picks the <c>"name"</c> values out of it (service names hold no quote or backslash, so a pattern finds
/// them exactly; no jq needed). No daemon: no names, and nothing printed.
/// </summary>
internal static partial class CompletionScripts
{
    private const string ListNames = """list --json 2>/dev/null | grep -o '"name":"[^"]*"' | sed -e 's/^"name":"//' -e 's/"$//'""";

    public static string Bash(CompletionSpec spec)
    {
        var globals = Words(spec.GlobalOptions);
        var script = new StringBuilder();
        script.Append($$"""
            # bash completion for gitproc, printed by `gitproc completion bash`.
            # Install: gitproc completion bash > /etc/bash_completion.d/gitproc  (or, for one shell: source <(gitproc completion bash))

            # The daemon's service names, asked with this command line's --socket and --config; nothing if no daemon answers.
            _gitproc_services()
            {
                local -a args=() run=("${COMP_WORDS[0]}")
                local i
                for ((i = 1; i < COMP_CWORD; i++)); do
                    case ${COMP_WORDS[i]} in
                        --socket|--config) args+=("${COMP_WORDS[i]}" "${COMP_WORDS[i+1]}"); ((i++)) ;;
                    esac
                done
                if command -v timeout >/dev/null 2>&1; then run=(timeout 2 "${COMP_WORDS[0]}"); fi
                "${run[@]}" "${args[@]}" {{ListNames}}
            }

            _gitproc()
            {
                local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
                local command= options= argument= choices= i
                local -i given=0
                COMPREPLY=()
                for ((i = 1; i < COMP_CWORD; i++)); do
                    case ${COMP_WORDS[i]} in
                        {{Pattern(spec.ValueOptionNames)}}) ((i++)) ;;
                        -*) ;;
                        *) if [[ -z $command ]]; then command=${COMP_WORDS[i]}; else given+=1; fi ;;
                    esac
                done

            """);
        AppendBashValueCase(script, spec);
        script.Append("""

                case $command in

            """);
        script.Append($"""
                    '') mapfile -t COMPREPLY < <(compgen -W "{string.Join(' ', spec.Commands.Select(c => c.Name))} {globals}" -- "$cur"); return ;;

            """);
        foreach (var command in spec.Commands)
        {
            script.Append($"        {command.Name}) options='{Words(command.Options)}'; argument={Kind(command.Argument)}; choices='{string.Join(' ', command.Choices)}' ;;\n");
        }

        script.Append($$"""
                    *) return ;;
                esac

                if [[ $cur == -* ]]; then
                    mapfile -t COMPREPLY < <(compgen -W "$options {{globals}}" -- "$cur")
                elif ((given == 0)) || [[ $argument == path ]]; then
                    case $argument in
                        service) mapfile -t COMPREPLY < <(compgen -W "$(_gitproc_services)" -- "$cur") ;;
                        path) compopt -o filenames 2>/dev/null; mapfile -t COMPREPLY < <(compgen -f -- "$cur") ;;
                        choice) mapfile -t COMPREPLY < <(compgen -W "$choices" -- "$cur") ;;
                    esac
                fi
            }

            complete -F _gitproc gitproc

            """);
        return script.ToString();
    }

    private static void AppendBashValueCase(StringBuilder script, CompletionSpec spec)
    {
        var options = spec.GlobalOptions.Concat(spec.Commands.SelectMany(c => c.Options)).ToList();
        script.Append("    case $prev in\n");
        foreach (var (kind, action) in new[]
        {
            (ValueKind.Path, """compopt -o filenames 2>/dev/null; mapfile -t COMPREPLY < <(compgen -f -- "$cur"); return"""),
            (ValueKind.Service, """mapfile -t COMPREPLY < <(compgen -W "$(_gitproc_services)" -- "$cur"); return"""),
            (ValueKind.Free, "return"),
        })
        {
            var names = options.Where(o => o.Value == kind).SelectMany(o => o.Names).Where(IsOptionWord).Distinct().ToList();
            if (names.Count > 0)
            {
                script.Append($"        {Pattern(names)}) {action} ;;\n");
            }
        }

        script.Append("    esac\n");
    }

    public static string Zsh(CompletionSpec spec)
    {
        var globals = spec.GlobalOptions.Select(ZshOption).ToList();
        var script = new StringBuilder();
        script.Append($$"""
            #compdef gitproc
            # zsh completion for gitproc, printed by `gitproc completion zsh`.
            # Install: gitproc completion zsh > "${fpath[1]}/_gitproc"  (or, for one shell: source <(gitproc completion zsh))

            # The daemon's service names, asked with this command line's --socket and --config; nothing if no daemon answers.
            _gitproc_services() {
              local -a args names run
              local i
              for (( i = 2; i < ${#_gitproc_line}; i++ )); do
                case ${_gitproc_line[i]} in
                  --socket|--config) args+=("${_gitproc_line[i]}" "${_gitproc_line[i+1]}") ;;
                esac
              done
              run=("${_gitproc_line[1]}")
              (( $+commands[timeout] )) && run=(timeout 2 "${_gitproc_line[1]}")
              names=(${(f)"$("${run[@]}" "${args[@]}" {{ListNames}})"})
              _wanted services expl service compadd -a names
            }

            _gitproc() {
              local -a _gitproc_line
              _gitproc_line=("${words[@]}")
              local curcontext=$curcontext state line ret=1
              typeset -A opt_args
              _arguments -C \

            """);
        foreach (var option in globals)
        {
            script.Append($"    {option} \\\n");
        }

        script.Append("""
                '1:command:->command' \
                '*::argument:->argument' && ret=0
              case $state in
                command)
                  local -a commands
                  commands=(

            """);
        foreach (var command in spec.Commands)
        {
            script.Append($"        {ZshQuote(command.Name + ":" + command.Description)}\n");
        }

        script.Append("""
                  )
                  _describe -t commands 'gitproc command' commands && ret=0
                  ;;
                argument)
                  curcontext=${curcontext%:*:*}:gitproc-$words[1]:
                  case $words[1] in

            """);
        foreach (var command in spec.Commands)
        {
            script.Append($"        {command.Name})\n          _arguments \\\n");
            foreach (var option in command.Options.Select(ZshOption).Concat(globals.Where(g => !g.Contains("--help", StringComparison.Ordinal) && !g.Contains("--version", StringComparison.Ordinal))))
            {
                script.Append($"            {option} \\\n");
            }

            var argument = command.Argument switch
            {
                ValueKind.Service => "'1:service:_gitproc_services'",
                ValueKind.Path => "'*:path:_files'",
                ValueKind.Choice => ZshQuote($"1:{command.Name} argument:({string.Join(' ', command.Choices)})"),
                ValueKind.Free => "'1:value: '",
                _ => null,
            };
            script.Append(argument is null ? "            && ret=0\n" : $"            {argument} && ret=0\n");
            script.Append("          ;;\n");
        }

        script.Append("""
                  esac
                  ;;
              esac
              return ret
            }

            if [[ $zsh_eval_context[-1] == loadautofunc ]]; then
              _gitproc "$@"
            else
              compdef _gitproc gitproc
            fi

            """);
        return script.ToString();
    }

    private static string ZshOption(OptionSpec option)
    {
        var names = option.Names.Where(IsOptionWord).ToList();
        var description = option.Description.Replace('[', '(').Replace(']', ')');
        var value = option.Value switch
        {
            ValueKind.Path => ":path:_files",
            ValueKind.Service => ":service:_gitproc_services",
            ValueKind.Free => ":value: ",
            _ => "",
        };
        return names.Count == 1
            ? ZshQuote($"{names[0]}[{description}]{value}")
            : ZshQuote($"({string.Join(' ', names)})") + "{" + string.Join(',', names) + "}" + ZshQuote($"[{description}]{value}");
    }

    private static string ZshQuote(string text) => "'" + text.Replace("'", "'\\''", StringComparison.Ordinal) + "'";

    public static string Fish(CompletionSpec spec)
    {
        var script = new StringBuilder();
        script.Append($$"""
            # fish completion for gitproc, printed by `gitproc completion fish`.
            # Install: gitproc completion fish > ~/.config/fish/completions/gitproc.fish

            # The daemon's service names, asked with this command line's --socket and --config; nothing if no daemon answers.
            function __gitproc_services
                set -l tokens (commandline -opc)
                set -l args
                for i in (seq 2 (count $tokens))
                    if contains -- $tokens[$i] --socket --config; and test $i -lt (count $tokens)
                        set -a args $tokens[$i] $tokens[(math $i + 1)]
                    end
                end
                set -l run $tokens[1]
                if command -q timeout
                    set run timeout 2 $tokens[1]
                end
                $run $args list --json 2>/dev/null | string match -ra '"name":"[^"]*"' | string replace -r '^"name":"(.*)"$' '$1'
            end

            complete -c gitproc -f

            """);
        foreach (var option in spec.GlobalOptions)
        {
            script.Append(FishOption(null, option));
        }

        foreach (var command in spec.Commands)
        {
            script.Append($"complete -c gitproc -n __fish_use_subcommand -a {command.Name} -d {FishQuote(command.Description)}\n");
        }

        foreach (var command in spec.Commands)
        {
            var condition = $"'__fish_seen_subcommand_from {command.Name}'";
            foreach (var option in command.Options)
            {
                script.Append(FishOption(condition, option));
            }

            var argument = command.Argument switch
            {
                ValueKind.Service => "-a '(__gitproc_services)'",
                ValueKind.Path => "-F",
                ValueKind.Choice => $"-a {FishQuote(string.Join(' ', command.Choices))}",
                _ => null,
            };
            if (argument is not null)
            {
                script.Append($"complete -c gitproc -n {condition} {argument}\n");
            }
        }

        return script.ToString();
    }

    private static string FishOption(string? condition, OptionSpec option)
    {
        var line = new StringBuilder("complete -c gitproc");
        if (condition is not null)
        {
            line.Append(" -n ").Append(condition);
        }

        foreach (var name in option.Names.Where(IsOptionWord))
        {
            line.Append(name.StartsWith("--", StringComparison.Ordinal) ? " -l " + name[2..] : name.Length == 2 ? " -s " + name[1..] : " -o " + name[1..]);
        }

        line.Append(option.Value switch
        {
            ValueKind.Path => " -r -F",
            ValueKind.Service => " -r -a '(__gitproc_services)'",
            ValueKind.Free => " -r",
            _ => "",
        });
        return line.Append(" -d ").Append(FishQuote(option.Description)).Append('\n').ToString();
    }

    private static string FishQuote(string text) => "'" + text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("'", "\\'", StringComparison.Ordinal) + "'";

    /// <summary>The options' names as one space-separated list of words.</summary>
    private static string Words(IEnumerable<OptionSpec> options) => string.Join(' ', options.SelectMany(o => o.Names).Where(IsOptionWord));

    /// <summary>A bash <c>case</c> pattern matching exactly these names.</summary>
    private static string Pattern(IEnumerable<string> names) => string.Join('|', names.Where(IsOptionWord));

    private static string Kind(ValueKind kind) => kind.ToString().ToLowerInvariant();

    // System.CommandLine also knows -?, /h and /?: not words a shell pattern can hold as they are, and --help covers them.
    private static bool IsOptionWord(string name) => OptionWord().IsMatch(name);

    [GeneratedRegex("^--?[A-Za-z][A-Za-z0-9-]*$")]
    private static partial Regex OptionWord();
}
