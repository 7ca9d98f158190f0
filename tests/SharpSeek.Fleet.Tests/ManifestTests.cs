using System.Globalization;
using System.Net;
using System.Xml.Linq;
using SharpSeek.Gateway;
using YamlDotNet.Core;
using YamlDotNet.Serialization;

namespace SharpSeek.Fleet.Tests;

/// <summary>
/// What can be checked of deploy/kubernetes offline: every document parses; the image, user and port are the ones the
/// container build (the CLI's csproj) produces; the Deployments' args start a real replica and a real gateway; the probe
/// paths answer on them; the grace period exceeds the drain time; selectors match; the InferencePool's port and the
/// endpoint picker's metric names are what the replica serves.
/// </summary>
[Collection("Fleet")]
public sealed class ManifestTests
{
    private static readonly string Dir = Path.Combine(Repo.Root, "deploy", "kubernetes");

    /// <summary>Every document of every manifest, as nested dictionaries and lists.</summary>
    private static List<Dictionary<object, object>> Documents()
    {
        var docs = new List<Dictionary<object, object>>();
        var yaml = new DeserializerBuilder().Build();
        foreach (string file in Directory.GetFiles(Dir, "*.yaml").Order())
        {
            var parser = new YamlDotNet.Core.Parser(new StringReader(File.ReadAllText(file)));
            parser.Consume<YamlDotNet.Core.Events.StreamStart>();
            while (parser.Accept<YamlDotNet.Core.Events.DocumentStart>(out _))
            {
                var doc = yaml.Deserialize<Dictionary<object, object>>(parser);
                Assert.True(doc is not null && doc.ContainsKey("apiVersion") && doc.ContainsKey("kind"), $"{Path.GetFileName(file)}: a document without apiVersion and kind");
                docs.Add(doc);
            }
        }
        return docs;
    }

    private static object At(object node, params object[] path)
    {
        foreach (object p in path)
            node = p is int i ? ((List<object>)node)[i] : ((Dictionary<object, object>)node).TryGetValue(p, out var v) ? v : throw new KeyNotFoundException($"no '{p}'");
        return node;
    }

    private static string S(object node, params object[] path) => (string)At(node, path);

    private static Dictionary<object, object> Get(List<Dictionary<object, object>> docs, string kind, string name) =>
        docs.Single(d => S(d, "kind") == kind && S(d, "metadata", "name") == name);

    private static List<string> Args(Dictionary<object, object> deployment) =>
        [.. ((List<object>)At(deployment, "spec", "template", "spec", "containers", 0, "args")).Cast<string>()];

    private static string Flag(List<string> args, string flag) => args[args.IndexOf(flag) + 1];

    /// <summary>The image the SDK's container build names: ContainerRepository:Version from the CLI's csproj and Directory.Build.props.</summary>
    private static (string Image, string User, int Port) ContainerBuild()
    {
        var cli = XDocument.Load(Path.Combine(Repo.Root, "src", "SharpSeek.Cli", "SharpSeek.Cli.csproj"));
        var props = XDocument.Load(Path.Combine(Repo.Root, "Directory.Build.props"));
        string repo = cli.Descendants("ContainerRepository").Single().Value;
        string version = props.Descendants("Version").Single().Value;
        Assert.Equal("$(Version)", cli.Descendants("ContainerImageTag").Single().Value);
        // serve and gateway run on ASP.NET Core: the plain runtime image the SDK would infer could not start them.
        Assert.StartsWith("mcr.microsoft.com/dotnet/aspnet:", cli.Descendants("ContainerBaseImage").Single().Value);
        int port = int.Parse(cli.Descendants("ContainerPort").Single().Attribute("Include")!.Value, CultureInfo.InvariantCulture);
        // A Deployment's args replace the image's Cmd (ContainerDefaultArgs); arguments put into the entrypoint
        // (ContainerAppCommandArgs) would run before them: `sharpseek serve … gateway …`.
        Assert.Empty(cli.Descendants("ContainerAppCommandArgs"));
        Assert.Equal("serve", cli.Descendants("ContainerDefaultArgs").Single().Attribute("Include")!.Value.Split(';')[0]);
        return ($"{repo}:{version}", cli.Descendants("ContainerUser").Single().Value, port);
    }

    [Fact]
    public void Manifests_parse_and_agree_with_the_container_build()
    {
        var docs = Documents();
        var (image, user, port) = ContainerBuild();
        var server = Get(docs, "Deployment", "sharpseek");
        var gateway = Get(docs, "Deployment", "sharpseek-gateway");
        foreach (var d in new[] { server, gateway })
        {
            var pod = At(d, "spec", "template", "spec");
            Assert.Equal(image, S(pod, "containers", 0, "image"));
            Assert.Equal(user, At(pod, "securityContext", "runAsUser").ToString());
            Assert.Equal("true", At(pod, "securityContext", "runAsNonRoot").ToString());
            // The pod's labels are what the Deployment selects.
            Assert.Equal(At(d, "spec", "selector", "matchLabels"), At(d, "spec", "template", "metadata", "labels"));
        }

        var serverArgs = Args(server);
        var container = At(server, "spec", "template", "spec", "containers", 0);
        Assert.Equal(port.ToString(CultureInfo.InvariantCulture), Flag(serverArgs, "--port"));
        Assert.Equal(Flag(serverArgs, "--port"), At(container, "ports", 0, "containerPort").ToString());
        Assert.Equal("/ready", S(container, "readinessProbe", "httpGet", "path"));
        Assert.Equal("/health", S(container, "livenessProbe", "httpGet", "path"));
        // The kubelet's SIGKILL must come after the drain has ended.
        double drain = double.Parse(Flag(serverArgs, "--drain-seconds"), CultureInfo.InvariantCulture);
        Assert.True(int.Parse(At(server, "spec", "template", "spec", "terminationGracePeriodSeconds").ToString()!, CultureInfo.InvariantCulture) > drain);
        // The model is mounted read-only where --model points.
        var mount = ((List<object>)At(container, "volumeMounts")).Single(m => S(m, "mountPath") == Flag(serverArgs, "--model"));
        Assert.Equal("true", At(mount, "readOnly").ToString());

        // Services, the PDB and the InferencePool select the replicas' pods and reach their port.
        var labels = (Dictionary<object, object>)At(server, "spec", "selector", "matchLabels");
        foreach (string svc in new[] { "sharpseek", "sharpseek-replicas" })
            Assert.Equal(labels, At(Get(docs, "Service", svc), "spec", "selector"));
        Assert.Equal(labels, At(Get(docs, "PodDisruptionBudget", "sharpseek"), "spec", "selector", "matchLabels"));
        Assert.Equal("None", S(Get(docs, "Service", "sharpseek-replicas"), "spec", "clusterIP"));
        var pool = Get(docs, "InferencePool", "sharpseek");
        Assert.Equal(labels, At(pool, "spec", "selector", "matchLabels"));
        Assert.Equal(port.ToString(CultureInfo.InvariantCulture), At(pool, "spec", "targetPorts", 0, "number").ToString());
        Assert.Equal("sharpseek-epp", S(pool, "spec", "endpointPickerRef", "name"));

        // The gateway reaches the replicas through the headless Service, on their port.
        var gatewayArgs = Args(gateway);
        Assert.Equal($"http://sharpseek-replicas:{port}", Flag(gatewayArgs, "--backend"));
        Assert.Equal("dns", Flag(gatewayArgs, "--discovery"));
        Assert.Contains(Flag(gatewayArgs, "--policy"), GatewayPolicies.All);
        Assert.Equal(Flag(gatewayArgs, "--port"), At(gateway, "spec", "template", "spec", "containers", 0, "ports", 0, "containerPort").ToString());
    }

    [Fact]
    public async Task The_deployments_args_start_a_replica_and_a_gateway_whose_probes_and_metrics_answer()
    {
        var docs = Documents();
        int replicaPort = Repo.FreePort(), gatewayPort = Repo.FreePort();
        // The manifest's args as they are, but for what only a cluster has: the mounted model, the pod's address and ports.
        var serverArgs = Args(Get(docs, "Deployment", "sharpseek"));
        serverArgs[serverArgs.IndexOf("--model") + 1] = Repo.TinyModel;
        serverArgs[serverArgs.IndexOf("--host") + 1] = "127.0.0.1";
        serverArgs[serverArgs.IndexOf("--port") + 1] = replicaPort.ToString(CultureInfo.InvariantCulture);
        serverArgs[serverArgs.IndexOf("--data-dir") + 1] = Path.Combine(Path.GetTempPath(), "sharpseek-manifest-" + Guid.NewGuid().ToString("N"));
        var gatewayArgs = Args(Get(docs, "Deployment", "sharpseek-gateway"));
        gatewayArgs[gatewayArgs.IndexOf("--backend") + 1] = $"http://localhost:{replicaPort}";
        gatewayArgs[gatewayArgs.IndexOf("--host") + 1] = "127.0.0.1";
        gatewayArgs[gatewayArgs.IndexOf("--port") + 1] = gatewayPort.ToString(CultureInfo.InvariantCulture);

        using var replica = new SharpseekProcess([.. serverArgs]);
        using var gateway = new SharpseekProcess([.. gatewayArgs]);
        string r = $"http://127.0.0.1:{replicaPort}", g = $"http://127.0.0.1:{gatewayPort}";
        await replica.WaitOkAsync(r + S(Get(docs, "Deployment", "sharpseek"), "spec", "template", "spec", "containers", 0, "readinessProbe", "httpGet", "path"));
        await gateway.WaitOkAsync(g + S(Get(docs, "Deployment", "sharpseek-gateway"), "spec", "template", "spec", "containers", 0, "readinessProbe", "httpGet", "path"));
        using var http = new HttpClient();
        foreach (var (name, baseUrl) in new[] { ("sharpseek", r), ("sharpseek-gateway", g) })
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(baseUrl + S(Get(docs, "Deployment", name), "spec", "template", "spec", "containers", 0, "livenessProbe", "httpGet", "path"))).StatusCode);

        // Every metric the endpoint picker is told to read is on the replica's /metrics.
        string metrics = await http.GetStringAsync(r + "/metrics");
        var epp = Args(Get(docs, "Deployment", "sharpseek-epp"));
        foreach (string flag in new[] { "--total-queued-requests-metric", "--total-running-requests-metric", "--kv-cache-usage-percentage-metric", "--cache-info-metric" })
        {
            string name = epp.Single(a => a.StartsWith(flag + "=", StringComparison.Ordinal))[(flag.Length + 1)..];
            Assert.Contains("\n# TYPE " + name + " gauge\n", "\n" + metrics);
        }
        Assert.Contains("--lora-info-metric=", epp);   // no LoRA adapters: the scrape of vLLM's LoRA metric is turned off
    }
}
