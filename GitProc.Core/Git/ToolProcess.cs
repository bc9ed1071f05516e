using System.Diagnostics;

namespace GitProc.Git;

/// <summary>
/// Runs a short-lived helper program (<c>git fetch</c>, <c>git cat-file</c>, <c>ssh-keygen</c>, <c>gpgv</c>) to its end:
/// the input written to its stdin, its output collected, and its whole tree killed when it outlives its time limit or the
/// caller cancels, so a hung helper never holds up the daemon.
/// </summary>
internal static class ToolProcess
{
    /// <summary>Runs the program described by <paramref name="info"/> (its redirections are set here).</summary>
    /// <param name="info">The program, arguments and environment.</param>
    /// <param name="input">What to write to its stdin, which is then closed (nothing: closed at once).</param>
    /// <param name="timeout">How long it may run.</param>
    /// <param name="timeProvider">The clock of the time limit.</param>
    /// <param name="cancellationToken">Stops the program.</param>
    /// <returns>Its exit code, stdout (bytes, as written) and stderr.</returns>
    /// <exception cref="System.ComponentModel.Win32Exception">The program could not be started (not installed, say).</exception>
    /// <exception cref="TimeoutException">It ran longer than <paramref name="timeout"/>; it was stopped.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled; it was stopped.</exception>
    public static async Task<ToolResult> RunAsync(
        ProcessStartInfo info, ReadOnlyMemory<byte> input, TimeSpan timeout, TimeProvider timeProvider, CancellationToken cancellationToken)
    {
        info.RedirectStandardInput = true;
        info.RedirectStandardOutput = true;
        info.RedirectStandardError = true;
        info.UseShellExecute = false;
        using var process = new Process { StartInfo = info };
        process.Start();

        var output = ReadAllAsync(process.StandardOutput.BaseStream);
        var error = process.StandardError.ReadToEndAsync(CancellationToken.None);
        using var timer = new CancellationTokenSource(timeout, timeProvider);
        using var either = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timer.Token);
        try
        {
            await WriteInputAsync(process, input, either.Token).ConfigureAwait(false);
            await process.WaitForExitAsync(either.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Its children (git-remote-https, ssh) go too: a hung transfer must not outlive the call.
            Stop(process);
            cancellationToken.ThrowIfCancellationRequested();
            throw new TimeoutException($"{info.FileName} did not finish within {timeout} and was stopped.");
        }

        return new ToolResult(process.ExitCode, await output.ConfigureAwait(false), await error.ConfigureAwait(false));
    }

    private static async Task WriteInputAsync(Process process, ReadOnlyMemory<byte> input, CancellationToken cancellationToken)
    {
        try
        {
            if (!input.IsEmpty)
            {
                await process.StandardInput.BaseStream.WriteAsync(input, cancellationToken).ConfigureAwait(false);
            }

            process.StandardInput.Close();
        }
        catch (IOException)
        {
            // It exited without reading all of it (a broken pipe): its exit code and stderr say why.
        }
    }

    private static async Task<byte[]> ReadAllAsync(Stream stream)
    {
        using var buffer = new MemoryStream();
        await stream.CopyToAsync(buffer, CancellationToken.None).ConfigureAwait(false);
        return buffer.ToArray();
    }

    private static void Stop(Process process)
    {
        try
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit(5_000);
        }
        catch (InvalidOperationException)
        {
            // It ended meanwhile.
        }
    }
}
