package dev.dualdeploy.targets;

import dev.dualdeploy.config.Side;
import dev.dualdeploy.config.StageSpec;
import java.time.Clock;

/** Opens the deploy target of one side of one stage; closing releases every client it opened. */
public interface Targets extends AutoCloseable {

    /**
     * The target for a configured side (not idempotent: each call makes a new target over shared clients).
     *
     * @throws TargetException if the side's client cannot be set up (unreadable kubeconfig)
     * @throws IllegalArgumentException if the side is not configured in the stage
     */
    DeployTarget open(StageSpec stage, Side side, Progress progress);

    /**
     * Where a side's platform is reached, for messages such as "no answer from …"; the side's label if unknown.
     * Reads nothing from the network.
     */
    default String endpoint(StageSpec stage, Side side) {
        return side.label();
    }

    /**
     * The time the targets opened here measure rollouts in, and the pipeline measures what it does with: the real
     * clock in the CLI, a stepped clock in tests. Engine code never reads the real time itself (HouseRulesTest).
     */
    Clock clock();

    /** Closes the platform clients; targets opened before are unusable afterwards. */
    @Override
    void close();
}
