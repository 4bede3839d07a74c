package dev.dualdeploy.analysis;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dualdeploy.local.Sampling;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalDouble;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class JudgesTest {

    @Test
    void theWorstVerdictWinsAndNoChecksIsNeverAPass() {
        assertThat(Verdict.combine(List.of(Verdict.pass("a", ""), Verdict.inconclusive("b", "")))).isEqualTo(Verdict.Outcome.INCONCLUSIVE);
        assertThat(Verdict.combine(List.of(Verdict.error("a", ""), Verdict.fail("b", ""), Verdict.pass("c", "")))).isEqualTo(Verdict.Outcome.FAIL);
        assertThat(Verdict.combine(List.of(Verdict.pass("a", ""), Verdict.error("b", "")))).isEqualTo(Verdict.Outcome.ERROR);
        assertThat(Verdict.combine(List.of(Verdict.pass("a", "")))).isEqualTo(Verdict.Outcome.PASS);
        assertThat(Verdict.combine(List.of())).isEqualTo(Verdict.Outcome.INCONCLUSIVE);
    }

    @Test
    void thresholdsSayTheValueAndTheLimit() {
        ThresholdJudge slo = new ThresholdJudge("error_rate", 0.01);
        assertThat(slo.judge("kubernetes", OptionalDouble.of(0.021)))
                .isEqualTo(Verdict.fail("slo error_rate", "kubernetes error_rate 2.10% is above the limit of 1.00%"));
        assertThat(slo.judge("kubernetes", OptionalDouble.of(0.004)).outcome()).isEqualTo(Verdict.Outcome.PASS);
        assertThat(slo.judge("kubernetes", OptionalDouble.empty()))
                .isEqualTo(Verdict.inconclusive("slo error_rate", "kubernetes error_rate has no data in the window"));
        assertThat(new ThresholdJudge("latency_p95_ms", 300).judge("legacy", OptionalDouble.of(312.4)).reason())
                .isEqualTo("legacy latency_p95_ms 312ms is above the limit of 300ms");
    }

    private static double[] normal(SplittableRandom random, int n, double mean, double sd) {
        double[] values = new double[n];
        for (int i = 0; i < n; i++) {
            values[i] = mean + sd * Sampling.gaussian(random);
        }
        return values;
    }

    @Test
    void mannWhitneyFailsARealRegressionAndPassesNoise() {
        SplittableRandom random = new SplittableRandom(7);
        MannWhitneyJudge judge = new MannWhitneyJudge(0.95, 0.10, 5);
        double[] baseline = normal(random, 20, 200, 15);

        Verdict same = judge.judge("latency_p95_ms", "kubernetes", normal(random, 20, 200, 15), "legacy", baseline);
        Verdict slower = judge.judge("latency_p95_ms", "kubernetes", normal(random, 20, 260, 15), "legacy", baseline);

        assertThat(same.outcome()).as(same.reason()).isEqualTo(Verdict.Outcome.PASS);
        assertThat(slower.outcome()).as(slower.reason()).isEqualTo(Verdict.Outcome.FAIL);
        assertThat(slower.reason()).matches("kubernetes latency_p95_ms \\d{3}ms vs legacy \\d{3}ms \\(p=[0-9.e-]+, \\+[23]\\d%\\) over 20 windows");
    }

    @Test
    void mannWhitneyPassesASignificantButTinyDifference() {
        SplittableRandom random = new SplittableRandom(11);
        MannWhitneyJudge judge = new MannWhitneyJudge(0.95, 0.10, 5);

        Verdict verdict = judge.judge("latency_p95_ms", "kubernetes", normal(random, 60, 206, 3), "legacy", normal(random, 60, 200, 3));

        assertThat(verdict.outcome()).isEqualTo(Verdict.Outcome.PASS);
        assertThat(verdict.reason()).contains("higher, but within the 10% tolerance").contains("+3%");
    }

    @Test
    void mannWhitneyWithTooFewWindowsIsInconclusive() {
        Verdict verdict = new MannWhitneyJudge(0.95, 0.1, 5).judge("error_rate", "kubernetes", new double[] {0.1, 0.2, 0.3},
                "legacy", new double[] {0.01, 0.01, 0.01, 0.01, 0.01});
        assertThat(verdict).isEqualTo(Verdict.inconclusive("compare error_rate",
                "only 3 kubernetes and 5 legacy windows of error_rate; 5 each are needed"));
    }

    /** One monitored release: the look at which the test failed it, or -1 if it never did. */
    private static int monitor(SplittableRandom random, double canaryRate, double baselineRate, int looks) {
        SequentialErrorJudge judge = new SequentialErrorJudge("error_rate", 0.05, 0.0, 0.002, 2_000, 10);
        long canaryTotal = 0;
        long canaryErrors = 0;
        long baselineTotal = 0;
        long baselineErrors = 0;
        for (int look = 1; look <= looks; look++) {
            // A 30-second interval at 2,500 req/s, 10% of it on the canary.
            canaryTotal += 7_500;
            baselineTotal += 67_500;
            canaryErrors += Sampling.poisson(random, 7_500 * canaryRate);
            baselineErrors += Sampling.poisson(random, 67_500 * baselineRate);
            if (judge.update("kubernetes", canaryTotal, canaryErrors, "legacy", baselineTotal, baselineErrors).outcome()
                    == Verdict.Outcome.FAIL) {
                return look;
            }
        }
        return -1;
    }

    @Test
    void theSequentialTestKeepsFalseRollbacksBelowAlphaUnderContinuousMonitoring() {
        SplittableRandom random = new SplittableRandom(2026);
        int releases = 400;
        int falseRollbacks = 0;
        for (int i = 0; i < releases; i++) {
            if (monitor(random, 0.001, 0.001, 30) >= 0) {
                falseRollbacks++;
            }
        }
        double rate = (double) falseRollbacks / releases;
        System.out.println("sequential test: false rollbacks " + falseRollbacks + " of " + releases + " good releases, 30 looks each");
        assertThat(rate).as("false-rollback rate at alpha 0.05, looked at 30 times").isLessThanOrEqualTo(0.05);
    }

    @Test
    void theSequentialTestFailsAClearlyBadReleaseLongBeforeTheSoakEnds() {
        SplittableRandom random = new SplittableRandom(42);
        List<Integer> looks = new ArrayList<>();
        int missed = 0;
        for (int i = 0; i < 200; i++) {
            int look = monitor(random, 0.005, 0.001, 30);
            if (look < 0) {
                missed++;
            } else {
                looks.add(look);
            }
        }
        looks.sort(Integer::compare);
        int median = looks.get(looks.size() / 2);
        System.out.println("sequential test: 5x errors caught in " + looks.size() + " of 200, median look " + median + " of 30");
        assertThat(missed).as("bad releases not caught within the soak").isLessThanOrEqualTo(2);
        assertThat(median).as("median look at which a 5x release fails").isLessThanOrEqualTo(5);
    }

    @Test
    void tooLittleTrafficIsInconclusiveAndEnoughCleanTrafficPasses() {
        SequentialErrorJudge sparse = new SequentialErrorJudge("error_rate", 0.01, 0.2, 0.005, 500, 10);
        sparse.update("kubernetes", 120, 0, "legacy", 1_080, 1);
        assertThat(sparse.finish().outcome()).isEqualTo(Verdict.Outcome.INCONCLUSIVE);
        assertThat(sparse.finish().reason()).endsWith("too little traffic to pass: 120 of 500 canary requests");

        SequentialErrorJudge clean = new SequentialErrorJudge("error_rate", 0.01, 0.2, 0.005, 500, 10);
        assertThat(clean.update("kubernetes", 5_000, 0, "legacy", 45_000, 0).outcome()).isEqualTo(Verdict.Outcome.INCONCLUSIVE);
        assertThat(clean.finish().outcome()).isEqualTo(Verdict.Outcome.PASS);
    }

    @Test
    void aFailStaysAFailAndSaysWhy() {
        SequentialErrorJudge judge = new SequentialErrorJudge("error_rate", 0.01, 0.0, 0.005, 1_000, 10);
        Verdict failed = judge.update("kubernetes", 10_000, 210, "legacy", 90_000, 270);

        assertThat(failed.outcome()).isEqualTo(Verdict.Outcome.FAIL);
        assertThat(failed.reason()).startsWith("kubernetes error_rate 2.10% vs legacy 0.300% after 10,000 kubernetes requests"
                + " (always-valid p=").contains("higher than legacy beyond the 0% tolerance");
        assertThat(judge.update("kubernetes", 20_000, 210, "legacy", 180_000, 540).outcome()).isEqualTo(Verdict.Outcome.FAIL);
        assertThat(judge.finish().outcome()).isEqualTo(Verdict.Outcome.FAIL);
    }
}
