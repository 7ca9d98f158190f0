using ScottPlot;

namespace SharpSeek.Training.Recipe;

/// <summary>The report card's PNG charts (ScottPlot): loss curves, expert load, GRPO curves, accuracy by task.</summary>
public static class Charts
{
    /// <summary>A line chart of named series; series with fewer than two points are skipped. Returns false when nothing was drawn.</summary>
    public static bool Lines(string path, string title, string xLabel, string yLabel, params (string Name, double[] X, double[] Y)[] series) =>
        Lines(path, title, xLabel, yLabel, logY: false, series);

    /// <summary>
    /// <see cref="Lines(string, string, string, string, ValueTuple{string, double[], double[]}[])"/> with an optional logarithmic y axis
    /// (points at or below zero are left out), for losses that fall by orders of magnitude: on a linear axis the last stretch
    /// of every curve sits on the floor, and that is where runs differ.
    /// </summary>
    public static bool Lines(string path, string title, string xLabel, string yLabel, bool logY, params (string Name, double[] X, double[] Y)[] series)
    {
        var plt = new Plot();
        int drawn = 0;
        foreach (var (name, xs, ys) in series)
        {
            double[] x = xs, y = ys;
            if (logY)
            {
                var keep = Enumerable.Range(0, Math.Min(xs.Length, ys.Length)).Where(i => ys[i] > 0).ToArray();
                x = [.. keep.Select(i => xs[i])];
                y = [.. keep.Select(i => Math.Log10(ys[i]))];
            }
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
        plt.YLabel(logY ? yLabel + " (log scale)" : yLabel);
        if (logY)
            plt.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic
            {
                MinorTickGenerator = new ScottPlot.TickGenerators.LogMinorTickGenerator(),
                IntegerTicksOnly = true,
                LabelFormatter = v => Math.Pow(10, v).ToString("G3", System.Globalization.CultureInfo.InvariantCulture),
            };
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
