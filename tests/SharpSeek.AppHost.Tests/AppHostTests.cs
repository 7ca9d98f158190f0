using System.Net;
using System.Text;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace SharpSeek.AppHost.Tests;

/// <summary>The Aspire AppHost (deploy/SharpSeek.AppHost) under Aspire.Hosting.Testing.</summary>
public sealed class AppHostTests
{
    [Fact]
    public async Task The_model_has_the_replicas_and_a_gateway_that_references_and_waits_for_each()
    {
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.SharpSeek_AppHost>(["--Replicas", "2"]);
        await using var app = await builder.BuildAsync();
        var model = app.Services.GetRequiredService<DistributedApplicationModel>();
        var projects = model.Resources.OfType<ProjectResource>().ToDictionary(r => r.Name);
        Assert.Equal(["gateway", "replica0", "replica1"], projects.Keys.Order());
        foreach (var r in projects.Values)
        {
            var endpoint = Assert.Single(r.Annotations.OfType<EndpointAnnotation>());
            Assert.Equal("http", endpoint.Name);
            Assert.False(endpoint.IsProxied);   // the process listens on the port itself: the gateway's affinity must see each replica
            Assert.Contains(r.Annotations.OfType<HealthCheckAnnotation>(), _ => true);
        }
        var gateway = projects["gateway"];
        var waits = gateway.Annotations.OfType<WaitAnnotation>().Select(w => w.Resource.Name).Order().ToList();
        Assert.Equal(["replica0", "replica1"], waits);
        var args = await ArgumentsOf(gateway);
        Assert.Equal("gateway", args[0]);
        Assert.Equal(["http://replica0", "http://replica1"], args.Select((a, i) => (a, i)).Where(p => p.i > 0 && args[p.i - 1] == "--backend").Select(p => p.a));
        var replicaArgs = await ArgumentsOf(projects["replica0"]);
        Assert.Equal("serve", replicaArgs[0]);
        Assert.True(Directory.Exists(replicaArgs[replicaArgs.IndexOf("--model") + 1]), "the bundled model path the AppHost passes does not exist");
    }

    private static async Task<List<string>> ArgumentsOf(IResource resource)
    {
        var list = new List<object>();
        var context = new CommandLineArgsCallbackContext(list, CancellationToken.None);
        foreach (var a in resource.Annotations.OfType<CommandLineArgsCallbackAnnotation>()) await a.Callback(context);
        var result = new List<string>();
        foreach (object o in list)
            result.Add(o switch
            {
                string s => s,
                EndpointReferenceExpression => "<port>",
                _ => o.ToString()!,
            });
        return result;
    }

    [Fact]
    public async Task The_fleet_runs_under_dcp_and_answers_through_the_gateway()
    {
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.SharpSeek_AppHost>(["--Replicas", "2"]);
        await using var app = await builder.BuildAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        await app.StartAsync(timeout.Token);
        await app.ResourceNotifications.WaitForResourceHealthyAsync("gateway", timeout.Token);
        using var http = app.CreateHttpClient("gateway");
        using var r = await http.PostAsync("v1/chat/completions", new StringContent("""{"messages":[{"role":"user","content":"What is 2 + 2?"}],"max_tokens":8}""", Encoding.UTF8, "application/json"), timeout.Token);
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        Assert.StartsWith("http://", r.Headers.GetValues("X-SharpSeek-Backend").Single());
    }
}
