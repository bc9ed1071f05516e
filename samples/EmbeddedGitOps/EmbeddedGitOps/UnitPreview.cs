using System.Text;
using GitProc.Dependencies;
using GitProc.Git;
using GitProc.UnitFiles;

namespace EmbeddedGitOps;

/// <summary>What a commit of the unit repository holds: the order its services start in, or what is wrong with it.</summary>
/// <param name="Commit">The commit read; <see langword="null"/> when the branch has no commit yet.</param>
/// <param name="StartOrder">Its services, dependencies first; empty when it has problems.</param>
/// <param name="Problems">One sentence per problem (a unit that does not parse, a dependency cycle, a missing <c>Requires=</c>).</param>
internal sealed record UnitPreviewResult(string? Commit, IReadOnlyList<string> StartOrder, IReadOnlyList<string> Problems);

/// <summary>
/// Reads the unit files of a commit, parses them and orders them, the way GitProc will when it applies the commit:
/// for a deploy tool, a pre-merge check or a start-up log line. Registered transient, like the dependency resolver it
/// fills (one resolver per set of units).
/// </summary>
internal sealed class UnitPreview(IGitIntegration git, IUnitFileParser parser, IDependencyResolver resolver)
{
    /// <summary>Previews <paramref name="commit"/>, or the tip of the watched branch.</summary>
    /// <exception cref="GitException">The commit does not exist, or the repository cannot be read.</exception>
    public async Task<UnitPreviewResult> PreviewAsync(string? commit = null, CancellationToken cancellationToken = default)
    {
        commit ??= await git.GetBranchTipAsync(cancellationToken: cancellationToken);
        if (commit is null)
        {
            return new UnitPreviewResult(null, [], []);
        }

        var problems = new List<string>();
        foreach (var file in await git.ReadUnitFilesAsync(commit, cancellationToken))
        {
            try
            {
                // The string overload: IUnitFileParser's span overload cannot be set up with Moq (a ref struct argument).
                resolver.AddUnit(parser.Parse(file.FileName, Encoding.UTF8.GetString(file.Content)));
            }
            catch (UnitFileParseException ex)
            {
                problems.Add(ex.Message);
            }
        }

        if (problems.Count == 0)
        {
            try
            {
                return new UnitPreviewResult(commit, resolver.GetStartOrder(), []);
            }
            catch (DependencyException ex)
            {
                // A cycle or a Requires= on a service that is not there.
                problems.Add(ex.Message);
            }
        }

        return new UnitPreviewResult(commit, [], problems);
    }
}
