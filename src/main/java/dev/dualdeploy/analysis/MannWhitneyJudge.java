package dev.dualdeploy.analysis;

import java.util.Arrays;
import org.apache.commons.math3.stat.inference.MannWhitneyUTest;

/**
 * Compares a canary's per-interval samples of a metric with a baseline's (the other side, or the same side before
 * the deploy) with a Mann-Whitney U test, as Kayenta does, for metrics where higher is worse (error rates,
 * latencies). It FAILs only when the canary is higher with the given confidence <em>and</em> by more than the
 * effect-size tolerance, so a tiny but real difference does not fail a release. The effect is the Hodges-Lehmann
 * estimate of the shift (the median of all pairwise differences), relative to the baseline's median.
 *
 * @param confidence the confidence that the canary is higher, such as 0.95 (a one-sided p below 0.05)
 * @param tolerance the relative increase accepted even when it is significant, such as 0.10 for +10%
 * @param minSamples fewer samples than this on either side is INCONCLUSIVE
 */
public record MannWhitneyJudge(double confidence, double tolerance, int minSamples) {

    public MannWhitneyJudge {
        if (!(confidence > 0.5 && confidence < 1)) {
            throw new IllegalArgumentException("confidence must be between 0.5 and 1, not " + confidence);
        }
        if (tolerance < 0 || minSamples < 3) {
            throw new IllegalArgumentException("tolerance must be >= 0 and minSamples >= 3");
        }
    }

    /** Judges the canary's samples against the baseline's. */
    public Verdict judge(String metric, String canarySide, double[] canary, String baselineSide, double[] baseline) {
        String check = "compare " + metric;
        if (canary.length < minSamples || baseline.length < minSamples) {
            return Verdict.inconclusive(check, "only " + canary.length + " " + canarySide + " and " + baseline.length + " "
                    + baselineSide + " windows of " + metric + "; " + minSamples + " each are needed");
        }
        double canaryMedian = median(canary);
        double baselineMedian = median(baseline);
        double shift = hodgesLehmann(canary, baseline);
        double twoSided = canary.length + baseline.length > 2 && !allEqual(canary, baseline)
                ? new MannWhitneyUTest().mannWhitneyUTest(canary, baseline) : 1.0;
        double oneSided = shift > 0 ? twoSided / 2 : 1 - twoSided / 2;
        double scale = Math.max(Math.abs(baselineMedian), 1e-12);
        double relative = shift / scale;
        String numbers = canarySide + " " + metric + " " + Numbers.metric(metric, canaryMedian) + " vs " + baselineSide + " "
                + Numbers.metric(metric, baselineMedian) + " (" + Numbers.p(oneSided) + ", "
                + String.format(java.util.Locale.ROOT, "%+.0f%%", relative * 100) + ") over " + canary.length + " windows";
        if (oneSided < 1 - confidence && relative > tolerance) {
            return Verdict.fail(check, numbers);
        }
        if (oneSided < 1 - confidence) {
            return Verdict.pass(check, numbers + "; higher, but within the "
                    + String.format(java.util.Locale.ROOT, "%.0f%%", tolerance * 100) + " tolerance");
        }
        return Verdict.pass(check, numbers);
    }

    /** The median of all pairwise differences canary[i] - baseline[j]. */
    static double hodgesLehmann(double[] canary, double[] baseline) {
        double[] differences = new double[canary.length * baseline.length];
        int k = 0;
        for (double c : canary) {
            for (double b : baseline) {
                differences[k++] = c - b;
            }
        }
        return median(differences);
    }

    static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        int n = sorted.length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }

    private static boolean allEqual(double[] a, double[] b) {
        double first = a[0];
        return Arrays.stream(a).allMatch(v -> v == first) && Arrays.stream(b).allMatch(v -> v == first);
    }
}
