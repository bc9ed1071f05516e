namespace GitProc.Validation;

/// <summary>
/// A set of unit files is invalid (a commit, say): the message lists every error, one per line, as
/// <c>FILE:LINE: KEY: message</c> (after a line <c>N errors:</c> when there are several); <see cref="FileName"/> and
/// <see cref="Line"/> are the first error's, and <see cref="Result"/> has them all as data.
/// </summary>
public sealed class UnitCheckException : GitProcException
{
    /// <summary>Creates the exception from a result with at least one error.</summary>
    /// <param name="result">The check's result.</param>
    /// <exception cref="ArgumentException"><paramref name="result"/> has no error.</exception>
    public UnitCheckException(UnitCheckResult result)
        : base(Compose(result))
    {
        Result = result;
        FileName = result.Errors[0].File;
        Line = result.Errors[0].Line;
    }

    /// <summary>Everything the check found, warnings included.</summary>
    public UnitCheckResult Result { get; }

    /// <summary>The file of the first error.</summary>
    public string FileName { get; }

    /// <summary>The line of the first error; 0 when it concerns a whole file or the set.</summary>
    public int Line { get; }

    private static string Compose(UnitCheckResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        if (result.IsValid)
        {
            throw new ArgumentException("The result has no error.", nameof(result));
        }

        // One error reads as itself; several are counted first, so the one-line form a CLI prints ("Error: ...") says
        // how many follow.
        return result.Errors.Count == 1
            ? result.Errors[0].ToString()
            : $"{result.Errors.Count} errors:\n{string.Join('\n', result.Errors)}";
    }
}
