package dev.dualdeploy.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dualdeploy.config.ConfigLoader;
import dev.dualdeploy.config.Side;
import dev.dualdeploy.config.StageSpec;
import dev.dualdeploy.release.Release;
import dev.dualdeploy.targets.DeployTarget;
import dev.dualdeploy.targets.Rollout;
import dev.dualdeploy.targets.TargetException;
import dev.dualdeploy.targets.TargetState;
import java.nio.file.Path;
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
            Recovery.Result result = Recovery.run(stage, opened, before, new Deploy(null, (s, side, m) -> { }), pool,
                    (s, side, m) -> { });

            assertThat(result.recovered()).isFalse();
            assertThat(result.stuck()).containsOnlyKeys(Side.KUBERNETES);
            assertThat(result.stuck().get(Side.KUBERNETES)).startsWith("cannot be read: ").contains("connection refused by");
            assertThat(result.summary()).doesNotContain("no last good release is recorded");
        } finally {
            pool.shutdownNow();
        }
    }
}
