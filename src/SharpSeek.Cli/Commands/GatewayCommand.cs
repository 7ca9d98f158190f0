using System.CommandLine;
using System.Globalization;
using SharpSeek.Gateway;

namespace SharpSeek.Cli.Commands;

/// <summary>
/// <c>sharpseek gateway --backend URL… [--policy prefix|least-load|round-robin]</c>: one endpoint in front of several
/// <c>sharpseek serve</c> replicas (YARP), routing each conversation to the replica that has its prefix cached.
/// </summary>
internal static class GatewayCommand
{
    public static Command Create()
    {
        var backends = new Option<string[]>("--backend", "-b")
        {
            Description = "A replica's URL (repeat the flag or list several); a service name such as http://replica0 is resolved by service discovery",
            AllowMultipleArgumentsPerToken = true,
            Required = true,
        };
        var policy = new Option<string>("--policy") { Description = $"How a replica is chosen: {string.Join(", ", GatewayPolicies.All)}", DefaultValueFactory = _ => GatewayPolicies.Prefix };
        var host = new Option<string>("--host") { Description = "Address to listen on", DefaultValueFactory = _ => "127.0.0.1" };
        var port = new Option<int>("--port", "-p") { Description = "Port (0 picks a free one)", DefaultValueFactory = _ => 8000 };
        var discovery = new Option<string>("--discovery") { Description = "Where backend addresses come from: config (.NET service discovery, as Aspire sets it; plain URLs pass through) or dns (every address of the host name, e.g. a Kubernetes headless Service)", DefaultValueFactory = _ => "config" };
        var interval = new Option<double>("--health-interval") { Description = "Seconds between /ready probes of each replica", DefaultValueFactory = _ => 2 };
        var absolute = new Option<int>("--balance-abs") { Description = "prefix policy: leave the preferred replica when it has more than this many requests in flight beyond the least-loaded one…", DefaultValueFactory = _ => LoadBound.Default.Absolute };
        var relative = new Option<double>("--balance-rel") { Description = "…and more than this many times its load", DefaultValueFactory = _ => LoadBound.Default.Relative };
        var cmd = new Command("gateway", "Route requests over several serve replicas by prefix-cache affinity (YARP)") { backends, policy, host, port, discovery, interval, absolute, relative };
        cmd.SetAction(async (pr, ct) =>
        {
            string name = pr.GetValue(policy)!;
            if (!GatewayPolicies.All.Contains(name, StringComparer.OrdinalIgnoreCase))
                throw new SharpSeekException($"unknown --policy '{name}': the policies are {string.Join(", ", GatewayPolicies.All)}");
            var found = pr.GetValue(discovery)!.ToLowerInvariant() switch
            {
                "config" => Discovery.Config,
                "dns" => Discovery.Dns,
                var other => throw new SharpSeekException($"unknown --discovery '{other}': use config or dns"),
            };
            double seconds = pr.GetValue(interval);
            if (!(seconds > 0)) throw new SharpSeekException("--health-interval must be > 0");
            int abs = pr.GetValue(absolute);
            double rel = pr.GetValue(relative);
            if (abs < 0 || !(rel >= 1)) throw new SharpSeekException("--balance-abs must be ≥ 0 and --balance-rel ≥ 1");
            var list = pr.GetValue(backends)!.SelectMany(b => b.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToList();
            var options = new GatewayOptions
            {
                Backends = list,
                Policy = GatewayPolicies.Parse(name),
                Host = pr.GetValue(host)!,
                Port = pr.GetValue(port),
                Discovery = found,
                HealthInterval = TimeSpan.FromSeconds(seconds),
                Bound = new LoadBound(abs, rel),
            };
            GatewayServer gateway;
            try { gateway = GatewayServer.Create(options); }
            catch (ArgumentException e) { throw new SharpSeekException(e.Message); }
            await using var _ = gateway;
            await gateway.StartAsync(ct);
            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"sharpseek: gateway on {string.Join(", ", gateway.Urls)} → {string.Join(", ", list)} (policy {options.Policy}, /ready probed every {seconds:0.###} s)"));
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct, gateway.Stopping);
            try { await Task.Delay(Timeout.Infinite, stop.Token); }
            catch (OperationCanceledException) { }
            Console.Error.WriteLine("sharpseek: gateway stopped");
            return 0;
        });
        return cmd;
    }
}
