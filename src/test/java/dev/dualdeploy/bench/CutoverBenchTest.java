package dev.dualdeploy.bench;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dualdeploy.cli.DualDeployCommand;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One round of the cutover bench against a real nginx and the three simulators: every router was measured to the end,
 * every read-back equalled the split set, every FAIL read back 0%, and the requests through nginx went all to one side
 * at 0% and 100%. No timing is asserted: the speed target lives in docs/BENCHMARKS.md, not here.
 */
class CutoverBenchTest {

    private static final int REQUESTS = 1_000;
    /** Two warm-up moves, the four steps, the move to 50% and the fail-back's first read. */
    private static final int READS_PER_ROUND = 2 + CutoverBench.STEPS.size() + 1 + 1;

    @TempDir
    Path dir;

    @Test
    void oneRoundMeasuresEveryRouterAndEveryReadBackEqualsTheSplitSet() {
        Path nginx = CutoverBench.nginx().orElseThrow(() -> new IllegalStateException(CutoverBench.noNginx()));
        List<String> progress = new CopyOnWriteArrayList<>();

        CutoverBench.Result result = CutoverBench.run(dir, nginx, 1, REQUESTS, progress::add);

        assertThat(result.routers()).extracting(CutoverBench.RouterResult::router)
                .containsExactly("nginx", "cloudflare", "alb", "route53");
        assertThat(result.routers()).allSatisfy(r -> {
            assertThat(r.error()).as(r.router() + " error").isEmpty();
            assertThat(r.mismatches()).as(r.router() + " read-backs that differed from the set").isEmpty();
            assertThat(r.steps()).as(r.router() + " timed steps").hasSize(CutoverBench.STEPS.size())
                    .allSatisfy(t -> assertThat(t).isPositive());
            assertThat(r.failBacks()).as(r.router() + " fail-backs").hasSize(1).allSatisfy(t -> assertThat(t).isPositive());
            assertThat(r.failBackMissed()).isZero();
            assertThat(r.failBackReads()).as(r.router() + ": the set returns once applied, so the first read shows 0%").isEqualTo(1);
        });
        assertThat(result.router("nginx").readBacks()).isEqualTo(READS_PER_ROUND + CutoverBench.SPLIT_STEPS.size());
        assertThat(result.router("cloudflare").readBacks()).isEqualTo(READS_PER_ROUND);
        // The API calls per set + read-back: GET and PATCH, then GET; Describe and Modify, then Describe.
        assertThat(result.router("cloudflare").stepCalls()).containsOnly(3);
        assertThat(result.router("alb").stepCalls()).containsOnly(3);
        // Route53: List, Change, GetChange (PENDING: the simulator's default), GetChange (INSYNC), then List; the router
        // asked to sleep 250 ms before the first GetChange and 500 ms before the second. This, not the work, is its time.
        assertThat(result.router("route53").stepCalls()).containsOnly(5);
        assertThat(result.router("route53").stepSleeps()).containsOnly(Duration.ofMillis(750));
        assertThat(result.router("nginx").stepSleeps()).allSatisfy(s -> assertThat(s).isPositive());

        assertThat(result.split()).extracting(CutoverBench.SplitRow::set).containsExactlyElementsOf(CutoverBench.SPLIT_STEPS);
        assertThat(result.split()).allSatisfy(row -> {
            assertThat(row.failed()).as("failed requests at " + row.set() + "%").isZero();
            assertThat(row.kubernetes() + row.legacy()).isEqualTo(REQUESTS);
            assertThat(row.read().kubernetes()).isEqualTo(row.set());
            // Five standard deviations of a random split: a real error, not chance, if it is beyond.
            assertThat(Math.abs(row.errorPoints())).as("error at " + row.set() + "%").isLessThanOrEqualTo(5 * row.sigmaPoints());
        });
        assertThat(result.split().get(0).kubernetes()).as("requests on kubernetes at 0%").isZero();
        assertThat(result.split().get(0).errorPoints()).isZero();
        assertThat(result.split().get(4).legacy()).as("requests on legacy at 100%").isZero();
        assertThat(result.split().get(4).errorPoints()).isZero();

        String table = result.table();
        assertThat(table).startsWith("| router | peer | set + read-back, median |")
                .contains("| nginx | nginx/", "| " + READS_PER_ROUND + " of " + READS_PER_ROUND + " |")
                .contains("| 0% | 0% | 0.00% | +0.00 points | 0.00 points | 0 / 1,000 / 0 |")
                .contains("| 100% | 100% | 100.00% | +0.00 points | 0.00 points | 1,000 / 0 / 0 |")
                .contains("route53: INSYNC is what is measured");
        assertThat(progress).anyMatch(l -> l.startsWith("route53 round 1/1: 10% "))
                .anyMatch(l -> l.startsWith("nginx split at 50%: "));
    }

    @Test
    void roundsOutsideTheirRangeAreBadInput() {
        StringWriter err = new StringWriter();
        int code = DualDeployCommand.run(new String[] {"bench", "cutover", "--rounds", "0"}, new PrintWriter(new StringWriter()),
                new PrintWriter(err));
        assertThat(code).isEqualTo(2);
        assertThat(err.toString()).contains("--rounds must be from 1 to 50");
    }
}
