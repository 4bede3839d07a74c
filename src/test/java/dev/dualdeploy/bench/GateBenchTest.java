package dev.dualdeploy.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/** A small run of the gate benchmark: the claims in docs/BENCHMARKS.md must hold on it too. */
class GateBenchTest {

    private static final List<GateBench.Row> ROWS = GateBench.run(30, 7);

    private static GateBench.Row row(String profile, String policyStart) {
        return ROWS.stream().filter(r -> r.profile().equals(profile) && r.policy().startsWith(policyStart)).findFirst().orElseThrow();
    }

    @Test
    void noPolicyRollsBackAGoodRelease() {
        assertThat(ROWS.stream().filter(r -> r.profile().equals("good"))).allSatisfy(r -> assertThat(r.caught()).isZero());
    }

    @Test
    void oursCatchesEveryBadReleaseWithATenthOfFlaggersBlastRadiusOrLess() {
        assertThat(ROWS.stream().filter(r -> !r.profile().equals("good") && r.policy().startsWith("ours")))
                .allSatisfy(r -> assertThat(r.caught()).as(r.profile()).isEqualTo(r.releases()));
        assertThat(row("20x errors", "ours").medianFailed()).isLessThanOrEqualTo(row("20x errors", "Flagger").medianFailed() / 10);
        assertThat(row("5x errors", "Flagger").caught()).as("99.5% success passes Flagger's 99% limit").isZero();
        assertThat(row("+100% p95", "ours").medianSeconds()).isLessThan(row("+100% p95", "Flagger").medianSeconds());
    }

    @Test
    void theWaldLimitIsBelowEveryPolicy() {
        assertThat(row("5x errors", "Wald").medianServed()).isLessThan(row("5x errors", "ours").medianServed());
        assertThat(GateBench.table(ROWS)).startsWith("| release | policy | rolled back |").contains("| 5x errors | Flagger default | 0 of 30 (0.0%) |");
    }
}
