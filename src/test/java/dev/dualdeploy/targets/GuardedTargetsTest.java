package dev.dualdeploy.targets;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dualdeploy.config.Side;
import dev.dualdeploy.pipeline.Rollouts;
import dev.dualdeploy.pipeline.StageOutcome;
import dev.dualdeploy.pipeline.StageResult;
import dev.dualdeploy.testing.LocalStageTest;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * A run whose lease was lost starts no new write on the stage: on the local environment's real simulators, a deploy
 * guarded by a lost lease changes neither side and ends as a platform failure that names the reason.
 */
class GuardedTargetsTest extends LocalStageTest {

    @Test
    void aLostLeaseStartsNoRolloutAndNoRollbackAndSaysWhy() {
        AtomicReference<String> lost = new AtomicReference<>("the lease dualdeploy-loan-api-prod on stage prod was lost (taken over)");
        GuardedTargets guarded = new GuardedTargets(targets, () -> Optional.ofNullable(lost.get()));

        StageResult report = new Rollouts(guarded, sink).run(stage(), NEXT, BOTH, true);

        assertThat(report.outcome()).as(report.reason()).isIn(StageOutcome.ROLLBACK_FAILED, StageOutcome.ROLLED_BACK);
        assertThat(report.reason()).contains("was lost (taken over)");
        assertThat(runs(Side.LEGACY)).contains(GOOD.digest());
        assertThat(runs(Side.KUBERNETES)).contains(GOOD.digest());
        lost.set(null);
        StageResult held = new Rollouts(guarded, sink).run(stage(), NEXT, BOTH, true);
        assertThat(held.outcome()).as("writes go through while the lease is held: " + held.reason()).isEqualTo(StageOutcome.SUCCEEDED);
    }
}
