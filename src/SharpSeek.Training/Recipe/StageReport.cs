namespace SharpSeek.Training.Recipe;

/// <summary>Time and compute of one recipe stage, for the report card.</summary>
public sealed record StageReport(string Stage, double WallSeconds, double CpuSeconds, long Tokens, double Flops, int Steps);
