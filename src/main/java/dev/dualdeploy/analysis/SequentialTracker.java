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
 * The sequential error test of one judged side against its baseline: feeds the cumulative request and error counts
 * of every window to a {@link SequentialErrorJudge}, which may FAIL at any window, and takes its final word at the end.
 */
final class SequentialTracker extends BaseTracker {
    private final CheckSpec.Sequential sequential;
    private final Side side;
    private final Meter meter;
    private final Instant deployed;
    private final Duration soak;
    private final SequentialErrorJudge judge;
    private final Map<String, List<Double>> samples = new LinkedHashMap<>();
    private long requests;
    private long errors;
    private long baseRequests;
    private long baseErrors;
    private boolean prepared;

    /**
     * @param deployed when the side's deploy began: the end of its before-deploy baseline window
     * @param soak how long the gate watches, which is also how far back the before-deploy baseline reaches
     */
    SequentialTracker(CheckSpec.Sequential sequential, Side side, Meter meter, Instant deployed, Duration soak) {
        super("sequential error_rate", "sequential error_rate [" + side.label() + " vs " + sequential.baseline().label() + "]");
        this.sequential = sequential;
        this.side = side;
        this.meter = meter;
        this.deployed = deployed;
        this.soak = soak;
        this.judge = new SequentialErrorJudge("error_rate", sequential.alpha(), sequential.tolerance(), sequential.tau(),
                meter.spec().minRequests(), sequential.minErrors());
        this.prepared = sequential.baseline().side().isPresent();
        samples.put(side.label(), new ArrayList<>());
        samples.put(baseName(), new ArrayList<>());
    }

    private String baseName() {
        return baseName(sequential.baseline(), side);
    }

    @Override
    public void needs(Map<Side, Set<String>> needs) {
        need(needs, side, "requests");
        need(needs, side, "errors");
        sequential.baseline().side().ifPresent(b -> {
            need(needs, b, "requests");
            need(needs, b, "errors");
        });
    }

    @Override
    public Optional<String> prepare() {
        if (prepared) {
            return Optional.empty();
        }
        Window before = Window.ending(deployed, soak);
        Measurement total = meter.measure("requests", side, before);
        Measurement failedRequests = meter.measure("errors", side, before);
        String error = total.error().or(failedRequests::error).orElse(null);
        if (error != null) {
            return Optional.of("the before-deploy baseline of " + side.label() + " requests and errors: " + error);
        }
        baseRequests = Math.round(total.value().orElse(0));
        baseErrors = Math.round(failedRequests.value().orElse(0));
        samples.get(baseName()).add(baseRequests == 0 ? 0 : (double) baseErrors / baseRequests);
        prepared = true;
        return Optional.empty();
    }

    @Override
    public Optional<Verdict> window(WindowReading data) {
        if (data.isLost()) {
            return Optional.empty();
        }
        long r = data.count(side, "requests");
        long e = data.count(side, "errors");
        requests += r;
        errors += e;
        samples.get(side.label()).add(r == 0 ? 0 : (double) e / r);
        sequential.baseline().side().ifPresent(b -> {
            long br = data.count(b, "requests");
            long be = data.count(b, "errors");
            baseRequests += br;
            baseErrors += be;
            samples.get(baseName()).add(br == 0 ? 0 : (double) be / br);
        });
        Verdict verdict = judge.update(side.label(), requests, errors, baseName(), baseRequests, baseErrors);
        return verdict.outcome() == Verdict.Outcome.FAIL ? fail(verdict) : Optional.empty();
    }

    @Override
    Verdict judge(Duration took) {
        return judge.finish();
    }

    @Override
    Map<String, List<Double>> samples() {
        Map<String, List<Double>> copy = new LinkedHashMap<>();
        samples.forEach((k, v) -> copy.put(k, List.copyOf(v)));
        return copy;
    }
}
