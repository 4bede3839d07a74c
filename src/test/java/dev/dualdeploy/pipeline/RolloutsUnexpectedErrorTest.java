package dev.dualdeploy.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.dualdeploy.config.Side;
import dev.dualdeploy.config.StageSpec;
import dev.dualdeploy.release.Release;
import dev.dualdeploy.targets.DeployTarget;
import dev.dualdeploy.targets.Progress;
import dev.dualdeploy.targets.Rollout;
import dev.dualdeploy.targets.TargetState;
import dev.dualdeploy.targets.Targets;
import dev.dualdeploy.testing.LocalStageTest;
import java.time.Clock;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Issue 9: {@code Rollouts.parallel} rethrew a side's unexpected exception, and the stage was left with the other side on
 * the new release. Every path out of a stage that changed something goes through rollback: here the Kubernetes side's
 * rollout reaches the release and then throws (a bug while following it), while the legacy side succeeds.
 */
class RolloutsUnexpectedErrorTest extends LocalStageTest {

    /** The stage's real targets, but following the Kubernetes side's rollout throws once the rollout has ended. */
    private final class Throwing implements Targets {
        @Override
        public DeployTarget open(StageSpec stage, Side side, Progress progress) {
            DeployTarget real = targets.open(stage, side, progress);
            return side == Side.LEGACY ? real : new DeployTarget() {
                @Override
                public TargetState current() {
                    return real.current();
                }

                @Override
                public Rollout deploy(Release release) {
                    Rollout rollout = real.deploy(release);
                    return timeout -> {
                        rollout.await(timeout);
                        throw new IllegalStateException("a bug while following the rollout");
                    };
                }

                @Override
                public TargetState markGood(Release release, Set<Side> passedOn) {
                    return real.markGood(release, passedOn);
                }

                @Override
                public Rollout rollback() {
                    return real.rollback();
                }

                @Override
                public String describe() {
                    return real.describe();
                }
            };
        }

        @Override
        public Clock clock() {
            return targets.clock();
        }

        @Override
        public void close() {
            // the test's own targets are closed by the base class
        }
    }

    @Test
    void aSideThatThrowsIsPassedOnOnlyAfterEverySideIsBackOnTheLastGoodRelease() {
        assertThatThrownBy(() -> new Rollouts(new Throwing(), sink).run(stage(), NEXT, BOTH, true))
                .isInstanceOf(IllegalStateException.class).hasMessage("a bug while following the rollout");

        // Both sides had NEXT (the legacy rollout succeeded, the Kubernetes one reached it before throwing): both are back.
        assertThat(runs(Side.LEGACY)).contains(GOOD.digest());
        assertThat(runs(Side.KUBERNETES)).contains(GOOD.digest());
        assertThat(events).anySatisfy(e -> assertThat(e).isEqualTo("[prod] unexpected error during the rollout:"
                + " java.lang.IllegalStateException: a bug while following the rollout; returning every enabled side to its"
                + " last good release"));
        assertThat(events).anySatisfy(e -> assertThat(e).startsWith("[prod] ROLLED_BACK after the unexpected error: rolled back ")
                .contains("legacy").contains("kubernetes").endsWith("[PARITY]"));
    }

    @Test
    void withoutAutomaticRollbackTheSidesAreLeftAndSaidToBe() {
        assertThatThrownBy(() -> new Rollouts(new Throwing(), sink).run(stage(), NEXT, BOTH, false))
                .isInstanceOf(IllegalStateException.class);

        assertThat(runs(Side.LEGACY)).contains(NEXT.digest());
        assertThat(events).anySatisfy(e -> assertThat(e).endsWith("automatic rollback is off, the sides are left as they are"));
    }
}
