package dev.dualdeploy.pipeline;

import dev.dualdeploy.analysis.Meter;
import dev.dualdeploy.analysis.Numbers;
import dev.dualdeploy.analysis.Tracker;
import dev.dualdeploy.analysis.Trackers;
import dev.dualdeploy.analysis.Verdict;
import dev.dualdeploy.analysis.WindowReading;
import dev.dualdeploy.config.Durations;
import dev.dualdeploy.config.GateSpec;
import dev.dualdeploy.config.Side;
import dev.dualdeploy.metrics.Measurement;
import dev.dualdeploy.metrics.MetricsProvider;
import dev.dualdeploy.metrics.Window;
import dev.dualdeploy.time.Sleeper;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Watches the sides that run a release for a soak, one window at a time, and decides whether the stage may be
 * promoted. After every window it measures each metric the checks need on each side, judges the early-stopping
 * checks (an SLO breached window after window, the sequential error test, failing HTTP probes) and stops at the
 * first FAIL. When the soak ends it judges the rest: each SLO over the whole soak, each Mann-Whitney comparison over
 * the windows' samples, and the sequential test's final word.
 *
 * <p>A window in which any metric could not be read is lost; more than {@code error_limit} lost windows in a row
 * make the gate ERROR. A window with fewer than {@code min_requests} requests on a side is too thin to judge that
 * side: it adds no samples, and a check left without samples is INCONCLUSIVE, never PASS. Time comes from the
 * injected clock and sleeper, so tests can step it.
 *
 * <p>This class is the soak loop alone: the order of windows, the lost-window limit and the decision under
 * {@code on_error} and {@code on_inconclusive}. What a window measures (queries, templates, probes) is the
 * {@link Meter}'s, and what each check knows over the run is its {@link Tracker}'s, both in {@code analysis}.
 */
public final class Gate {

    /**
     * One run of the gate.
     *
     * @param name {@code gate}, {@code canary} or {@code follow}: how the run is named in logs, reports and JUnit
     * @param judged the sides that run the release and are judged
     * @param soak how long to watch
     * @param deployedAt when each judged side's deploy began: the end of its before-deploy baseline window
     */
    public record Phase(String name, List<Side> judged, Duration soak, Map<Side, Instant> deployedAt) {
        public Phase {
            judged = List.copyOf(judged);
            deployedAt = Map.copyOf(deployedAt);
        }
    }

    private final String stage;
    private final GateSpec spec;
    private final Meter meter;
    private final Clock clock;
    private final Sleeper sleeper;
    private final Reporter reporter;

    /**
     * @param provider where the metrics come from; may be null when the gate has only http checks
     */
    public Gate(String service, String stage, GateSpec spec, MetricsProvider provider, Clock clock, Sleeper sleeper, Reporter reporter) {
        this.stage = stage;
        this.spec = spec;
        this.meter = new Meter(service, stage, spec, provider, clock);
        this.clock = clock;
        this.sleeper = sleeper;
        this.reporter = reporter;
    }

    /** Runs the gate to its decision. */
    public GateReport run(Phase phase) {
        Instant started = clock.instant();
        Duration interval = spec.interval();
        int planned = (int) Math.max(1, (phase.soak().toMillis() + interval.toMillis() - 1) / interval.toMillis());
        List<Tracker> trackers = Trackers.of(spec, phase.judged(), phase.soak(), phase.deployedAt(), meter,
                message -> reporter.event(stage, null, message));
        Map<Side, Set<String>> needs = new EnumMap<>(Side.class);
        trackers.forEach(t -> t.needs(needs));
        if (meter.countsRequests()) {
            needs.values().forEach(metrics -> metrics.add("requests"));
        }
        reporter.event(stage, null, title(phase) + ": watching " + Side.labels(phase.judged()) + " for "
                + Durations.format(phase.soak()) + " in " + planned + " windows of " + Durations.format(interval) + "; "
                + trackers.size() + " checks");
        int windows = 0;
        int lostInARow = 0;
        Verdict stop = null;
        for (int k = 1; k <= planned && stop == null; k++) {
            Instant end = started.plus(interval.multipliedBy(k));
            if (!sleepUntil(end.plus(meter.delay()))) {
                stop = Verdict.error("gate", "interrupted after " + windows + " of " + planned + " windows");
                break;
            }
            windows = k;
            String error = null;
            for (Tracker tracker : trackers) {
                error = error == null ? tracker.prepare().orElse(null) : error;
            }
            Map<Side, Map<String, Measurement>> values = error == null ? meter.measure(needs, Window.ending(end, interval)) : Map.of();
            for (Map<String, Measurement> side : values.values()) {
                for (Measurement m : side.values()) {
                    error = error == null ? m.error().orElse(null) : error;
                }
            }
            WindowReading data = error == null ? meter.reading(values) : WindowReading.lost();
            if (error != null) {
                lostInARow++;
                reporter.event(stage, null, title(phase) + " window " + k + "/" + planned + ": metrics could not be read ("
                        + lostInARow + " in a row; error_limit " + spec.errorLimit() + "): " + error);
                if (lostInARow > spec.errorLimit()) {
                    stop = Verdict.error("metrics", "the metrics could not be read for " + lostInARow + " windows in a row: " + error);
                }
            } else {
                lostInARow = 0;
            }
            for (Tracker tracker : trackers) {
                Optional<Verdict> failed = tracker.window(data);
                if (failed.isPresent() && (stop == null || stop.outcome() != Verdict.Outcome.FAIL)) {
                    stop = failed.get();
                }
            }
            if (error == null) {
                reporter.event(stage, null, title(phase) + " window " + k + "/" + planned + ": " + summary(values));
            }
        }
        Duration took = Duration.between(started, clock.instant());
        List<GateReport.Check> checks = new ArrayList<>();
        boolean stopped = stop != null;
        String stoppedAfter = windows + " of " + planned + " windows";
        for (Tracker tracker : trackers) {
            Tracker.Result result = tracker.finish(stopped ? Optional.of(stoppedAfter) : Optional.empty(), took);
            checks.add(new GateReport.Check(result.name(), result.verdict(), result.samples()));
        }
        if (stop != null && stop.outcome() == Verdict.Outcome.ERROR) {
            checks.add(new GateReport.Check(stop.check(), stop, Map.of()));
        }
        return decide(phase, checks, windows, planned, started, took);
    }

    private GateReport decide(Phase phase, List<GateReport.Check> checks, int windows, int planned, Instant started, Duration took) {
        List<Verdict> verdicts = checks.stream().map(GateReport.Check::verdict).toList();
        Verdict.Outcome outcome = Verdict.combine(verdicts);
        String details = checks.stream().filter(c -> c.verdict().outcome() == outcome)
                .map(c -> c.name() + ": " + c.verdict().reason()).collect(Collectors.joining("; "));
        GateReport.Decision decision;
        String reason;
        switch (outcome) {
            case PASS -> {
                decision = GateReport.Decision.PASS;
                reason = "all " + checks.size() + " checks passed over " + Durations.format(roundToSeconds(took)) + " (" + windows + " windows)";
            }
            case FAIL -> {
                decision = GateReport.Decision.FAIL;
                reason = details;
            }
            case INCONCLUSIVE -> {
                boolean pass = spec.onInconclusive() == GateSpec.OnInconclusive.PASS;
                decision = pass ? GateReport.Decision.PASS : GateReport.Decision.FAIL;
                reason = (pass ? "inconclusive, passed because on_inconclusive is pass: " : "inconclusive, which fails (on_inconclusive: fail): ")
                        + details;
            }
            default -> {
                boolean pause = spec.onError() == GateSpec.OnError.PAUSE;
                decision = pause ? GateReport.Decision.PAUSE : GateReport.Decision.FAIL;
                reason = details + (pause ? "; on_error is pause: the release stays in place for a person to decide"
                        : "; on_error is fail");
            }
        }
        reporter.event(stage, null, title(phase) + " " + outcome + " → " + decision + ": " + reason);
        return new GateReport(stage, phase.name(), phase.judged(), outcome, decision, reason, checks, windows, planned, started, took);
    }

    /** How the run is named in logs: {@code gate}, {@code gate canary}, {@code gate follow}. */
    static String title(Phase phase) {
        return phase.name().equals("gate") ? "gate" : "gate " + phase.name();
    }

    /**
     * Waits one soak, so that a before-deploy baseline taken afterwards (it reaches back one soak) holds only what runs
     * now: after sides were returned to the last good release, the traffic of the release they were returned from must
     * not be the baseline. False if interrupted.
     */
    public boolean awaitBaseline(Duration soak) {
        return sleepUntil(clock.instant().plus(soak));
    }

    private boolean sleepUntil(Instant when) {
        while (true) {
            Duration left = Duration.between(clock.instant(), when);
            if (left.isNegative() || left.isZero()) {
                return true;
            }
            sleeper.sleep(left);
            if (Thread.currentThread().isInterrupted()) {
                return false;
            }
        }
    }

    private static Duration roundToSeconds(Duration duration) {
        return Duration.ofSeconds(Math.max(1, Math.round(duration.toMillis() / 1000.0)));
    }

    private static String summary(Map<Side, Map<String, Measurement>> values) {
        List<String> parts = new ArrayList<>();
        values.forEach((side, metrics) -> parts.add(side.label() + " " + metrics.entrySet().stream()
                .map(e -> e.getKey() + " " + (e.getValue().value().isEmpty() ? "no data"
                        : e.getKey().equals("requests") || e.getKey().equals("errors") ? Numbers.count(Math.round(e.getValue().value().getAsDouble()))
                        : Numbers.metric(e.getKey(), e.getValue().value().getAsDouble())))
                .collect(Collectors.joining(", "))));
        return String.join("; ", parts);
    }
}
