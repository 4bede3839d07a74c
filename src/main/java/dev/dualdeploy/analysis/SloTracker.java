package dev.dualdeploy.analysis;

import dev.dualdeploy.config.CheckSpec;
import dev.dualdeploy.config.Durations;
import dev.dualdeploy.config.Side;
import dev.dualdeploy.metrics.Measurement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.Set;

/**
 * An SLO on one side: FAILs early when the limit is breached {@code breaches} windows in a row, and at the end
 * judges the value over the whole soak with a {@link ThresholdJudge}.
 */
final class SloTracker extends BaseTracker {
    private final CheckSpec.Slo slo;
    private final Side side;
    private final Meter meter;
    private final List<Double> samples = new ArrayList<>();
    private int breaches;
    private int windows;

    SloTracker(CheckSpec.Slo slo, Side side, Meter meter) {
        super("slo " + slo.metric(), "slo " + slo.metric() + " [" + side.label() + "]");
        this.slo = slo;
        this.side = side;
        this.meter = meter;
    }

    @Override
    public void needs(Map<Side, Set<String>> needs) {
        need(needs, side, slo.metric());
    }

    @Override
    public Optional<Verdict> window(WindowReading data) {
        if (data.isLost()) {
            return Optional.empty();
        }
        windows++;
        OptionalDouble value = data.value(side, slo.metric());
        if (!data.full(side)) {
            thin++;
            return Optional.empty();
        }
        if (value.isEmpty()) {
            return Optional.empty();
        }
        double v = value.getAsDouble();
        samples.add(v);
        breaches = v > slo.max() ? breaches + 1 : 0;
        if (breaches >= slo.breaches()) {
            return fail(Verdict.fail(check, side.label() + " " + slo.metric() + " " + Numbers.metric(slo.metric(), v)
                    + " is above the limit of " + Numbers.metric(slo.metric(), slo.max()) + " in " + breaches + " windows in a row"));
        }
        return Optional.empty();
    }

    @Override
    Verdict judge(Duration took) {
        if (samples.isEmpty()) {
            return Verdict.inconclusive(check, side.label() + " " + slo.metric() + " had no window to judge"
                    + (thin > 0 ? ": too little traffic" : ": no data") + thinNote(windows, meter.spec().minRequests()));
        }
        Duration soak = Duration.ofSeconds(Math.max(1, took.toSeconds()));
        Measurement whole = meter.soakLong(slo.metric(), side, soak);
        if (whole.error().isPresent()) {
            return Verdict.error(check, "the soak-long value could not be read: " + whole.error().get());
        }
        Verdict judged = new ThresholdJudge(slo.metric(), slo.max()).judge(side.label(), whole.value());
        return new Verdict(judged.check(), judged.outcome(), judged.reason() + " over the " + Durations.format(soak)
                + " soak" + thinNote(windows, meter.spec().minRequests()));
    }

    @Override
    Map<String, List<Double>> samples() {
        return Map.of(side.label(), List.copyOf(samples));
    }
}
