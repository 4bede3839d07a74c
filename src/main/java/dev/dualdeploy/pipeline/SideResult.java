package dev.dualdeploy.pipeline;

import dev.dualdeploy.config.Side;
import dev.dualdeploy.targets.RolloutResult;
import dev.dualdeploy.targets.TargetState;
import java.time.Duration;
import java.util.Optional;

/**
 * What happened on one side of a stage.
 *
 * @param side the side
 * @param target the target's description, such as {@code ecs sandbox/loan-api}
 * @param rollout how the release's rollout ended, or empty if the side was not deployed
 * @param rollback how the rollback ended, or empty if none was needed or attempted
 * @param rollbackError why a rollback could not be started, or empty
 * @param after what runs on the side at the end, as read back
 * @param took how long the side took, rollout and rollback together
 */
public record SideResult(Side side, String target, Optional<RolloutResult> rollout, Optional<RolloutResult> rollback,
                         Optional<String> rollbackError, TargetState after, Duration took) {
}
