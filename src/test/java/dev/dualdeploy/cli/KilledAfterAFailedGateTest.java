package dev.dualdeploy.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.dualdeploy.config.ConfigLoader;
import dev.dualdeploy.config.DualDeploySpec;
import dev.dualdeploy.config.Side;
import dev.dualdeploy.local.LocalEnvironment;
import dev.dualdeploy.release.Release;
import dev.dualdeploy.targets.PlatformTargets;
import dev.dualdeploy.targets.RolloutResult;
import dev.dualdeploy.testing.Cli;
import dev.dualdeploy.testing.Cli.Run;
import dev.dualdeploy.time.Sleeper;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Found by the kill -9 harness ({@code KillNineTest}): a deploy killed after its gate failed and before its rollback
 * began leaves both sides on the failed release. The same deploy run again kept the release in place and judged it
 * again, and its gate compared the release's traffic with the traffic "before the deploy", which was the failed
 * release itself: the gate passed and the failed release was recorded as the last good one. A gate with a baseline
 * now sees the release go out from the last good release again, after one soak of the last good release's own traffic
 * (the before-deploy baseline reaches back one soak), so it fails again and the stage is rolled back.
 */
class KilledAfterAFailedGateTest {

    /**
     * Found by {@code dualdeploy bench chaos}: killed in the middle of the rollback after a failed gate (or not killed at
     * all, a person retrying at once), the same release deployed again within one soak of the rollback was judged
     * against a before-deploy baseline that still held its own failing traffic, and passed. A side rolled back since its
     * last good record now makes the deploy wait one soak first.
     */
    @Test
    void aFailedReleaseDeployedAgainRightAfterItsRollbackFailsAgain(@TempDir Path dir) {
        try (LocalEnvironment env = LocalEnvironment.start(dir, "1.0.0", 1, 0,
                Optional.of(new LocalEnvironment.GateTiming(Duration.ofSeconds(2), Duration.ofSeconds(1))))) {
            String config = env.config().toString();
            Release good = env.release("1.0.0");
            Release bad = env.release("1.1.0");
            env.breakRelease("1.1.0", LocalEnvironment.Breakage.ERRORS, EnumSet.of(Side.KUBERNETES), 50);
            assertThat(Cli.run("deploy", "-f", config, "--stage", "sandbox", "--image", good.image(), "--no-gate").code()).isZero();
            Run failed = Cli.run("deploy", "-f", config, "--stage", "sandbox", "--image", bad.image(), "--release-version", "1.1.0");
            assertThat(failed.code()).as(failed.err()).isEqualTo(1);

            Run again = Cli.run("deploy", "-f", config, "--stage", "sandbox", "--image", bad.image(), "--release-version", "1.1.0",
                    "--output", "json");

            assertThat(again.code()).as(again.err()).isEqualTo(1);
            assertThat(again.json().get("gates").get(0).get("decision").asText()).isEqualTo("FAIL");
            assertThat(again.json().get("sides").findValues("running")).hasSize(2).allSatisfy(r ->
                    assertThat(r.get("digest").asText()).isEqualTo(good.digest()));
            assertThat(again.err()).contains("[sandbox] waiting 2s (the soak) before deploying");
        }
    }

    @Test
    void theSameDeployAfterAKillBetweenAFailedGateAndItsRollbackFailsAgainAndRollsBack(@TempDir Path dir) {
        try (LocalEnvironment env = LocalEnvironment.start(dir, "1.0.0", 1, 0,
                Optional.of(new LocalEnvironment.GateTiming(Duration.ofSeconds(2), Duration.ofSeconds(1))));
             PlatformTargets targets = new PlatformTargets(Clock.systemUTC(), Sleeper.SYSTEM)) {
            String config = env.config().toString();
            Release good = env.release("1.0.0");
            Release bad = env.release("1.1.0");
            env.breakRelease("1.1.0", LocalEnvironment.Breakage.ERRORS, EnumSet.of(Side.KUBERNETES), 50);
            Run first = Cli.run("deploy", "-f", config, "--stage", "sandbox", "--image", good.image(), "--no-gate");
            assertThat(first.code()).as(first.err()).isZero();
            // The killed run: both sides got 1.1.0 and ran it through a gate that failed; the kill came before the rollback.
            DualDeploySpec spec = new ConfigLoader().load(env.config());
            for (Side side : List.of(Side.LEGACY, Side.KUBERNETES)) {
                RolloutResult result = targets.open(spec.stage("sandbox").orElseThrow(), side, m -> { }).deploy(bad)
                        .await(Duration.ofMinutes(1));
                assertThat(result.succeeded()).as(result.reason()).isTrue();
            }

            Run rerun = Cli.run("deploy", "-f", config, "--stage", "sandbox", "--image", bad.image(), "--release-version", "1.1.0",
                    "--output", "json");

            assertThat(rerun.code()).as(rerun.err()).isEqualTo(1);
            JsonNode json = rerun.json();
            assertThat(json.get("outcome").asText()).isEqualTo("ROLLED_BACK");
            assertThat(json.get("gates").get(0).get("decision").asText()).isEqualTo("FAIL");
            assertThat(json.get("sides").findValues("running")).hasSize(2).allSatisfy(r ->
                    assertThat(r.get("digest").asText()).isEqualTo(good.digest()));
            assertThat(rerun.err()).contains("[sandbox] legacy runs 1.1.0, which never passed here; kubernetes runs 1.1.0, which never"
                    + " passed here (left by an interrupted or failed run): returning legacy + kubernetes to the last good release before"
                    + " deploying 1.1.0 (the gate judges it against a baseline, which must not be the release itself)")
                    .contains("[sandbox] waiting 2s (the soak) before deploying, so that the gate's before-deploy baseline is the last"
                            + " good release's traffic, not that of the release it replaced");
            for (Side side : Side.values()) {
                assertThat(env.traffic().served("sandbox", side)).as(side.label()).endsWith(bad.digest(), good.digest(), bad.digest(),
                        good.digest());
            }
        }
    }
}
