using System.Buffers;
using System.Diagnostics;
using System.Text;
using GitProc.Ipc;

namespace GitProc.Core.Tests.Ipc;

public class IpcDuplicateKeysTests
{
    [TestCase("""{"command":"status","service":"web","args":{"lines":1,"follow":true}}""")]
    [TestCase("""{"a":{"x":1},"b":{"x":1},"c":[{"x":1},{"x":1}]}""", TestName = "The same key in different objects")]
    [TestCase("""{"a":1,"A":2,"a ":3}""", TestName = "Keys that differ in case or spacing")]
    [TestCase("""{}""")]
    public void Distinct_keys_pass(string json) =>
        Assert.That(new IpcDuplicateKeys().Find(Sequence(json)), Is.Null);

    [TestCase("""{"command":"stop","command":"start"}""", "command")]
    [TestCase("""{"command":"status","args":{"lines":1,"follow":true,"lines":2}}""", "args.lines")]
    [TestCase("""{"a":[1,{"b":[[],{"c":0,"c":0}]}]}""", "a[1].b[1].c")]
    [TestCase("""{"x":{"y":1},"x":2}""", "x")]
    [TestCase("""{"k\u00e9y":1,"kéy":2}""", "kéy")]
    [TestCase("""{"a\"b":1,"a\u0022b":2}""", "a\"b")]
    public void A_repeated_key_is_named_with_its_path(string json, string expected) =>
        Assert.That(new IpcDuplicateKeys().Find(Sequence(json)), Is.EqualTo(expected));

    [Test]
    public void A_duplicate_after_many_keys_is_found_and_the_scanner_is_reusable_afterwards()
    {
        var keys = new IpcDuplicateKeys();
        var many = "{" + string.Join(",", Enumerable.Range(0, 40).Select(i => $"\"k{i}\":{i}")) + ",\"k7\":0}";

        Assert.Multiple(() =>
        {
            Assert.That(keys.Find(Sequence(many)), Is.EqualTo("k7"));
            Assert.That(keys.Find(Sequence("""{"args":{"k7":1}}""")), Is.Null, "nothing left over from the previous line");
            Assert.That(keys.Find(Sequence("""{"a":1,"b":{"a":1,"a":1}}""")), Is.EqualTo("b.a"));
        });
    }

    [Test]
    public void A_line_split_across_buffer_segments_is_read_whole()
    {
        var json = """{"command":"status","service":"web","comm""" + """and":"x"}""";

        Assert.That(new IpcDuplicateKeys().Find(Sequence(json, splitEvery: 3)), Is.EqualTo("command"));
    }

    [Test]
    public void A_megabyte_of_distinct_keys_takes_linear_time()
    {
        var json = new StringBuilder("{");
        for (var i = 0; json.Length < 1_000_000; i++)
        {
            json.Append('"').Append(i).Append("\":0,");
        }

        json.Append("\"end\":0}");
        var watch = Stopwatch.StartNew();

        var duplicate = new IpcDuplicateKeys().Find(Sequence(json.ToString()));

        Assert.That(duplicate, Is.Null);
        Assert.That(watch.Elapsed, Is.LessThan(TimeSpan.FromSeconds(5)), "a generous bound; comparing every pair would take minutes");
    }

    private static ReadOnlySequence<byte> Sequence(string json, int splitEvery = 0)
    {
        var bytes = Encoding.UTF8.GetBytes(json);
        if (splitEvery <= 0)
        {
            return new ReadOnlySequence<byte>(bytes);
        }

        Segment? first = null;
        Segment? last = null;
        for (var offset = 0; offset < bytes.Length; offset += splitEvery)
        {
            var chunk = bytes.AsMemory(offset, Math.Min(splitEvery, bytes.Length - offset));
            last = last is null ? first = new Segment(chunk, 0) : last.Append(chunk);
        }

        return new ReadOnlySequence<byte>(first!, 0, last!, last!.Memory.Length);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }
}
