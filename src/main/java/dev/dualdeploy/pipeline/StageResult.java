package dev.dualdeploy.pipeline;

import dev.dualdeploy.release.Release;
import java.util.List;
import java.util.Optional;

/**
 * The result of deploying one release to, or rolling back, one stage.
 *
 * @param stage the stage name
 * @param release the release deployed, or empty for a rollback
 * @param outcome how it ended
 * @param reason one line a person can act on
 * @param parity whether the enabled sides run the same digest at the end
 * @param sides one report per enabled side
 * @param gates the gate runs, in order; empty when the stage had no gate or it did not run
 */
public record StageResult(String stage, Optional<Release> release, StageOutcome outcome, String reason, Parity parity,
                          List<SideResult> sides, List<GateResult> gates) {

    public StageResult {
        sides = List.copyOf(sides);
        gates = List.copyOf(gates);
    }

    /** A report without gate runs. */
    public StageResult(String stage, Optional<Release> release, StageOutcome outcome, String reason, Parity parity,
                       List<SideResult> sides) {
        this(stage, release, outcome, reason, parity, sides, List.of());
    }
}
