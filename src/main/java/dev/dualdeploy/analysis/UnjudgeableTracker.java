package dev.dualdeploy.analysis;

import dev.dualdeploy.config.CheckSpec;
import dev.dualdeploy.config.Side;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** A comparison with nothing to compare: its baseline side is the only side judged. It is INCONCLUSIVE, never PASS. */
final class UnjudgeableTracker extends BaseTracker {
    private final CheckSpec.Baseline baseline;
    private final List<Side> judged;

    UnjudgeableTracker(String check, CheckSpec.Baseline baseline, List<Side> judged) {
        super(check, check + " [vs " + baseline.label() + "]");
        this.baseline = baseline;
        this.judged = judged;
    }

    @Override
    public Optional<Verdict> window(WindowReading data) {
        return Optional.empty();
    }

    @Override
    boolean decidedEachWindow() {
        return true;
    }

    @Override
    Verdict judge(Duration took) {
        return Verdict.inconclusive(check, "no side to compare with " + baseline.label() + ": it is the only side judged ("
                + Side.labels(judged) + ")");
    }

    @Override
    Map<String, List<Double>> samples() {
        return Map.of();
    }
}
