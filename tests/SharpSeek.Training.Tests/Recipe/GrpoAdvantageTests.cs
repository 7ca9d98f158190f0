using SharpSeek.Training.Recipe;

namespace SharpSeek.Training.Tests.Recipe;

public sealed class GrpoAdvantageTests
{
    [Fact]
    public void GroupsWithOneRewardHaveExactlyZeroAdvantageAndNoSignal()
    {
        // 1.1 eight times: their double mean is not exactly 1.1, so (r − mean) / (std + 1e-4) would be about 1e-12.
        double[] rewards = [1.1, 1.1, 1.1, 1.1, 1.1, 1.1, 1.1, 1.1, 0, 1.1, 0.1, 1.1];
        int[] groups = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1];
        foreach (bool dr in new[] { false, true })
        {
            var (adv, signal) = GrpoTrainer.Advantages(rewards, groups, dr);
            Assert.All(adv.Take(8), a => Assert.Equal(0.0, a));
            Assert.Equal([1], signal);
        }
    }

    [Fact]
    public void MixedGroupsAreCentredAndScaledByTheirStd()
    {
        double[] rewards = [0, 1.1, 0.1, 1.1];
        int[] groups = [3, 3, 3, 3];
        var (adv, _) = GrpoTrainer.Advantages(rewards, groups, drGrpo: false);
        double mean = 0.575, std = Math.Sqrt(rewards.Average(r => (r - mean) * (r - mean)));
        for (int i = 0; i < 4; i++) Assert.Equal((rewards[i] - mean) / (std + 1e-4), adv[i], 12);
        Assert.Equal(0, adv.Sum(), 9);
        var (dr, _) = GrpoTrainer.Advantages(rewards, groups, drGrpo: true);
        for (int i = 0; i < 4; i++) Assert.Equal(rewards[i] - mean, dr[i], 12);
    }
}
