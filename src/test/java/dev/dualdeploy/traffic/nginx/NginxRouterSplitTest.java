package dev.dualdeploy.traffic.nginx;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.dualdeploy.time.Sleeper;
import dev.dualdeploy.traffic.Split;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The split a real nginx applies after {@link NginxRouter#set}, measured with 10,000 real requests per setting through it
 * to two upstreams: within 1.5 points of the setting (three standard deviations at 50%), and exact at 0 and 100. Each
 * measurement starts once the workers of the previous configuration have exited: until then they finish the requests
 * they hold under the old split, as nginx does for any reload.
 */
class NginxRouterSplitTest {

    private static final int REQUESTS = 10_000;

    @TempDir
    Path dir;

    private NginxPeer nginx;

    @AfterEach
    void stopNginx() {
        if (nginx != null) {
            nginx.close();
        }
    }

    @Test
    void theMeasuredSplitIsTheOneSetAndTheOneReadBack() throws Exception {
        nginx = NginxPeer.start(dir, Split.of(0));
        Sleeps sleeps = new Sleeps(Sleeper.SYSTEM);
        NginxRouter router = new NginxRouter(nginx.spec(Duration.ofSeconds(10)), Clock.systemUTC(), sleeps);
        long generation = 1;
        for (int percent : new int[] {10, 50, 100, 0}) {
            router.set(Split.of(percent));
            generation++;
            nginx.awaitOldWorkersGone();

            Split read = router.read();
            Requests.Count count = Requests.send(nginx.base(), REQUESTS);
            System.out.printf("nginx split set to %3d%% (generation %d), %d requests: %s%n", percent, generation, REQUESTS, count);

            assertThat(read.kubernetes()).isEqualTo(percent);
            assertThat(read.reported()).isEqualTo("generation " + generation);
            assertThat(Files.readString(nginx.include())).startsWith("# dualdeploy split, generation " + generation + " ");
            assertThat(count.errors()).as("failed requests").isZero();
            assertThat(count.total()).isEqualTo(REQUESTS);
            if (percent == 0 || percent == 100) {
                assertThat(count.kubernetes()).as("requests on kubernetes at " + percent + "%").isEqualTo(REQUESTS * percent / 100);
            } else {
                assertThat(count.kubernetesShare()).as("measured kubernetes share at " + percent + "%").isCloseTo(percent, within(1.5));
            }
        }
        assertThat(sleeps.asked()).as("the read-back's pauses while nginx reloads").allSatisfy(pause ->
                assertThat(pause).isBetween(NginxRouter.FIRST_PAUSE, NginxRouter.LONGEST_PAUSE));
    }

    @Test
    void aFractionalShareIsWrittenWithTwoDecimalsAndReadBackExactly() throws Exception {
        nginx = NginxPeer.start(dir, Split.of(0));
        NginxRouter router = new NginxRouter(nginx.spec(Duration.ofSeconds(10)), Clock.systemUTC(), new Sleeps(Sleeper.SYSTEM));

        router.set(new Split(12.5, ""));
        Split half = router.read();
        router.set(new Split(100.0 / 3, ""));
        Split third = router.read();
        nginx.awaitOldWorkersGone();

        assertThat(half.kubernetes()).isEqualTo(12.5);
        assertThat(third.kubernetes()).isEqualTo(33.33);
        assertThat(third.sameShare(new Split(100.0 / 3, ""))).isTrue();
        assertThat(Files.readString(nginx.include())).contains("    33.33% kubernetes;\n    * legacy;\n");
        Requests.Count count = Requests.send(nginx.base(), 2_000);
        System.out.printf("nginx split set to 33.33%%: %s%n", count);
        assertThat(count.errors()).isZero();
        assertThat(count.kubernetesShare()).isCloseTo(33.33, within(4.0));
    }
}
