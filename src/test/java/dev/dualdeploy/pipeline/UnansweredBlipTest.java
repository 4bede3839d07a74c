package dev.dualdeploy.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dualdeploy.config.ConfigLoader;
import dev.dualdeploy.config.Side;
import dev.dualdeploy.config.StageSpec;
import dev.dualdeploy.config.ToggleSpec;
import dev.dualdeploy.release.Release;
import dev.dualdeploy.targets.DeployTarget;
import dev.dualdeploy.targets.Progress;
import dev.dualdeploy.targets.Rollout;
import dev.dualdeploy.targets.RolloutResult;
import dev.dualdeploy.targets.TargetException;
import dev.dualdeploy.targets.TargetState;
import dev.dualdeploy.targets.Targets;
import dev.dualdeploy.targets.Unanswered;
import dev.dualdeploy.testing.ProgressRecorder;
import java.net.SocketTimeoutException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * Issue 8 item 16, second hostile review of {@link Unanswered}: a platform that missed one read (a blip: one read
 * timeout, the platform answers the next call) is remembered as silent for the rest of the run, and the run's failure
 * recovery then never asks it again, so a side that could have been rolled back is left on the release while the
 * other side is rolled back: the stage ends split.
 */
class UnansweredBlipTest {

    private static final String GOOD = "sha256:" + "a".repeat(64);
    private static final String NEW = "sha256:" + "b".repeat(64);
    private static final String REPOSITORY = "registry.example.com/loan-api";

    private static final StageSpec STAGE = new ConfigLoader().parse("dualdeploy.yaml", """
            service: loan-api
            image: registry.example.com/loan-api
            stages:
              - name: prod
                deploy: { legacy: true, kubernetes: true }
                legacy:
                  ecs: { cluster: prod, service: loan-api, container: app, region: eu-west-1 }
                kubernetes: { namespace: prod, deployment: loan-api, container: app }
            """, Path.of(".")).stage("prod").orElseThrow();

    /** A platform in memory that times out the calls it is told to, then answers again, as after a blip. */
    private static final class Blipping implements DeployTarget {
        private final String name;
        private volatile String image = REPOSITORY + "@" + GOOD;
        private volatile String lastGood = REPOSITORY + "@" + GOOD;
        private final AtomicInteger readsBeforeBlip = new AtomicInteger(-1);
        private final AtomicInteger calls = new AtomicInteger();

        Blipping(String name) {
            this.name = name;
        }

        private void answer() {
            calls.incrementAndGet();
            if (readsBeforeBlip.getAndDecrement() == 0) {
                throw new TargetException(name + ": cannot read: Read timed out", new SocketTimeoutException("Read timed out"));
            }
        }

        @Override
        public TargetState current() {
            answer();
            String digest = image.substring(image.indexOf('@') + 1);
            return new TargetState(Optional.of(image), Optional.of(digest), Optional.of(digest.equals(GOOD) ? "1.0.0" : "1.1.0"),
                    Optional.of(lastGood), Optional.empty(), TargetState.Health.HEALTHY, "2/2 ready");
        }

        @Override
        public Rollout deploy(Release release) {
            answer();
            image = release.image();
            return timeout -> new RolloutResult(RolloutResult.Outcome.SUCCEEDED, "2/2 ready", Duration.ofSeconds(1));
        }

        @Override
        public TargetState markGood(Release release, Set<Side> passedOn) {
            answer();
            lastGood = release.image();
            return current();
        }

        @Override
        public Rollout rollback() {
            answer();
            image = lastGood;
            return timeout -> new RolloutResult(RolloutResult.Outcome.SUCCEEDED, "back on " + lastGood, Duration.ofSeconds(1));
        }

        @Override
        public String describe() {
            return name;
        }
    }

    /**
     * Kubernetes answers every call but one: the read-back right after its rollout times out once. Nobody knows then
     * whether the release runs there, so the deploy fails and recovers. Legacy is returned to 1.0.0; kubernetes, whose
     * platform answers again at once, is "not asked again" by recovery and is left on the release: ROLLBACK_FAILED
     * with the stage split. A run that must recover a side asks its platform again (once) before giving up on it.
     */
    @Test
    void aSingleTimedOutReadBackDoesNotLeaveKubernetesOnTheReleaseWhileLegacyIsRolledBack() {
        Map<Side, Blipping> fakes = new EnumMap<>(Map.of(Side.LEGACY, new Blipping("ecs prod/loan-api"),
                Side.KUBERNETES, new Blipping("kubernetes prod/loan-api")));
        // Reads before the blip: the read before the deploy, then the deploy itself; the third call (read-back) times out.
        fakes.get(Side.KUBERNETES).readsBeforeBlip.set(2);
        Unanswered unanswered = new Unanswered(Duration.ofSeconds(10));
        Targets targets = new Targets() {
            @Override
            public DeployTarget open(StageSpec stage, Side side, Progress progress) {
                return unanswered.guard(fakes.get(side), () -> side == Side.LEGACY ? "https://ecs.eu-west-1.amazonaws.com"
                        : "https://127.0.0.1:6443");
            }

            @Override

            public Clock clock() {

                return Clock.systemUTC();

            }


            @Override
            public void close() {
            }
        };
        List<String> events = new CopyOnWriteArrayList<>();

        StageResult report = new Rollouts(targets, ProgressRecorder.lines(events))
                .run(STAGE, new Release(REPOSITORY, NEW, "1.1.0"), new ToggleSpec(true, true), true);

        String what = report.outcome() + ": " + report.reason() + "; kubernetes calls: " + fakes.get(Side.KUBERNETES).calls.get();
        assertThat(fakes.get(Side.LEGACY).image).as(what).isEqualTo(REPOSITORY + "@" + GOOD);
        assertThat(fakes.get(Side.KUBERNETES).image).as("kubernetes answers again; it must not stay on the release while"
                + " legacy is rolled back: " + what).isEqualTo(REPOSITORY + "@" + GOOD);
    }
}
