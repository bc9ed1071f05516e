using System.Buffers;
using System.Text;
using System.Text.Json;

namespace GitProc.Ipc;

/// <summary>
/// Finds a key that occurs twice in one object anywhere in a request line (the protocol makes duplicate keys an error).
/// </summary>
/// <remarks>
/// System.Text.Json's <c>AllowDuplicateProperties = false</c> checks only the properties it maps (a duplicate among
/// ignored keys, or inside their values, passes) and names the key only in a message meant for people, so the server
/// scans each line itself. One instance per connection reuses its buffers: a request with a few keys costs one reader
/// pass and no allocation. Objects with many keys switch to a hash set, so a hostile 1 MiB object of distinct keys
/// costs linear time.
/// </remarks>
internal sealed class IpcDuplicateKeys
{
    /// <summary>Up to this many keys an object's keys are compared one by one; beyond, they are hashed.</summary>
    private const int LinearLimit = 16;

    /// <summary>The longest key quoted in full in the error message.</summary>
    private const int MaxQuotedKey = 100;

    private readonly KeyComparer _comparer;
    private byte[] _bytes = new byte[256];
    private int _bytesUsed;
    private Key[] _keys = new Key[16];
    private int _keyCount;
    private Frame[] _frames = new Frame[4];
    private int _depth;

    public IpcDuplicateKeys() => _comparer = new KeyComparer(this);

    /// <summary>
    /// The first key that repeats within its object, as a path from the request object (<c>command</c>,
    /// <c>args.lines</c>, <c>x[2].y</c>); <see langword="null"/> when every object's keys are distinct.
    /// </summary>
    /// <param name="line">One well-formed JSON value (the request line, already parsed once).</param>
    public string? Find(in ReadOnlySequence<byte> line)
    {
        var reader = CreateReader(line);
        return Find(ref reader);
    }

    /// <summary>A reader of one request line: over its span when it has one, which reads several times faster.</summary>
    internal static Utf8JsonReader CreateReader(in ReadOnlySequence<byte> line) =>
        line.IsSingleSegment ? new Utf8JsonReader(line.FirstSpan) : new Utf8JsonReader(line);

    private string? Find(ref Utf8JsonReader reader)
    {
        try
        {
            while (reader.Read())
            {
                switch (reader.TokenType)
                {
                    case JsonTokenType.StartObject:
                    case JsonTokenType.StartArray:
                        CountElement();
                        Push(reader.TokenType == JsonTokenType.StartArray);
                        break;

                    case JsonTokenType.EndObject:
                    case JsonTokenType.EndArray:
                        Pop();
                        if (_depth == 0)
                        {
                            return null;
                        }

                        break;

                    case JsonTokenType.PropertyName:
                        if (!Add(ref reader))
                        {
                            return DescribeLastKey();
                        }

                        break;

                    default:
                        CountElement();
                        break;
                }
            }

            return null;
        }
        finally
        {
            Reset();
        }
    }

    private void CountElement()
    {
        if (_depth > 0 && _frames[_depth - 1].IsArray)
        {
            _frames[_depth - 1].Elements++;
        }
    }

    private void Push(bool isArray)
    {
        if (_depth == _frames.Length)
        {
            Array.Resize(ref _frames, _frames.Length * 2);
        }

        _frames[_depth++] = new Frame { IsArray = isArray, FirstKey = _keyCount, FirstByte = _bytesUsed };
    }

    private void Pop()
    {
        ref var frame = ref _frames[--_depth];
        _keyCount = frame.FirstKey;
        _bytesUsed = frame.FirstByte;
        frame = default;
    }

    /// <summary>Records the reader's property name in the current object; <see langword="false"/> if it was there already.</summary>
    private bool Add(ref Utf8JsonReader reader)
    {
        // Unescaped, a name is never longer than as written.
        var maxLength = reader.HasValueSequence ? checked((int)reader.ValueSequence.Length) : reader.ValueSpan.Length;
        if (_bytes.Length - _bytesUsed < maxLength)
        {
            Array.Resize(ref _bytes, Math.Max(_bytes.Length * 2, _bytesUsed + maxLength));
        }

        var length = reader.CopyString(_bytes.AsSpan(_bytesUsed));
        if (_keyCount == _keys.Length)
        {
            Array.Resize(ref _keys, _keys.Length * 2);
        }

        var key = new Key(_bytesUsed, length);
        _keys[_keyCount++] = key;
        _bytesUsed += length;

        ref var frame = ref _frames[_depth - 1];
        var count = _keyCount - frame.FirstKey;
        if (count <= LinearLimit)
        {
            var name = _bytes.AsSpan(key.Offset, key.Length);
            for (var i = frame.FirstKey; i < _keyCount - 1; i++)
            {
                if (name.SequenceEqual(_bytes.AsSpan(_keys[i].Offset, _keys[i].Length)))
                {
                    return false;
                }
            }

            return true;
        }

        if (frame.Hashed is null)
        {
            frame.Hashed = new HashSet<Key>(_comparer);
            for (var i = frame.FirstKey; i < _keyCount - 1; i++)
            {
                frame.Hashed.Add(_keys[i]);
            }
        }

        return frame.Hashed.Add(key);
    }

    private string DescribeLastKey()
    {
        var path = new StringBuilder();
        for (var level = 1; level <= _depth; level++)
        {
            var parent = _frames[level - 1];
            if (level == _depth)
            {
                AppendName(path, _keys[_keyCount - 1]);
            }
            else if (parent.IsArray)
            {
                path.Append('[').Append(parent.Elements - 1).Append(']');
            }
            else
            {
                // The name under which the next frame's container sits is its parent object's last key.
                AppendName(path, _keys[_frames[level].FirstKey - 1]);
            }
        }

        return path.ToString();
    }

    private void AppendName(StringBuilder path, Key key)
    {
        if (path.Length > 0)
        {
            path.Append('.');
        }

        var name = Encoding.UTF8.GetString(_bytes, key.Offset, key.Length);
        path.Append(name.Length > MaxQuotedKey ? string.Concat(name.AsSpan(0, MaxQuotedKey), "…") : name);
    }

    private void Reset()
    {
        Array.Clear(_frames, 0, _depth);
        _depth = 0;
        _keyCount = 0;
        _bytesUsed = 0;

        // A hostile line may have grown the buffers; don't keep a megabyte per idle connection.
        if (_bytes.Length > 64 * 1024)
        {
            _bytes = new byte[256];
        }

        if (_keys.Length > 4096)
        {
            _keys = new Key[16];
        }
    }

    private readonly record struct Key(int Offset, int Length);

    private struct Frame
    {
        public bool IsArray;
        public int FirstKey;
        public int FirstByte;
        public int Elements;
        public HashSet<Key>? Hashed;
    }

    /// <summary>Compares keys by their bytes in the owner's current buffer (which may have been replaced by a larger one).</summary>
    private sealed class KeyComparer(IpcDuplicateKeys owner) : IEqualityComparer<Key>
    {
        public bool Equals(Key x, Key y) =>
            owner._bytes.AsSpan(x.Offset, x.Length).SequenceEqual(owner._bytes.AsSpan(y.Offset, y.Length));

        public int GetHashCode(Key key)
        {
            // HashCode is seeded per process, so a client cannot choose keys that collide.
            var hash = default(HashCode);
            hash.AddBytes(owner._bytes.AsSpan(key.Offset, key.Length));
            return hash.ToHashCode();
        }
    }
}
