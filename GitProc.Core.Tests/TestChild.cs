using System.Diagnostics;
using System.Reflection;

namespace GitProc.Core.Tests;

/// <summary>
/// Runs <c>GitProc.TestChild</c> (a small console program at the repository root) as a real child process. Its
/// built path is baked into this assembly at build time (see the LocateChildPrograms target in the csproj).
/// </summary>
internal static class TestChild
{
    /// <summary>The built <c>GitProc.TestChild.dll</c>.</summary>
    public static string DllPath
    {
        get
        {
            var path = typeof(TestChild).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
                .SingleOrDefault(a => a.Key == "GitProc.TestChild")?.Value;
            if (string.IsNullOrEmpty(path) || !File.Exists(path))
            {
                Assert.Fail($"GitProc.TestChild.dll was not found (baked path: '{path}'); build GitProc.sln first.");
            }

            return path!;
        }
    }

    /// <summary>A start description for <c>dotnet GitProc.TestChild.dll ARGS</c>, output redirected.</summary>
    public static ProcessStartInfo StartInfo(params string[] args)
    {
        var info = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        // The child is killed on purpose; with diagnostics on, the runtime would leave its IPC socket and debugger
        // pipes in /tmp each time.
        info.Environment["DOTNET_EnableDiagnostics"] = "0";
        info.ArgumentList.Add(DllPath);
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        return info;
    }
}
