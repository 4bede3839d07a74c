package dev.dualdeploy.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dualdeploy.pipeline.StageOutcome;
import java.util.EnumMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Issue 9 move 4: the one mapping from how a stage ended to the exit code the README and --help document. */
class ExitCodesTest {

    @Test
    void everyStageOutcomeHasTheDocumentedExitCode() {
        Map<StageOutcome, Integer> codes = new EnumMap<>(StageOutcome.class);
        for (StageOutcome outcome : StageOutcome.values()) {
            codes.put(outcome, ExitCodes.of(outcome));
        }
        assertThat(codes).containsExactlyInAnyOrderEntriesOf(Map.of(
                StageOutcome.SUCCEEDED, 0, StageOutcome.SKIPPED, 0,
                StageOutcome.ROLLED_BACK, 1, StageOutcome.FAILED, 1,
                StageOutcome.ROLLBACK_FAILED, 4, StageOutcome.SUPERSEDED, 4, StageOutcome.PAUSED, 4,
                StageOutcome.ABORTED, 6));
    }
}
