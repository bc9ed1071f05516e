using System.Diagnostics;
using GitProc.Dependencies;
using GitProc.UnitFiles;
using Microsoft.Extensions.DependencyInjection;

namespace GitProc.Core.Tests.Dependencies;

[TestFixture]
public sealed class DependencyResolverTests
{
    private static readonly TimeSpan GenerousBound = TimeSpan.FromSeconds(5);

    [Test]
    public void Start_order_of_the_reference_example_puts_dependencies_first()
    {
        var graph = Build(
            Service("database"),
            Service("app", after: ["database"]),
            Service("worker", after: ["app"]));

        Assert.That(graph.GetStartOrder(["worker"]), Is.EqualTo(new[] { "database", "app", "worker" }));
        Assert.That(graph.HasCycle, Is.False);
        Assert.That(graph.GetDependencies("worker"), Is.EqualTo(new[] { "app" }));
    }

    [Test]
    public void Chain_added_in_reverse_still_starts_dependencies_first()
    {
        var graph = Build(
            Service("c", after: ["b"]),
            Service("b", requires: ["a"]),
            Service("a"));

        Assert.That(graph.GetStartOrder(), Is.EqualTo(new[] { "a", "b", "c" }));
    }

    [Test]
    public void Diamond_starts_the_shared_dependency_once_before_both_branches()
    {
        var graph = Build(
            Service("top", after: ["left", "right"]),
            Service("left", requires: ["base"]),
            Service("right", after: ["base"]),
            Service("base"));

        var order = graph.GetStartOrder(["top"]);

        Assert.That(order, Is.EqualTo(new[] { "base", "left", "right", "top" }));
        Assert.That(order.Count(s => s == "base"), Is.EqualTo(1));
    }

    [Test]
    public void Independent_services_keep_the_order_they_were_added_whatever_the_request_order()
    {
        var graph = Build(new[] { "zeta", "alpha", "mid", "beta" }.Select(name => Service(name)).ToArray());

        Assert.That(graph.GetStartOrder(), Is.EqualTo(new[] { "zeta", "alpha", "mid", "beta" }));
        Assert.That(graph.GetStartOrder(["beta", "zeta", "alpha"]), Is.EqualTo(new[] { "zeta", "alpha", "beta" }));
    }

    [Test]
    public void A_dependency_added_late_comes_right_before_its_first_dependent()
    {
        var graph = Build(
            Service("x"),
            Service("app", after: ["db"]),
            Service("y"),
            Service("db"));

        Assert.That(graph.GetStartOrder(), Is.EqualTo(new[] { "x", "db", "app", "y" }));
    }

    [Test]
    public void Targets_pull_in_their_transitive_dependencies_and_nothing_else()
    {
        var graph = Build(
            Service("unrelated"),
            Service("db"),
            Service("cache", requires: ["db"]),
            Service("api", after: ["cache"]),
            Service("web", after: ["api"]));

        Assert.That(graph.GetStartOrder(["api"]), Is.EqualTo(new[] { "db", "cache", "api" }));
    }

    [Test]
    public void Wants_pulls_a_service_in_without_ordering_it_first()
    {
        var graph = Build(
            Service("app", wants: ["metrics"]),
            Service("metrics"),
            Service("other"));

        Assert.That(graph.GetStartOrder(["app"]), Is.EqualTo(new[] { "app", "metrics" }));
        Assert.That(graph.GetDependencies("app"), Is.Empty);
        Assert.That(graph.GetDependents("metrics"), Is.Empty);
    }

    [Test]
    public void Mutual_wants_is_not_a_cycle()
    {
        var graph = Build(
            Service("a", wants: ["b"]),
            Service("b", wants: ["a"]));

        Assert.That(graph.HasCycle, Is.False);
        Assert.That(graph.GetStartOrder(["b"]), Is.EqualTo(new[] { "a", "b" }));
    }

    [Test]
    public void Wanted_service_still_starts_after_its_own_dependencies()
    {
        var graph = Build(
            Service("app", wants: ["metrics"]),
            Service("metrics", after: ["store"]),
            Service("store"));

        Assert.That(graph.GetStartOrder(["app"]), Is.EqualTo(new[] { "app", "store", "metrics" }));
    }

    [Test]
    public void Service_suffix_is_accepted_on_names_and_dependencies()
    {
        var graph = Build(
            Service("db.service"),
            Service("app", requires: ["db.service"]));

        Assert.That(graph.GetStartOrder(["app.service"]), Is.EqualTo(new[] { "db", "app" }));
        Assert.That(graph.Validation.IsValid, Is.True);
    }

    [Test]
    public void Stop_order_is_the_exact_reverse_of_the_start_order()
    {
        var graph = Build(
            Service("web", after: ["api"], wants: ["metrics"]),
            Service("metrics"),
            Service("api", requires: ["db", "cache"]),
            Service("cache", after: ["db"]),
            Service("db"));

        var start = graph.GetStartOrder();
        var stop = graph.GetStopOrder();

        Assert.That(stop, Is.EqualTo(start.Reverse()));
        Assert.That(graph.GetStopOrder(["api"]), Is.EqualTo(new[] { "api", "cache", "db" }));
    }

    [Test]
    public void Self_dependency_is_a_cycle_of_one()
    {
        var graph = Build(
            Service("loop", after: ["loop"]));

        Assert.That(graph.HasCycle, Is.True);
        var ex = Assert.Throws<DependencyCycleException>(() => graph.GetStartOrder());
        Assert.That(ex.Cycle, Is.EqualTo(new[] { "loop" }));
        Assert.That(ex.Message, Does.StartWith("Dependency cycle: loop -> loop"));
    }

    [Test]
    public void Cycle_of_two_names_both_services()
    {
        var graph = Build(
            Service("a", requires: ["b"]),
            Service("b", after: ["a"]));

        var ex = Assert.Throws<DependencyCycleException>(() => graph.GetStartOrder(["b"]));

        Assert.That(ex.Cycle, Is.EqualTo(new[] { "a", "b" }));
        Assert.That(ex.Message, Does.StartWith("Dependency cycle: a -> b -> a"));
        Assert.That(ex, Is.InstanceOf<GitProcException>());
    }

    [Test]
    public void Cycle_of_three_is_reported_in_cycle_order_from_the_first_added_service()
    {
        var graph = Build(
            Service("c", after: ["a"]),
            Service("a", after: ["b"]),
            Service("b", after: ["c"]));

        var ex = Assert.Throws<DependencyCycleException>(() => graph.GetStartOrder());

        Assert.That(ex.Cycle, Is.EqualTo(new[] { "c", "a", "b" }));
        Assert.That(ex.Message, Does.StartWith("Dependency cycle: c -> a -> b -> c"));
        Assert.That(graph.Cycles, Has.Count.EqualTo(1));
        Assert.That(graph.Cycles[0], Is.EqualTo(new[] { "c", "a", "b" }));
    }

    [Test]
    public void Cycle_hidden_in_a_bigger_graph_is_named_exactly()
    {
        var graph = Build(
            Service("root"),
            Service("lib", after: ["root"]),
            Service("front", after: ["gateway", "lib"]),
            Service("gateway", requires: ["auth"]),
            Service("auth", after: ["sessions", "lib"]),
            Service("sessions", after: ["gateway"]),
            Service("independent", after: ["root"]));

        var ex = Assert.Throws<DependencyCycleException>(() => graph.GetStartOrder(["front"]));

        Assert.That(ex.Cycle, Is.EqualTo(new[] { "gateway", "auth", "sessions" }));
        Assert.That(ex.Message, Does.Contain("gateway -> auth -> sessions -> gateway"));
        Assert.That(graph.GetStartOrder(["independent"]), Is.EqualTo(new[] { "root", "independent" }));
    }

    [Test]
    public void Every_separate_cycle_is_found_and_validated_as_an_error()
    {
        var graph = Build(
            Service("a", after: ["b"]),
            Service("b", after: ["a"]),
            Service("ok"),
            Service("x", after: ["y"]),
            Service("y", after: ["z"]),
            Service("z", after: ["x"]),
            Service("s", after: ["s"]));

        Assert.That(graph.Cycles, Is.EqualTo(new[]
        {
            new[] { "a", "b" },
            new[] { "x", "y", "z" },
            new[] { "s" },
        }));

        var validation = graph.Validation;
        Assert.That(validation.IsValid, Is.False);
        Assert.That(validation.Errors.Select(e => e.Kind), Is.All.EqualTo(DependencyDiagnosticKind.Cycle));
        Assert.That(validation.Errors.Select(e => e.Cycle.Count), Is.EqualTo(new[] { 2, 3, 1 }));
        Assert.That(validation.Errors[1].Message, Does.StartWith("Dependency cycle: x -> y -> z -> x"));
    }

    [Test]
    public void Cycle_outside_the_requested_set_does_not_block_it()
    {
        var graph = Build(
            Service("a", after: ["b"]),
            Service("b", after: ["a"]),
            Service("fine"));

        Assert.That(graph.GetStartOrder(["fine"]), Is.EqualTo(new[] { "fine" }));
        Assert.Throws<DependencyCycleException>(() => graph.GetStopOrder());
    }

    [Test]
    public void Requires_on_a_missing_service_is_an_error_naming_both()
    {
        var graph = Build(
            Service("app", requires: ["database"]));

        var ex = Assert.Throws<MissingDependencyException>(() => graph.GetStartOrder());

        Assert.That(ex.Service, Is.EqualTo("app"));
        Assert.That(ex.MissingDependency, Is.EqualTo("database"));
        Assert.That(ex.Message, Does.Contain("'app' requires 'database'"));
        Assert.That(ex.Message, Does.Contain("database.service is not in the repository"));
        Assert.That(ex, Is.InstanceOf<DependencyException>());

        var validation = graph.Validation;
        Assert.That(validation.Errors, Has.Count.EqualTo(1));
        Assert.That(validation.Errors[0].Kind, Is.EqualTo(DependencyDiagnosticKind.MissingRequiredService));
        Assert.That(validation.Errors[0].Message, Is.EqualTo(ex.Message));
    }

    [Test]
    public void After_and_Wants_on_missing_services_are_warnings_and_ignored()
    {
        var graph = Build(
            Service("app", after: ["ghost"], wants: ["phantom"]));

        Assert.That(graph.GetStartOrder(), Is.EqualTo(new[] { "app" }));
        Assert.That(graph.GetDependencies("app"), Is.Empty);

        var validation = graph.Validation;
        Assert.That(validation.IsValid, Is.True);
        Assert.That(validation.Warnings.Select(w => (w.Kind, w.Dependency)), Is.EqualTo(new[]
        {
            (DependencyDiagnosticKind.MissingOrderedService, (string?)"ghost"),
            (DependencyDiagnosticKind.MissingWantedService, (string?)"phantom"),
        }));
        Assert.That(validation.Warnings[0].Message, Does.Contain("After=ghost"));
    }

    [Test]
    public void Non_service_units_are_ignored_in_all_lists_with_warnings()
    {
        var graph = Build(
            Service(
                "app",
                after: ["network.target", "db"],
                requires: ["network-online.target", "dbus.socket"],
                wants: ["tmp.mount", "backup.timer"]),
            Service("db"));

        Assert.That(graph.GetStartOrder(["app"]), Is.EqualTo(new[] { "db", "app" }));
        var validation = graph.Validation;
        Assert.That(validation.IsValid, Is.True);
        Assert.That(validation.Warnings.Select(w => w.Dependency), Is.EqualTo(new[]
        {
            "network.target", "network-online.target", "dbus.socket", "tmp.mount", "backup.timer",
        }));
        Assert.That(validation.Warnings.Select(w => w.Kind), Is.All.EqualTo(DependencyDiagnosticKind.NonServiceUnit));
        Assert.That(validation.Warnings[1].Message, Does.Contain("Requires=network-online.target"));
    }

    [Test]
    public void A_dotted_name_with_the_service_suffix_is_a_service()
    {
        var app = Service("app", requires: ["my.target.service"]);

        Assert.Throws<MissingDependencyException>(() => Build(app).GetStartOrder());
        Assert.That(Build(app, Service("my.target")).GetStartOrder(), Is.EqualTo(new[] { "my.target", "app" }));
    }

    [Test]
    public void Dependents_and_required_by_list_direct_reverse_edges_in_add_order()
    {
        var graph = Build(
            Service("db"),
            Service("api", requires: ["db"]),
            Service("report", after: ["db"]),
            Service("cron", wants: ["db"]),
            Service("web", after: ["api"]));

        Assert.That(graph.GetDependents("db"), Is.EqualTo(new[] { "api", "report" }));
        Assert.That(graph.GetRequiredBy("db"), Is.EqualTo(new[] { "api" }));
        Assert.That(graph.GetDependents("web"), Is.Empty);
    }

    [Test]
    public void Dependencies_are_after_then_requires_without_duplicates()
    {
        var graph = Build(
            Service("a"),
            Service("b"),
            Service("c"),
            Service("app", after: ["c", "a"], requires: ["a", "b"]));

        Assert.That(graph.GetDependencies("app"), Is.EqualTo(new[] { "c", "a", "b" }));
        Assert.That(graph.GetDependencies("nobody"), Is.Empty);
    }

    [Test]
    public void A_service_given_again_takes_its_later_dependencies_and_keeps_its_first_place()
    {
        var graph = Build(
            Service("first", after: ["second"]),
            Service("second"),
            Service("third"),
            Service("first"));

        Assert.That(graph.GetStartOrder(), Is.EqualTo(new[] { "first", "second", "third" }));
        Assert.That(graph.GetDependents("second"), Is.Empty);
    }

    [Test]
    public void Unknown_target_is_rejected_with_its_name()
    {
        var graph = Build(
            Service("known"));

        var ex = Assert.Throws<ArgumentException>(() => graph.GetStartOrder(["known", "stranger"]));

        Assert.That(ex.Message, Does.Contain("stranger"));
    }

    [Test]
    public void Empty_graph_has_empty_orders()
    {
        var graph = Build();

        Assert.That(graph.GetStartOrder(), Is.Empty);
        Assert.That(graph.GetStopOrder(), Is.Empty);
        Assert.That(graph.HasCycle, Is.False);
        Assert.That(graph.Validation.IsValid, Is.True);
    }

    [Test]
    public void ServiceDependencies_From_uses_the_units_dependency_lists()
    {
        var graph = Build(
            ServiceDependencies.From(new UnitFile { Name = "a", FileName = "a.service", After = ["b", "network.target"], Wants = ["c"] }),
            ServiceDependencies.From(new UnitFile { Name = "b", FileName = "b.service", Requires = ["d"] }),
            ServiceDependencies.From(new UnitFile { Name = "c", FileName = "c.service" }),
            ServiceDependencies.From(new UnitFile { Name = "d", FileName = "d.service" }));

        Assert.That(graph.GetStartOrder(["a"]), Is.EqualTo(new[] { "d", "b", "a", "c" }));
        Assert.That(graph.GetRequiredBy("d"), Is.EqualTo(new[] { "b" }));
        Assert.That(graph.Validation.Warnings.Single().Dependency, Is.EqualTo("network.target"));
    }

    [Test]
    public void Long_chain_of_1000_resolves_without_recursion_limits()
    {
        const int count = 1000;
        var services = new List<ServiceDependencies>();
        for (var i = count - 1; i >= 0; i--)
        {
            services.Add(Service($"s{i}", after: i == 0 ? null : [$"s{i - 1}"]));
        }

        var graph = Build([.. services]);

        var stopwatch = Stopwatch.StartNew();
        var order = graph.GetStartOrder([$"s{count - 1}"]);
        var hasCycle = graph.HasCycle;
        stopwatch.Stop();

        Assert.That(order, Is.EqualTo(Enumerable.Range(0, count).Select(i => $"s{i}")));
        Assert.That(hasCycle, Is.False);
        Assert.That(stopwatch.Elapsed, Is.LessThan(GenerousBound));
    }

    [Test]
    public void Cycle_closing_a_chain_of_1000_names_all_1000_services()
    {
        const int count = 1000;
        var graph = Build([.. Enumerable.Range(0, count).Select(i => Service($"s{i}", requires: [$"s{(i + 1) % count}"]))]);

        var stopwatch = Stopwatch.StartNew();
        var ex = Assert.Throws<DependencyCycleException>(() => graph.GetStartOrder());
        stopwatch.Stop();

        Assert.That(ex.Cycle, Is.EqualTo(Enumerable.Range(0, count).Select(i => $"s{i}")));
        Assert.That(stopwatch.Elapsed, Is.LessThan(GenerousBound));
    }

    [Test]
    public void Random_dag_of_1000_orders_every_edge_correctly_and_deterministically()
    {
        const int count = 1000;
        var random = new Random(20260101);
        var dependencies = new List<string>[count];
        for (var i = 0; i < count; i++)
        {
            // Edges only to lower numbers keep it acyclic; services are added shuffled so order is not given away.
            dependencies[i] = Enumerable.Range(0, random.Next(0, 6))
                .Where(_ => i > 0)
                .Select(_ => $"s{random.Next(0, i)}")
                .Distinct()
                .ToList();
        }

        var addOrder = Enumerable.Range(0, count).OrderBy(_ => random.Next()).ToList();
        var services = addOrder
            .Select(i => Service($"s{i}", dependencies[i].Where((_, k) => k % 2 == 0), dependencies[i].Where((_, k) => k % 2 == 1)))
            .ToArray();
        var graph = Build(services);
        var again = Build(services);

        var stopwatch = Stopwatch.StartNew();
        var order = graph.GetStartOrder();
        var validation = graph.Validation;
        stopwatch.Stop();

        Assert.That(order, Has.Count.EqualTo(count));
        Assert.That(order, Is.Unique);
        var position = order.Select((name, index) => (name, index)).ToDictionary(p => p.name, p => p.index);
        for (var i = 0; i < count; i++)
        {
            foreach (var dependency in dependencies[i])
            {
                Assert.That(position[dependency], Is.LessThan(position[$"s{i}"]), $"s{i} depends on {dependency}");
            }
        }

        Assert.That(validation.IsValid, Is.True);
        Assert.That(again.GetStartOrder(), Is.EqualTo(order));
        Assert.That(graph.GetStopOrder(), Is.EqualTo(order.AsEnumerable().Reverse()));
        Assert.That(stopwatch.Elapsed, Is.LessThan(GenerousBound));
    }

    [Test]
    public void AddGitProc_registers_one_stateless_resolver_whose_graphs_are_independent()
    {
        var services = new ServiceCollection();
        services.AddGitProc();
        using var provider = services.BuildServiceProvider();

        var resolver = provider.GetRequiredService<IDependencyResolver>();
        var first = resolver.Build([Service("db"), Service("app", requires: ["db"])]);
        var second = resolver.Build([Service("app", requires: ["db"])]);

        Assert.That(provider.GetRequiredService<IDependencyResolver>(), Is.SameAs(resolver));
        Assert.That(first.GetStartOrder(), Is.EqualTo(new[] { "db", "app" }));
        Assert.That(second.Validation.IsValid, Is.False);
        Assert.That(first.Validation.IsValid, Is.True);
    }

    [Test]
    public void Graph_answers_from_many_threads_at_once_as_from_one()
    {
        var graph = Build([.. Enumerable.Range(0, 200).Select(i => Service($"s{i}", after: i == 0 ? null : [$"s{i - 1}"]))]);
        var expected = graph.GetStartOrder(["s199"]);

        var answers = Enumerable.Range(0, 8).AsParallel().Select(_ => (graph.GetStartOrder(["s199"]), graph.Cycles.Count, graph.GetDependents("s0"))).ToList();

        Assert.That(answers.Select(a => a.Item1), Is.All.EqualTo(expected));
        Assert.That(answers.Select(a => a.Count), Is.All.EqualTo(0));
        Assert.That(answers.Select(a => a.Item3), Is.All.EqualTo(new[] { "s1" }));
    }

    [Test]
    public void Build_from_units_takes_each_units_three_lists()
    {
        IDependencyResolver resolver = new DependencyResolver();
        var graph = resolver.Build(
        [
            new UnitFile { Name = "web", FileName = "web.service", After = ["cache"], Requires = ["db"], Wants = ["metrics"] },
            new UnitFile { Name = "cache", FileName = "cache.service" },
            new UnitFile { Name = "db", FileName = "db.service" },
            new UnitFile { Name = "metrics", FileName = "metrics.service" },
        ]);

        Assert.That(graph.Services, Is.EqualTo(new[] { "web", "cache", "db", "metrics" }));
        Assert.That(graph.GetStartOrder(["web"]), Is.EqualTo(new[] { "cache", "db", "web", "metrics" }));
        Assert.That(graph.GetRequiredBy("db"), Is.EqualTo(new[] { "web" }));
    }

    private static IDependencyGraph Build(params ServiceDependencies[] services) => new DependencyResolver().Build(services);

    private static ServiceDependencies Service(string name, IEnumerable<string>? after = null, IEnumerable<string>? requires = null, IEnumerable<string>? wants = null) =>
        new(name) { After = [.. after ?? []], Requires = [.. requires ?? []], Wants = [.. wants ?? []] };
}
