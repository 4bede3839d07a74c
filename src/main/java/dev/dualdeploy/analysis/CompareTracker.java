package dev.dualdeploy.analysis;

import dev.dualdeploy.config.CheckSpec;
import dev.dualdeploy.config.Side;
import dev.dualdeploy.metrics.Measurement;
import dev.dualdeploy.metrics.Window;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * A Mann-Whitney comparison of one judged side with its baseline (the other side's windows, or the same side's
 * before the deploy): may FAIL early at the stricter early-look confidence, and judges at the end with a
 * {@link MannWhitneyJudge}.
 */
final class CompareTracker extends BaseTracker {
    private final CheckSpec.Compare compare;
    private final Side side;
    private final Meter meter;
    private final Instant deployed;
    private final Duration soak;
    private final List<Double> canary = new ArrayList<>();
    private List<Double> baseline = new ArrayList<>();
    private boolean prepared;
    private int windows;

    /**
     * @param deployed when the side's deploy began: the end of its before-deploy baseline window
     * @param soak how long the gate watches, which is also how far back the before-deploy baseline reaches
     */
    CompareTracker(CheckSpec.Compare compare, Side side, Meter meter, Instant deployed, Duration soak) {
        super("compare " + compare.metric(), "compare " + compare.metric() + " [" + side.label() + " vs " + compare.baseline().label() + "]");
        this.compare = compare;
        this.side = side;
        this.meter = meter;
        this.deployed = deployed;
        this.soak = soak;
        this.prepared = compare.baseline().side().isPresent();
    }

    @Override
    public void needs(Map<Side, Set<String>> needs) {
        need(needs, side, compare.metric());
        compare.baseline().side().ifPresent(b -> need(needs, b, compare.metric()));
    }

    @Override
    public Optional<String> prepare() {
        if (prepared) {
            return Optional.empty();
        }
        Measurement before = meter.measure(compare.metric(), side, new Window(deployed.minus(soak), deployed, meter.spec().interval()));
        if (before.error().isPresent()) {
            return Optional.of("the before-deploy baseline of " + side.label() + " " + compare.metric() + ": " + before.error().get());
        }
        baseline = new ArrayList<>(before.samples());
        prepared = true;
        return Optional.empty();
    }

    @Override
    public Optional<Verdict> window(WindowReading data) {
        if (data.isLost()) {
            return Optional.empty();
        }
        windows++;
        if (data.full(side)) {
            data.value(side, compare.metric()).ifPresent(canary::add);
        } else {
            thin++;
        }
        compare.baseline().side().filter(data::full)
                .ifPresent(b -> data.value(b, compare.metric()).ifPresent(baseline::add));
        if (compare.earlyConfidence() < 1 && canary.size() >= compare.minWindows() && baseline.size() >= compare.minWindows()) {
            Verdict early = new MannWhitneyJudge(compare.earlyConfidence(), compare.tolerance(), compare.minWindows())
                    .judge(compare.metric(), side.label(), array(canary), baseName(compare.baseline(), side), array(baseline));
            if (early.outcome() == Verdict.Outcome.FAIL) {
                return fail(new Verdict(early.check(), early.outcome(), early.reason() + ", at the early-look confidence of "
                        + compare.earlyConfidence()));
            }
        }
        return Optional.empty();
    }

    @Override
    Verdict judge(Duration took) {
        Verdict judged = new MannWhitneyJudge(compare.confidence(), compare.tolerance(), compare.minWindows())
                .judge(compare.metric(), side.label(), array(canary), baseName(compare.baseline(), side), array(baseline));
        return new Verdict(judged.check(), judged.outcome(), judged.reason() + thinNote(windows, meter.spec().minRequests()));
    }

    @Override
    Map<String, List<Double>> samples() {
        Map<String, List<Double>> samples = new LinkedHashMap<>();
        samples.put(side.label(), List.copyOf(canary));
        samples.put(baseName(compare.baseline(), side), List.copyOf(baseline));
        return samples;
    }
}
