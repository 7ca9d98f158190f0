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
    var replica = builder.AddProject<Projects.SharpSeek_Cli>($"replica{i}")
        .WithHttpEndpoint(name: "http", isProxied: false)
        .WithHttpHealthCheck("/ready");
    var endpoint = replica.GetEndpoint("http");
    replica.WithArgs(ctx =>
    {
        ctx.Args.Add("serve");
        ctx.Args.Add("--model");
        ctx.Args.Add(model);
        ctx.Args.Add("--port");
        ctx.Args.Add(endpoint.Property(EndpointProperty.TargetPort));
        ctx.Args.Add("--data-dir");
        ctx.Args.Add(Path.Combine(Path.GetTempPath(), "sharpseek-aspire", $"replica{i}"));
    });
    replicas.Add(replica);
}

var gateway = builder.AddProject<Projects.SharpSeek_Cli>("gateway")
    .WithHttpEndpoint(name: "http", isProxied: false)
    .WithHttpHealthCheck("/ready");
var gatewayEndpoint = gateway.GetEndpoint("http");
gateway.WithArgs(ctx =>
{
    ctx.Args.Add("gateway");
    ctx.Args.Add("--policy");
    ctx.Args.Add(policy);
    ctx.Args.Add("--port");
    ctx.Args.Add(gatewayEndpoint.Property(EndpointProperty.TargetPort));
    foreach (var r in replicas)
    {
        ctx.Args.Add("--backend");
        ctx.Args.Add($"http://{r.Resource.Name}");
    }
});
foreach (var r in replicas) gateway.WithReference(r).WaitFor(r);

builder.Build().Run();
