using System.Runtime.InteropServices;
using System.Text;

namespace GitProc.Processes;

/// <summary>argv and envp for posix_spawn and execve in ONE native allocation: pointer arrays first, then the strings.</summary>
internal static unsafe class NativeBlock
{
    public static byte* Build(string program, IReadOnlyList<string> arguments, IReadOnlyDictionary<string, string> environment, out byte* path, out byte** argv, out byte** envp)
    {
        var encoding = Encoding.UTF8;
        var pointers = arguments.Count + 1 + environment.Count + 1;
        nuint size = (nuint)(pointers * sizeof(byte*)) + (nuint)encoding.GetByteCount(program) + 1;
        foreach (var argument in arguments)
        {
            size += (nuint)encoding.GetByteCount(argument) + 1;
        }

        foreach (var (key, value) in environment)
        {
            size += (nuint)(encoding.GetByteCount(key) + encoding.GetByteCount(value) + 2);
        }

        var block = (byte*)NativeMemory.Alloc(size);
        var end = block + size;
        argv = (byte**)block;
        envp = argv + arguments.Count + 1;
        var next = (byte*)(envp + environment.Count + 1);

        path = next;
        next = Put(program, next, end);
        for (var i = 0; i < arguments.Count; i++)
        {
            argv[i] = next;
            next = Put(arguments[i], next, end);
        }

        argv[arguments.Count] = null;
        var j = 0;
        foreach (var (key, value) in environment)
        {
            envp[j++] = next;
            next += encoding.GetBytes(key, new Span<byte>(next, (int)(end - next)));
            *next++ = (byte)'=';
            next = Put(value, next, end);
        }

        envp[j] = null;
        return block;
    }

    private static byte* Put(string text, byte* next, byte* end)
    {
        next += Encoding.UTF8.GetBytes(text, new Span<byte>(next, (int)(end - next)));
        *next = 0;
        return next + 1;
    }
}
