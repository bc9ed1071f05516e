using System.Diagnostics.CodeAnalysis;
using System.Reflection;
using System.Runtime.CompilerServices;

namespace GitProc.Hosting;

/// <summary>
/// The framework-dependent (JIT) runtime loads an assembly the first time code needs it, and each load opens a file. A
/// daemon that has run out of descriptors (EMFILE) then fails wherever a load happens to be due — the first service
/// start (Polly's option validation loads System.ComponentModel.Annotations), the first state save (System.Text.Json) —
/// with a <see cref="FileNotFoundException"/> no caller expects, or a type initializer that fails for good. So the
/// daemon loads every assembly its code references at start, while descriptors are plentiful. A NativeAOT build
/// (the recommended one) has nothing to load.
/// </summary>
internal static class AssemblyPreloader
{
    /// <summary>Loads the assemblies <paramref name="root"/> references, transitively; returns how many were loaded.</summary>
    [UnconditionalSuppressMessage("Trimming", "IL2026", Justification = "Runs only where code is JIT-compiled; a native build returns first, and a reference trimmed away fails to load and is skipped.")]
    public static int LoadReferences(Assembly root)
    {
        if (!RuntimeFeature.IsDynamicCodeSupported)
        {
            return 0;
        }

        var seen = new HashSet<string>(StringComparer.Ordinal) { root.FullName ?? string.Empty };
        var pending = new Queue<Assembly>([root]);
        var loaded = 0;
        while (pending.TryDequeue(out var assembly))
        {
            foreach (var reference in assembly.GetReferencedAssemblies())
            {
                if (!seen.Add(reference.FullName))
                {
                    continue;
                }

                try
                {
                    pending.Enqueue(Assembly.Load(reference));
                    loaded++;
                }
                catch (Exception ex) when (ex is FileNotFoundException or FileLoadException or BadImageFormatException)
                {
                    // A reference the code never uses at run time (a facade, a platform-specific assembly): skipped.
                }
            }
        }

        return loaded;
    }
}
