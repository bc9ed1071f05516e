using GitProc.Ipc;

namespace GitProc.Cli.Commands;

/// <summary><c>--json</c>: prints the response's data object exactly as the daemon sent it, on one line.</summary>
internal static class JsonOutput
{
    public static async Task<int> PrintAsync(CliContext context, GitProcClient client, IpcRequest request, CancellationToken cancellationToken)
    {
        var response = await client.SendAsync(request, cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccess)
        {
            return context.Fail(response.Error ?? "The daemon reported an error without a message.");
        }

        context.Out.WriteLine(response.Data?.GetRawText() ?? "null");
        return ExitCodes.Success;
    }
}
