package dev.dualdeploy.config;

import java.time.Duration;
import java.util.Optional;

/**
 * One environment in the promotion chain and where the service runs in it.
 *
 * @param name the stage name, unique in the file
 * @param toggle which sides a release goes to
 * @param legacy the legacy side, or empty if this stage has none
 * @param kubernetes the Kubernetes side, or empty if this stage has none
 * @param timeout how long one rollout on one side may take before it is TIMED_OUT
 * @param gate what must hold before the stage counts as done
 * @param approval who must consent, and how long they have, before anything of this stage changes; empty if the
 *                 stage is entered without asking
 * @param cutover how the stage's live traffic moves from legacy to Kubernetes; empty if it does not
 */
public record StageSpec(String name, ToggleSpec toggle, Optional<LegacySpec> legacy,
                        Optional<KubernetesSpec> kubernetes, Duration timeout, GateSpec gate, Optional<ApprovalSpec> approval,
                        Optional<CutoverSpec> cutover) {

    /** A stage without a cutover. */
    public StageSpec(String name, ToggleSpec toggle, Optional<LegacySpec> legacy, Optional<KubernetesSpec> kubernetes,
                     Duration timeout, GateSpec gate, Optional<ApprovalSpec> approval) {
        this(name, toggle, legacy, kubernetes, timeout, gate, approval, Optional.empty());
    }

    /** Whether the stage has this side at all (toggled on or off). */
    public boolean configured(Side side) {
        return side == Side.LEGACY ? legacy.isPresent() : kubernetes.isPresent();
    }

    /** Whether this side is configured and toggled on. */
    public boolean toggledOn(Side side) {
        return toggle.on(side);
    }
}
