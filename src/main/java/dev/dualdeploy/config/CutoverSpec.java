package dev.dualdeploy.config;

import java.util.List;

/**
 * How a stage's live traffic moves from legacy to Kubernetes by weight: the router that holds the split, the steps
 * of the Kubernetes share, and the gate each step must pass (Kubernetes judged against legacy under the same traffic).
 *
 * @param router where the split is set and read back
 * @param steps the Kubernetes share after each step, in percent: strictly increasing, from 1 to 100
 * @param gate what each step must pass before the next; judged: kubernetes, baseline: legacy
 */
public record CutoverSpec(RouterSpec router, List<Integer> steps, GateSpec gate) {

    public CutoverSpec {
        steps = List.copyOf(steps);
    }

    /** The last step: where a cutover without {@code --to} or {@code --next} goes. */
    public int last() {
        return steps.get(steps.size() - 1);
    }
}
