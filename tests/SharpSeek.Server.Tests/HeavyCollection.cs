namespace SharpSeek.Server.Tests;

/// <summary>Tests that load the machine (load test, browser) run alone, so timings and a 2-core CI box do not make them flaky.</summary>
[CollectionDefinition("Heavy", DisableParallelization = true)]
public sealed class HeavyCollection;
