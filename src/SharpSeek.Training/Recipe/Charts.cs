using ScottPlot;

namespace SharpSeek.Training.Recipe;

/// <summary>The report card's PNG charts (ScottPlot): loss curves, expert load, GRPO curves, accuracy by task.</summary>
public static class Charts
{
    /// <summary>A line chart of named series; series with fewer than two points are skipped. Returns false when nothing was drawn.</summary>
    public static bool Lines(string path, string title, string xLabel, string yLabel, params (string Name, double[] X, double[] Y)[] series)
    {
        var plt = new Plot();
        int drawn = 0;
        foreach (var (name, x, y) in series)
        {
            if (x.Length < 2) continue;
            var s = plt.Add.Scatter(x, y);
            s.LegendText = name;
            s.MarkerSize = 0;
            s.LineWidth = 2;
            drawn++;
        }
        if (drawn == 0) return false;
        plt.Title(title);
        plt.XLabel(xLabel);
        plt.YLabel(yLabel);
        if (series.Length > 1) plt.ShowLegend();
        plt.SavePng(path, 800, 450);
        return true;
    }

    /// <summary>Accuracy per row label (category or difficulty) for each stage, as markers.</summary>
    public static bool Accuracy(string path, string title, IReadOnlyList<string> labels, IReadOnlyList<(string Stage, double[] Values)> stages)
    {
        if (labels.Count == 0) return false;
        var plt = new Plot();
        double[] xs = Enumerable.Range(0, labels.Count).Select(i => (double)i).ToArray();
        foreach (var (stage, values) in stages)
        {
            var s = plt.Add.Scatter(xs, values);
            s.LegendText = stage;
            s.MarkerSize = 12;
            s.LineWidth = 1;
        }
        plt.Axes.Bottom.SetTicks(xs, labels.ToArray());
        plt.Axes.SetLimitsY(-5, 105);
        plt.Title(title);
        plt.YLabel("pass@1 (%)");
        plt.ShowLegend();
        plt.SavePng(path, 900, 450);
        return true;
    }
}
