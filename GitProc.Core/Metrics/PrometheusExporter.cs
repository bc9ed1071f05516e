using System.Diagnostics.Metrics;
using System.Text;

namespace GitProc.Metrics;

/// <summary>
/// Collects one meter's measurements with a <see cref="MeterListener"/> and writes them in the Prometheus text format:
/// counters are summed, histograms bucketed (by each instrument's advised boundaries), and observable instruments read
/// at each <see cref="CollectAsync"/>. Only the meter of the given <see cref="IMeterFactory"/> is listened to, so
/// several hosts in one process (tests, an application embedding two supervisors) never mix their numbers.
/// </summary>
/// <remarks>
/// A few hundred lines instead of a library: the OpenTelemetry exporter (a beta package, plus the SDK and
/// <c>HttpListener</c>) or prometheus-net would each add more to the NativeAOT binary than the whole of this component
/// (docs/metrics.md has the figures), for the one format the daemon serves.
/// </remarks>
internal sealed class PrometheusExporter : IDisposable
{
    private static readonly double[] DefaultBuckets = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];

    private readonly MeterListener _listener;
    private readonly Lock _familiesLock = new();
    private readonly List<Family> _families = [];
    private readonly SemaphoreSlim _collectGate = new(1, 1);

    // Reused by every collection (they run one at a time): a scrape of 100 services is about 190 KB of text, and a
    // new builder each time would leave twice that in garbage every scrape.
    private readonly StringBuilder _output = new(64 * 1024);

    public PrometheusExporter(IMeterFactory meterFactory, string meterName = GitProcMetrics.MeterName)
        : this((object)meterFactory ?? throw new ArgumentNullException(nameof(meterFactory)), meterName)
    {
    }

    /// <summary>Listens to the meter named <paramref name="meterName"/> whose scope is <paramref name="scope"/> (none: a meter made without a factory).</summary>
    internal PrometheusExporter(object? scope, string meterName)
    {
        _listener = new MeterListener
        {
            InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == meterName && ReferenceEquals(instrument.Meter.Scope, scope))
                {
                    var family = new Family(instrument);
                    lock (_familiesLock)
                    {
                        _families.Add(family);
                    }

                    listener.EnableMeasurementEvents(instrument, family);
                }
            },
            MeasurementsCompleted = (_, state) =>
            {
                lock (_familiesLock)
                {
                    _families.Remove((Family)state!);
                }
            },
        };
        _listener.SetMeasurementEventCallback<int>(static (_, value, tags, state) => ((Family)state!).Record(value, tags));
        _listener.SetMeasurementEventCallback<long>(static (_, value, tags, state) => ((Family)state!).Record(value, tags));
        _listener.SetMeasurementEventCallback<double>(static (_, value, tags, state) => ((Family)state!).Record(value, tags));
        _listener.Start();
    }

    /// <summary>
    /// Reads the observable instruments and returns every metric in the text format, UTF-8. Collections run one at a
    /// time (an observable instrument's values belong to one collection).
    /// </summary>
    public async Task<byte[]> CollectAsync(CancellationToken cancellationToken = default)
    {
        await _collectGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            Family[] families;
            lock (_familiesLock)
            {
                families = [.. _families];
            }

            foreach (var family in families.Where(f => f.IsObservable))
            {
                family.Clear();
            }

            _listener.RecordObservableInstruments();
            _output.Clear();
            foreach (var family in families)
            {
                family.Write(_output);
            }

            return Utf8(_output);
        }
        finally
        {
            _collectGate.Release();
        }
    }

    /// <summary>The builder's text as UTF-8, encoded from its chunks (no intermediate string).</summary>
    private static byte[] Utf8(StringBuilder text)
    {
        var encoder = Encoding.UTF8.GetEncoder();
        var length = 0;
        foreach (var chunk in text.GetChunks())
        {
            length += encoder.GetByteCount(chunk.Span, flush: false);
        }

        length += encoder.GetByteCount([], flush: true);
        encoder.Reset();
        var bytes = new byte[length];
        var written = 0;
        foreach (var chunk in text.GetChunks())
        {
            written += encoder.GetBytes(chunk.Span, bytes.AsSpan(written), flush: false);
        }

        encoder.GetBytes([], bytes.AsSpan(written), flush: true);
        return bytes;
    }

    public void Dispose()
    {
        _listener.Dispose();
        _collectGate.Dispose();
    }

    private enum Kind
    {
        Counter,
        Gauge,
        Histogram,
    }

    /// <summary>One instrument: its metric family and its series, one per set of labels.</summary>
    private sealed class Family
    {
        private readonly Lock _lock = new();
        private readonly Dictionary<string, Series> _series = new(StringComparer.Ordinal);
        private readonly string _name;
        private readonly string _help;
        private readonly Kind _kind;
        private readonly bool _cumulative;
        private readonly double[] _bounds;
        private readonly string[] _le;

        public Family(Instrument instrument)
        {
            var type = instrument.GetType();
            var generic = type.IsGenericType ? type.GetGenericTypeDefinition() : type;
            _kind = generic == typeof(Counter<>) || generic == typeof(ObservableCounter<>) ? Kind.Counter
                : generic == typeof(Histogram<>) ? Kind.Histogram
                : Kind.Gauge;

            // A counter or up-down counter adds deltas; an observable one reports its total, and a gauge its value.
            _cumulative = generic == typeof(Counter<>) || generic == typeof(UpDownCounter<>) || _kind == Kind.Histogram;
            IsObservable = instrument.IsObservable;
            _name = PrometheusText.MetricName(instrument.Name, instrument.Unit, _kind == Kind.Counter);
            _help = instrument.Description ?? instrument.Name;
            _bounds = instrument switch
            {
                Histogram<double> { Advice.HistogramBucketBoundaries: { } advised } => [.. advised],
                Histogram<long> { Advice.HistogramBucketBoundaries: { } advised } => [.. advised.Select(b => (double)b)],
                Histogram<int> { Advice.HistogramBucketBoundaries: { } advised } => [.. advised.Select(b => (double)b)],
                _ => DefaultBuckets,
            };
            _le = [.. _bounds.Append(double.PositiveInfinity).Select(bound =>
            {
                var le = new StringBuilder("le=\"");
                PrometheusText.AppendValue(le, bound);
                return le.Append('"').ToString();
            })];
        }

        public bool IsObservable { get; }

        public void Clear()
        {
            lock (_lock)
            {
                _series.Clear();
            }
        }

        public void Record(double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            var labels = Labels(tags);
            lock (_lock)
            {
                if (!_series.TryGetValue(labels, out var series))
                {
                    series = new Series(_kind == Kind.Histogram ? new long[_bounds.Length + 1] : null);
                    _series.Add(labels, series);
                }

                if (_kind == Kind.Histogram)
                {
                    var bucket = Array.BinarySearch(_bounds, value);
                    series.Buckets![bucket >= 0 ? bucket : ~bucket]++;
                    series.Count++;
                    series.Value += value;
                }
                else
                {
                    series.Value = _cumulative ? series.Value + value : value;
                }
            }
        }

        /// <summary>The series's labels as written between braces (<c>service="web",reason="signal"</c>), sorted by name.</summary>
        private static string Labels(ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            if (tags.Length == 0)
            {
                return "";
            }

            // Every measurement of a scrape comes through here: one builder per thread, and the tags sorted in place
            // (one to three of them) rather than copied.
            var labels = t_labels ??= new StringBuilder(128);
            labels.Clear();
            Span<int> order = stackalloc int[tags.Length];
            for (var i = 0; i < order.Length; i++)
            {
                var j = i;
                for (; j > 0 && string.CompareOrdinal(tags[order[j - 1]].Key, tags[i].Key) > 0; j--)
                {
                    order[j] = order[j - 1];
                }

                order[j] = i;
            }

            foreach (var index in order)
            {
                var (key, value) = tags[index];
                if (labels.Length > 0)
                {
                    labels.Append(',');
                }

                labels.Append(PrometheusText.LabelName(key)).Append('=');
                PrometheusText.AppendLabelValue(labels, value as string ?? Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture) ?? "");
            }

            return labels.ToString();
        }

        [ThreadStatic]
        private static StringBuilder? t_labels;

        public void Write(StringBuilder output)
        {
            lock (_lock)
            {
                if (_series.Count == 0)
                {
                    return;
                }

                output.Append("# HELP ").Append(_name).Append(' ');
                PrometheusText.AppendHelp(output, _help);
                output.Append("\n# TYPE ").Append(_name).Append(' ')
                    .Append(_kind switch { Kind.Counter => "counter", Kind.Histogram => "histogram", _ => "gauge" })
                    .Append('\n');
                var keys = _series.Keys.ToArray();
                Array.Sort(keys, StringComparer.Ordinal);
                foreach (var labels in keys)
                {
                    var series = _series[labels];
                    if (_kind == Kind.Histogram)
                    {
                        WriteHistogram(output, labels, series);
                    }
                    else
                    {
                        Sample(output, _name, "", labels, null, series.Value);
                    }
                }
            }
        }

        private void WriteHistogram(StringBuilder output, string labels, Series series)
        {
            long cumulative = 0;
            for (var i = 0; i <= _bounds.Length; i++)
            {
                cumulative += series.Buckets![i];
                Sample(output, _name, "_bucket", labels, _le[i], cumulative);
            }

            Sample(output, _name, "_sum", labels, null, series.Value);
            Sample(output, _name, "_count", labels, null, series.Count);
        }

        private static void Sample(StringBuilder output, string name, string suffix, string labels, string? extra, double value)
        {
            output.Append(name).Append(suffix);
            if (labels.Length > 0 || extra is not null)
            {
                output.Append('{').Append(labels);
                if (extra is not null)
                {
                    output.Append(labels.Length > 0 ? "," : "").Append(extra);
                }

                output.Append('}');
            }

            output.Append(' ');
            PrometheusText.AppendValue(output, value);
            output.Append('\n');
        }
    }

    /// <summary>One series: a value (a histogram's sum) and, for a histogram, its count and per-bucket counts.</summary>
    private sealed class Series(long[]? buckets)
    {
        public double Value { get; set; }

        public long Count { get; set; }

        public long[]? Buckets { get; } = buckets;
    }
}
