package dev.dualdeploy.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dualdeploy.config.ConfigLoader;
import dev.dualdeploy.config.Side;
import dev.dualdeploy.config.StageSpec;
import dev.dualdeploy.release.ImageRef;
import dev.dualdeploy.release.Release;
import dev.dualdeploy.targets.DeployTarget;
import dev.dualdeploy.targets.Progress;
import dev.dualdeploy.targets.Rollout;
import dev.dualdeploy.targets.RolloutResult;
import dev.dualdeploy.targets.TargetException;
import dev.dualdeploy.targets.TargetState;
import dev.dualdeploy.targets.Targets;
import dev.dualdeploy.testing.ProgressRecorder;
import dev.dualdeploy.time.SteppedClock;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.EnumMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.Test;

/**
 * Found by the hostile review of issue 8 (item 16): a platform that went away mid-deploy was reported as "no last good
 * release is recorded to return to", a false reason, because recovery forgot which sides it could not read.
 */
class RecoveryTest {

    /** A side whose platform no longer answers: every call fails as a real target's would. */
    private static final class Unreachable implements DeployTarget {
        @Override
        public TargetState current() {
            throw new TargetException("kubernetes prod/loan-api: cannot read deployment: connection refused by https://127.0.0.1:6443");
        }

        @Override
        public Rollout deploy(Release release) {
            throw new UnsupportedOperationException("recovery never deploys");
        }

        @Override
        public TargetState markGood(Release release, Set<Side> passedOn) {
            throw new UnsupportedOperationException("recovery never marks");
        }

        @Override
        public Rollout rollback() {
            throw new UnsupportedOperationException("an unreadable side is not rolled back blind");
        }

        @Override
        public String describe() {
            return "kubernetes prod/loan-api";
        }
    }

    @Test
    void aSideThatCannotBeReadIsStuckBecauseItCannotBeReadNotForWantOfARecord() {
        StageSpec stage = new ConfigLoader().parse("dualdeploy.yaml", """
                service: loan-api
                image: registry.example.com/loan-api
                stages:
                  - name: prod
                    kubernetes: { namespace: prod, deployment: loan-api, container: app }
                """, Path.of(".")).stage("prod").orElseThrow();
        Map<Side, DeployTarget> opened = new EnumMap<>(Side.class);
        opened.put(Side.KUBERNETES, new Unreachable());
        Map<Side, TargetState> before = new EnumMap<>(Side.class);
        before.put(Side.KUBERNETES, new TargetState(Optional.of("registry.example.com/loan-api@sha256:" + "a".repeat(64)),
                Optional.of("sha256:" + "a".repeat(64)), Optional.of("1.0.0"), Optional.empty(), Optional.empty(),
                TargetState.Health.HEALTHY, "2/2 ready"));
        ExecutorService pool = Executors.newSingleThreadExecutor();
        try {
            Recovery.Result result = Recovery.run(stage, opened, before, new Rollouts(null, ProgressRecorder.none()), pool,
                    ProgressRecorder.none());

            assertThat(result.recovered()).isFalse();
            assertThat(result.stuck()).containsOnlyKeys(Side.KUBERNETES);
            assertThat(result.stuck().get(Side.KUBERNETES)).startsWith("cannot be read: ").contains("connection refused by");
            assertThat(result.summary()).doesNotContain("no last good release is recorded");
        } finally {
            pool.shutdownNow();
        }
    }

    /** A side in memory: what it runs and its last good record; a rollback puts the last good release back. */
    private static final class Recorded implements DeployTarget {
        private final String name;
        private volatile String image;
        private final String lastGood;
        private int rollbacks;

        Recorded(String name, String image, String lastGood) {
            this.name = name;
            this.image = image;
            this.lastGood = lastGood;
        }

        @Override
        public TargetState current() {
            return new TargetState(Optional.of(image), ImageRef.findDigest(image), Optional.empty(),
                    Optional.of(lastGood), Optional.empty(), TargetState.Health.HEALTHY, "2/2 ready", Set.of(Side.LEGACY, Side.KUBERNETES));
        }

        @Override
        public Rollout deploy(Release release) {
            throw new UnsupportedOperationException("recovery never deploys");
        }

        @Override
        public TargetState markGood(Release release, Set<Side> passedOn) {
            throw new UnsupportedOperationException("recovery never marks");
        }

        @Override
        public Rollout rollback() {
            rollbacks++;
            image = lastGood;
            return timeout -> new RolloutResult(RolloutResult.Outcome.SUCCEEDED,
                    "back on " + lastGood, Duration.ZERO);
        }

        @Override
        public String describe() {
            return name;
        }
    }

    /**
     * Issue 9: a side found running neither this run's release nor what it ran when the run began was changed by
     * another writer after its rollout ended (between the deploy and a failed gate, say). Recovery returns the side
     * this run changed and leaves that one to the other writer, saying so: SUPERSEDED, not a silent rollback over it.
     */
    @Test
    void aSideAnotherWriterChangedAfterItsRolloutIsLeftToThemAndSaidSo() {
        StageSpec stage = new ConfigLoader().parse("dualdeploy.yaml", """
                service: loan-api
                image: registry.example.com/loan-api
                stages:
                  - name: prod
                    legacy:
                      ecs: { cluster: prod, service: loan-api, container: app, region: eu-west-1 }
                    kubernetes: { namespace: prod, deployment: loan-api, container: app }
                """, Path.of(".")).stage("prod").orElseThrow();
        String good = "registry.example.com/loan-api@sha256:" + "a".repeat(64);
        String ours = "registry.example.com/loan-api@sha256:" + "b".repeat(64);
        String theirs = "registry.example.com/loan-api@sha256:" + "c".repeat(64);
        Recorded legacy = new Recorded("ecs prod/loan-api", ours, good);
        Recorded kubernetes = new Recorded("kubernetes prod/loan-api", theirs, good);
        Map<Side, DeployTarget> opened = new EnumMap<>(Side.class);
        opened.put(Side.LEGACY, legacy);
        opened.put(Side.KUBERNETES, kubernetes);
        Map<Side, TargetState> before = new EnumMap<>(Side.class);
        before.put(Side.LEGACY, new Recorded("", good, good).current());
        before.put(Side.KUBERNETES, new Recorded("", good, good).current());
        Targets targets = new Targets() {
            @Override
            public DeployTarget open(StageSpec s, Side side, Progress progress) {
                return opened.get(side);
            }

            @Override
            public Clock clock() {
                return new SteppedClock(Instant.EPOCH);
            }

            @Override
            public void close() {
            }
        };
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            Recovery.Result result = Recovery.run(stage, opened, before, Optional.of(ours), Map.of(),
                    new Rollouts(targets, ProgressRecorder.none()), pool, ProgressRecorder.none(), "the release failed");

            assertThat(legacy.image).as("the side this run changed is back on its last good release").isEqualTo(good);
            assertThat(kubernetes.rollbacks).as("no rollback over the other writer's change").isZero();
            assertThat(kubernetes.image).isEqualTo(theirs);
            assertThat(result.superseded()).containsExactly(Map.entry(Side.KUBERNETES, theirs));
            assertThat(result.outcome()).isEqualTo(StageOutcome.SUPERSEDED);
            assertThat(result.summary()).isEqualTo("rolled back legacy to the last good release; kubernetes was not rolled back:"
                    + " superseded by cccccccccccc (" + theirs + "), another writer's change, which is theirs now; a person must look");
        } finally {
            pool.shutdownNow();
        }
    }
}
