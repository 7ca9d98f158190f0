// The fleet on one machine under .NET Aspire: N `sharpseek serve` replicas and `sharpseek gateway` in front of them.
//   dotnet run --project deploy/SharpSeek.AppHost [-- --Replicas 3 --Model PATH --Policy prefix]
// Each replica listens on a port Aspire allocates and is healthy when its /ready answers; the gateway finds the
// replicas by .NET service discovery (Aspire hands it services__replicaN__http__0) and starts once they are ready.
using Microsoft.Extensions.Configuration;

var builder = DistributedApplication.CreateBuilder(args);
int count = builder.Configuration.GetValue("Replicas", 3);
if (count < 1) throw new ArgumentException("Replicas must be at least 1");
string model = builder.Configuration["Model"] ?? Path.GetFullPath(Path.Combine(builder.AppHostDirectory, "..", "..", "models", "sharpseek-tiny"));
string policy = builder.Configuration["Policy"] ?? "prefix";

var replicas = new List<IResourceBuilder<ProjectResource>>();
for (int i = 0; i < count; i++)
{
    string dataDir = Path.Combine(Path.GetTempPath(), "sharpseek-aspire", $"replica{i}");
    replicas.Add(Sharpseek($"replica{i}", "serve", ["--model", model, "--data-dir", dataDir]));
}
var gateway = Sharpseek("gateway", "gateway", ["--policy", policy, .. replicas.SelectMany(r => new[] { "--backend", $"http://{r.Resource.Name}" })]);
foreach (var r in replicas) gateway.WithReference(r).WaitFor(r);

builder.Build().Run();

// `sharpseek VERB ARGS --port P` on a port Aspire allocates and the process listens on itself (not proxied: the gateway
// must see each replica), healthy when its /ready answers.
IResourceBuilder<ProjectResource> Sharpseek(string name, string verb, string[] args)
{
    var resource = builder.AddProject<Projects.SharpSeek_Cli>(name)
        .WithHttpEndpoint(name: "http", isProxied: false)
        .WithHttpHealthCheck("/ready");
    var endpoint = resource.GetEndpoint("http");
    return resource.WithArgs(ctx =>
    {
        ctx.Args.Add(verb);
        foreach (string a in args) ctx.Args.Add(a);
        ctx.Args.Add("--port");
        ctx.Args.Add(endpoint.Property(EndpointProperty.TargetPort));
    });
}
