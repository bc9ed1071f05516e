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
        var resolver = new DependencyResolver();
        resolver.AddService("database");
        resolver.AddService("app", after: ["database"]);
        resolver.AddService("worker", after: ["app"]);

        Assert.That(resolver.GetStartOrder(["worker"]), Is.EqualTo(new[] { "database", "app", "worker" }));
        Assert.That(resolver.HasCycle(), Is.False);
        Assert.That(resolver.GetDependencies("worker"), Is.EqualTo(new[] { "app" }));
    }

    [Test]
    public void Chain_added_in_reverse_still_starts_dependencies_first()
    {
        var resolver = new DependencyResolver();
        resolver.AddService("c", after: ["b"]);
        resolver.AddService("b", requires: ["a"]);
        resolver.AddService("a");

        Assert.That(resolver.GetStartOrder(), Is.EqualTo(new[] { "a", "b", "c" }));
    }

    [Test]
    public void Diamond_starts_the_shared_dependency_once_before_both_branches()
    {
        var resolver = new DependencyResolver();
        resolver.AddService("top", after: ["left", "right"]);
        resolver.AddService("left", requires: ["base"]);
        resolver.AddService("right", after: ["base"]);
        resolver.AddService("base");

        var order = resolver.GetStartOrder(["top"]);

        Assert.That(order, Is.EqualTo(new[] { "base", "left", "right", "top" }));
        Assert.That(order.Count(s => s == "base"), Is.EqualTo(1));
    }

    [Test]
    public void Independent_services_keep_the_order_they_were_added_whatever_the_request_order()
    {
        var resolver = new DependencyResolver();
        foreach (var name in new[] { "zeta", "alpha", "mid", "beta" })
        {
            resolver.AddService(name);
        }

        Assert.That(resolver.GetStartOrder(), Is.EqualTo(new[] { "zeta", "alpha", "mid", "beta" }));
        Assert.That(resolver.GetStartOrder(["beta", "zeta", "alpha"]), Is.EqualTo(new[] { "zeta", "alpha", "beta" }));
    }

    [Test]
    public void A_dependency_added_late_comes_right_before_its_first_dependent()
    {
        var resolver = new DependencyResolver();
        resolver.AddService("x");
        resolver.AddService("app", after: ["db"]);
        resolver.AddService("y");
        resolver.AddService("db");

        Assert.That(resolver.GetStartOrder(), Is.EqualTo(new[] { "x", "db", "app", "y" }));
    }

    [Test]
    public void Targets_pull_in_their_transitive_dependencies_and_nothing_else()
    {
        var resolver = new DependencyResolver();
        resolver.AddService("unrelated");
        resolver.AddService("db");
        resolver.AddService("cache", requires: ["db"]);
        resolver.AddService("api", after: ["cache"]);
        resolver.AddService("web", after: ["api"]);

        Assert.That(resolver.GetStartOrder(["api"]), Is.EqualTo(new[] { "db", "cache", "api" }));
    }

    [Test]
    public void Wants_pulls_a_service_in_without_ordering_it_first()
    {
        var resolver = new DependencyResolver();
        resolver.AddService("app", wants: ["metrics"]);
        resolver.AddService("metrics");
        resolver.AddService("other");

        Assert.That(resolver.GetStartOrder(["app"]), Is.EqualTo(new[] { "app", "metrics" }));
        Assert.That(resolver.GetDependencies("app"), Is.Empty);
        Assert.That(resolver.GetDependents("metrics"), Is.Empty);
    }

    [Test]
    public void Mutual_wants_is_not_a_cycle()
    {
        var resolver = new DependencyResolver();
        resolver.AddService("a", wants: ["b"]);
        resolver.AddService("b", wants: ["a"]);

        Assert.That(resolver.HasCycle(), Is.False);
        Assert.That(resolver.GetStartOrder(["b"]), Is.EqualTo(new[] { "a", "b" }));
    }

    [Test]
    public void Wanted_service_still_starts_after_its_own_dependencies()
    {
        var resolver = new DependencyResolver();
        resolver.AddService("app", wants: ["metrics"]);
        resolver.AddService("metrics", after: ["store"]);
        resolver.AddService("store");

        Assert.That(resolver.GetStartOrder(["app"]), Is.EqualTo(new[] { "app", "store", "metrics" }));
    }

    [Test]
    public void Service_suffix_is_accepted_on_names_and_dependencies()
    {
        var resolver = new DependencyResolver();
        resolver.AddService("db.service");
        resolver.AddService("app", requires: ["db.service"]);

        Assert.That(resolver.GetStartOrder(["app.service"]), Is.EqualTo(new[] { "db", "app" }));
        Assert.That(resolver.Validate().IsValid, Is.True);
    }

    [Test]
    public void Stop_order_is_the_exact_reverse_of_the_start_order()
    {
        var resolver = new DependencyResolver();
        resolver.AddService("web", after: ["api"], wants: ["metrics"]);
        resolver.AddService("metrics");
        resolver.AddService("api", requires: ["db", "cache"]);
        resolver.AddService("cache", after: ["db"]);
        resolver.AddService("db");

        var start = resolver.GetStartOrder();
        var stop = resolver.GetStopOrder();

        Assert.That(stop, Is.EqualTo(start.Reverse()));
        Assert.That(resolver.GetStopOrder(["api"]), Is.EqualTo(new[] { "api", "cache", "db" }));
    }

    [Test]
    public void Self_dependency_is_a_cycle_of_one()
    {
        var resolver = new DependencyResolver();
        resolver.AddService("loop", after: ["loop"]);

        Assert.That(resolver.HasCycle(), Is.True);
        var ex = Assert.Throws<DependencyCycleException>(() => resolver.GetStartOrder());
        Assert.That(ex.Cycle, Is.EqualTo(new[] { "loop" }));
        Assert.That(ex.Message, Does.StartWith("Dependency cycle: loop -> loop"));
    }

    [Test]
    public void Cycle_of_two_names_both_services()
    {
        var resolver = new DependencyResolver();
        resolver.AddService("a", requires: ["b"]);
        resolver.AddService("b", after: ["a"]);

        var ex = Assert.Throws<DependencyCycleException>(() => resolver.GetStartOrder(["b"]));

        Assert.That(ex.Cycle, Is.EqualTo(new[] { "a", "b" }));
        Assert.That(ex.Message, Does.StartWith("Dependency cycle: a -> b -> a"));
        Assert.That(ex, Is.InstanceOf<GitProcException>());
    }

    [Test]
    public void Cycle_of_three_is_reported_in_cycle_order_from_the_first_added_service()
    {
        var resolver = new DependencyResolver();
        resolver.AddService("c", after: ["a"]);
        resolver.AddService("a", after: ["b"]);
        resolver.AddService("b", after: ["c"]);

        var ex = Assert.Throws<DependencyCycleException>(() => resolver.GetStartOrder());

        Assert.That(ex.Cycle, Is.EqualTo(new[] { "c", "a", "b" }));
        Assert.That(ex.Message, Does.StartWith("Dependency cycle: c -> a -> b -> c"));
        Assert.That(resolver.FindCycles(), Has.Count.EqualTo(1));
        Assert.That(resolver.FindCycles()[0], Is.EqualTo(new[] { "c", "a", "b" }));
    }

    [Test]
    public void Cycle_hidden_in_a_bigger_graph_is_named_exactly()
    {
        var resolver = new DependencyResolver();
        resolver.AddService("root");
        resolver.AddService("lib", after: ["root"]);
        resolver.AddService("front", after: ["gateway", "lib"]);
        resolver.AddService("gateway", requires: ["auth"]);
        resolver.AddService("auth", after: ["sessions", "lib"]);
        resolver.AddService("sessions", after: ["gateway"]);
        resolver.AddService("independent", after: ["root"]);

        var ex = Assert.Throws<DependencyCycleException>(() => resolver.GetStartOrder(["front"]));

        Assert.That(ex.Cycle, Is.EqualTo(new[] { "gateway", "auth", "sessions" }));
        Assert.That(ex.Message, Does.Contain("gateway -> auth -> sessions -> gateway"));
        Assert.That(resolver.GetStartOrder(["independent"]), Is.EqualTo(new[] { "root", "independent" }));
    }

    [Test]
    public void Every_separate_cycle_is_found_and_validated_as_an_error()
    {
        var resolver = new DependencyResolver();
        resolver.AddService("a", after: ["b"]);
        resolver.AddService("b", after: ["a"]);
        resolver.AddService("ok");
        resolver.AddService("x", after: ["y"]);
        resolver.AddService("y", after: ["z"]);
        resolver.AddService("z", after: ["x"]);
        resolver.AddService("s", after: ["s"]);

        Assert.That(resolver.FindCycles(), Is.EqualTo(new[]
        {
            new[] { "a", "b" },
            new[] { "x", "y", "z" },
            new[] { "s" },
        }));

        var validation = resolver.Validate();
        Assert.That(validation.IsValid, Is.False);
        Assert.That(validation.Errors.Select(e => e.Kind), Is.All.EqualTo(DependencyDiagnosticKind.Cycle));
        Assert.That(validation.Errors.Select(e => e.Cycle.Count), Is.EqualTo(new[] { 2, 3, 1 }));
        Assert.That(validation.Errors[1].Message, Does.StartWith("Dependency cycle: x -> y -> z -> x"));
    }

    [Test]
    public void Cycle_outside_the_requested_set_does_not_block_it()
    {
        var resolver = new DependencyResolver();
        resolver.AddService("a", after: ["b"]);
        resolver.AddService("b", after: ["a"]);
        resolver.AddService("fine");

        Assert.That(resolver.GetStartOrder(["fine"]), Is.EqualTo(new[] { "fine" }));
        Assert.Throws<DependencyCycleException>(() => resolver.GetStopOrder());
    }

    [Test]
    public void Requires_on_a_missing_service_is_an_error_naming_both()
    {
        var resolver = new DependencyResolver();
        resolver.AddService("app", requires: ["database"]);

        var ex = Assert.Throws<MissingDependencyException>(() => resolver.GetStartOrder());

        Assert.That(ex.Service, Is.EqualTo("app"));
        Assert.That(ex.MissingDependency, Is.EqualTo("database"));
        Assert.That(ex.Message, Does.Contain("'app' requires 'database'"));
        Assert.That(ex.Message, Does.Contain("database.service is not in the repository"));
        Assert.That(ex, Is.InstanceOf<DependencyException>());

        var validation = resolver.Validate();
        Assert.That(validation.Errors, Has.Count.EqualTo(1));
        Assert.That(validation.Errors[0].Kind, Is.EqualTo(DependencyDiagnosticKind.MissingRequiredService));
        Assert.That(validation.Errors[0].Message, Is.EqualTo(ex.Message));
    }

    [Test]
    public void After_and_Wants_on_missing_services_are_warnings_and_ignored()
    {
        var resolver = new DependencyResolver();
        resolver.AddService("app", after: ["ghost"], wants: ["phantom"]);

        Assert.That(resolver.GetStartOrder(), Is.EqualTo(new[] { "app" }));
        Assert.That(resolver.GetDependencies("app"), Is.Empty);

        var validation = resolver.Validate();
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
        var resolver = new DependencyResolver();
        resolver.AddService(
            "app",
            after: ["network.target", "db"],
            requires: ["network-online.target", "dbus.socket"],
            wants: ["tmp.mount", "backup.timer"]);
        resolver.AddService("db");

        Assert.That(resolver.GetStartOrder(["app"]), Is.EqualTo(new[] { "db", "app" }));
        var validation = resolver.Validate();
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
        var resolver = new DependencyResolver();
        resolver.AddService("app", requires: ["my.target.service"]);

        Assert.Throws<MissingDependencyException>(() => resolver.GetStartOrder());
        resolver.AddService("my.target");
        Assert.That(resolver.GetStartOrder(), Is.EqualTo(new[] { "my.target", "app" }));
    }

    [Test]
    public void Dependents_and_required_by_list_direct_reverse_edges_in_add_order()
    {
        var resolver = new DependencyResolver();
        resolver.AddService("db");
        resolver.AddService("api", requires: ["db"]);
        resolver.AddService("report", after: ["db"]);
        resolver.AddService("cron", wants: ["db"]);
        resolver.AddService("web", after: ["api"]);

        Assert.That(resolver.GetDependents("db"), Is.EqualTo(new[] { "api", "report" }));
        Assert.That(resolver.GetRequiredBy("db"), Is.EqualTo(new[] { "api" }));
        Assert.That(resolver.GetDependents("web"), Is.Empty);
    }

    [Test]
    public void Dependencies_are_after_then_requires_without_duplicates()
    {
        var resolver = new DependencyResolver();
        resolver.AddService("a");
        resolver.AddService("b");
        resolver.AddService("c");
        resolver.AddService("app", after: ["c", "a"], requires: ["a", "b"]);

        Assert.That(resolver.GetDependencies("app"), Is.EqualTo(new[] { "c", "a", "b" }));
        Assert.That(resolver.GetDependencies("nobody"), Is.Empty);
    }

    [Test]
    public void Adding_a_service_again_replaces_its_dependencies_and_keeps_its_place()
    {
        var resolver = new DependencyResolver();
        resolver.AddService("first", after: ["second"]);
        resolver.AddService("second");
        resolver.AddService("third");

        resolver.AddService("first");

        Assert.That(resolver.GetStartOrder(), Is.EqualTo(new[] { "first", "second", "third" }));
        Assert.That(resolver.GetDependents("second"), Is.Empty);
    }

    [Test]
    public void Unknown_target_is_rejected_with_its_name()
    {
        var resolver = new DependencyResolver();
        resolver.AddService("known");

        var ex = Assert.Throws<ArgumentException>(() => resolver.GetStartOrder(["known", "stranger"]));

        Assert.That(ex.Message, Does.Contain("stranger"));
    }

    [Test]
    public void Empty_resolver_has_empty_orders()
    {
        var resolver = new DependencyResolver();

        Assert.That(resolver.GetStartOrder(), Is.Empty);
        Assert.That(resolver.GetStopOrder(), Is.Empty);
        Assert.That(resolver.HasCycle(), Is.False);
        Assert.That(resolver.Validate().IsValid, Is.True);
    }

    [Test]
    public void AddUnit_uses_the_units_dependency_lists()
    {
        var resolver = new DependencyResolver();
        resolver.AddUnit(new UnitFile { Name = "a", FileName = "a.service", After = ["b", "network.target"], Wants = ["c"] });
        resolver.AddUnit(new UnitFile { Name = "b", FileName = "b.service", Requires = ["d"] });
        resolver.AddUnit(new UnitFile { Name = "c", FileName = "c.service" });
        resolver.AddUnit(new UnitFile { Name = "d", FileName = "d.service" });

        Assert.That(resolver.GetStartOrder(["a"]), Is.EqualTo(new[] { "d", "b", "a", "c" }));
        Assert.That(resolver.GetRequiredBy("d"), Is.EqualTo(new[] { "b" }));
        Assert.That(resolver.Validate().Warnings.Single().Dependency, Is.EqualTo("network.target"));
    }

    [Test]
    public void Long_chain_of_1000_resolves_without_recursion_limits()
    {
        const int count = 1000;
        var resolver = new DependencyResolver();
        for (var i = count - 1; i >= 0; i--)
        {
            resolver.AddService($"s{i}", after: i == 0 ? null : [$"s{i - 1}"]);
        }

        var stopwatch = Stopwatch.StartNew();
        var order = resolver.GetStartOrder([$"s{count - 1}"]);
        var hasCycle = resolver.HasCycle();
        stopwatch.Stop();

        Assert.That(order, Is.EqualTo(Enumerable.Range(0, count).Select(i => $"s{i}")));
        Assert.That(hasCycle, Is.False);
        Assert.That(stopwatch.Elapsed, Is.LessThan(GenerousBound));
    }

    [Test]
    public void Cycle_closing_a_chain_of_1000_names_all_1000_services()
    {
        const int count = 1000;
        var resolver = new DependencyResolver();
        for (var i = 0; i < count; i++)
        {
            resolver.AddService($"s{i}", requires: [$"s{(i + 1) % count}"]);
        }

        var stopwatch = Stopwatch.StartNew();
        var ex = Assert.Throws<DependencyCycleException>(() => resolver.GetStartOrder());
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
        var resolver = new DependencyResolver();
        var again = new DependencyResolver();
        foreach (var i in addOrder)
        {
            var after = dependencies[i].Where((_, k) => k % 2 == 0).ToList();
            var requires = dependencies[i].Where((_, k) => k % 2 == 1).ToList();
            resolver.AddService($"s{i}", after, requires);
            again.AddService($"s{i}", after, requires);
        }

        var stopwatch = Stopwatch.StartNew();
        var order = resolver.GetStartOrder();
        var validation = resolver.Validate();
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
        Assert.That(resolver.GetStopOrder(), Is.EqualTo(order.AsEnumerable().Reverse()));
        Assert.That(stopwatch.Elapsed, Is.LessThan(GenerousBound));
    }

    [Test]
    public void AddGitProc_registers_a_fresh_resolver_per_resolution()
    {
        var services = new ServiceCollection();
        services.AddGitProc();
        using var provider = services.BuildServiceProvider();

        var first = provider.GetRequiredService<IDependencyResolver>();
        var second = provider.GetRequiredService<IDependencyResolver>();

        Assert.That(first, Is.InstanceOf<DependencyResolver>());
        Assert.That(second, Is.Not.SameAs(first));
    }
}
