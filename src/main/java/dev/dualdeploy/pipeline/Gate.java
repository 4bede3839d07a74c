package dev.dualdeploy.pipeline;

import dev.dualdeploy.analysis.Meter;
import dev.dualdeploy.analysis.Probe;
import dev.dualdeploy.analysis.Tracker;
import dev.dualdeploy.analysis.Trackers;
import dev.dualdeploy.analysis.Verdict;
import dev.dualdeploy.analysis.WindowReading;
import dev.dualdeploy.config.Durations;
import dev.dualdeploy.config.GateSpec;
import dev.dualdeploy.config.Side;
import dev.dualdeploy.journal.Event;
import dev.dualdeploy.journal.EventSink;
import dev.dualdeploy.metrics.Measurement;
import dev.dualdeploy.metrics.MetricsProvider;
import dev.dualdeploy.metrics.Window;
import dev.dualdeploy.time.Abort;
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
    private final EventSink events;
    private final Abort abort;

    /**
     * @param provider where the metrics come from; may be null when the gate has only http checks
     * @param events where it says what it measures and decides
     */
    public Gate(String service, String stage, GateSpec spec, MetricsProvider provider, Clock clock, Sleeper sleeper, EventSink events) {
        this(service, stage, spec, provider, clock, sleeper, events, Abort.none());
    }

    /**
     * @param provider where the metrics come from; may be null when the gate has only http checks
     * @param events where it says what it measures and decides
     * @param abort ends the soak between windows (no new window starts once it is requested)
     */
    public Gate(String service, String stage, GateSpec spec, MetricsProvider provider, Clock clock, Sleeper sleeper, EventSink events,
                Abort abort) {
        this.abort = abort;
        this.stage = stage;
        this.spec = spec;
        this.meter = new Meter(service, stage, spec, provider, clock);
        this.clock = clock;
        this.sleeper = sleeper;
        this.events = events;
    }

    /** Runs the gate to its decision. */
    public GateResult run(Phase phase) {
        Instant started = clock.instant();
        Duration interval = spec.interval();
        int planned = (int) Math.max(1, (phase.soak().toMillis() + interval.toMillis() - 1) / interval.toMillis());
        int[] window = {0};
        List<Tracker> trackers = Trackers.of(spec, phase.judged(), phase.soak(), phase.deployedAt(), meter,
                probe -> probed(phase, window[0], planned, started.plus(interval.multipliedBy(window[0])), probe));
        Map<Side, Set<String>> needs = new EnumMap<>(Side.class);
        trackers.forEach(t -> t.needs(needs));
        if (meter.countsRequests()) {
            needs.values().forEach(metrics -> metrics.add("requests"));
        }
        events.accept(new Event.GateStarted(events.run(), events.now(), Optional.of(stage), Optional.empty(), phase.name(),
                phase.judged(), phase.soak(), interval, planned, trackers.stream().map(Tracker::name).toList()));
        int windows = 0;
        int lostInARow = 0;
        Verdict stop = null;
        for (int k = 1; k <= planned && stop == null; k++) {
            Instant end = started.plus(interval.multipliedBy(k));
            if (!sleepUntil(end.plus(meter.delay()))) {
                stop = Verdict.error("gate", (abort.requested() ? "aborted (" + abort.reason().orElseThrow() + ")" : "interrupted")
                        + " after " + windows + " of " + planned + " windows");
                break;
            }
            windows = k;
            window[0] = k;
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
                measured(phase, k, planned, end, values, Optional.of(error), lostInARow);
                if (lostInARow > spec.errorLimit()) {
                    stop = Verdict.error("metrics", "the metrics could not be read for " + lostInARow + " windows in a row: " + error);
                }
            } else {
                lostInARow = 0;
                measured(phase, k, planned, end, values, Optional.empty(), 0);
            }
            for (Tracker tracker : trackers) {
                Optional<Verdict> failed = tracker.window(data);
                if (failed.isPresent() && (stop == null || stop.outcome() != Verdict.Outcome.FAIL)) {
                    stop = failed.get();
                }
            }
        }
        Duration took = Duration.between(started, clock.instant());
        List<GateResult.CheckResult> checks = new ArrayList<>();
        boolean stopped = stop != null;
        String stoppedAfter = windows + " of " + planned + " windows";
        for (Tracker tracker : trackers) {
            Tracker.Result result = tracker.finish(stopped ? Optional.of(stoppedAfter) : Optional.empty(), took);
            checks.add(new GateResult.CheckResult(result.name(), result.verdict(), result.samples()));
        }
        if (stop != null && stop.outcome() == Verdict.Outcome.ERROR) {
            checks.add(new GateResult.CheckResult(stop.check(), stop, Map.of()));
        }
        return decide(phase, checks, windows, planned, started, took);
    }

    private GateResult decide(Phase phase, List<GateResult.CheckResult> checks, int windows, int planned, Instant started, Duration took) {
        List<Verdict> verdicts = checks.stream().map(GateResult.CheckResult::verdict).toList();
        Verdict.Outcome outcome = Verdict.combine(verdicts);
        String details = checks.stream().filter(c -> c.verdict().outcome() == outcome)
                .map(c -> c.name() + ": " + c.verdict().reason()).collect(Collectors.joining("; "));
        GateResult.Decision decision;
        String reason;
        switch (outcome) {
            case PASS -> {
                decision = GateResult.Decision.PASS;
                reason = "all " + checks.size() + " checks passed over " + Durations.format(roundToSeconds(took)) + " (" + windows + " windows)";
            }
            case FAIL -> {
                decision = GateResult.Decision.FAIL;
                reason = details;
            }
            case INCONCLUSIVE -> {
                boolean pass = spec.onInconclusive() == GateSpec.OnInconclusive.PASS;
                decision = pass ? GateResult.Decision.PASS : GateResult.Decision.FAIL;
                reason = (pass ? "inconclusive, passed because on_inconclusive is pass: " : "inconclusive, which fails (on_inconclusive: fail): ")
                        + details;
            }
            default -> {
                boolean pause = spec.onError() == GateSpec.OnError.PAUSE;
                decision = pause ? GateResult.Decision.PAUSE : GateResult.Decision.FAIL;
                reason = details + (pause ? "; on_error is pause: the release stays in place for a person to decide"
                        : "; on_error is fail");
            }
        }
        for (GateResult.CheckResult check : checks) {
            events.accept(new Event.CheckVerdict(events.run(), events.now(), Optional.of(stage), Optional.empty(), phase.name(),
                    check.name(), check.verdict().check(), Event.VerdictOutcome.valueOf(check.verdict().outcome().name()),
                    check.verdict().reason(), List.copyOf(check.samples().keySet()), check.samples()));
        }
        events.accept(new Event.GateDecided(events.run(), events.now(), Optional.of(stage), Optional.empty(), phase.name(),
                phase.judged(), Event.VerdictOutcome.valueOf(outcome.name()), Event.Decision.valueOf(decision.name()), reason, windows,
                planned, started, took));
        return new GateResult(stage, phase.name(), phase.judged(), outcome, decision, reason, checks, windows, planned, started, took);
    }

    /** How the run is named in logs: {@code gate}, {@code gate canary}, {@code gate follow}. */
    static String title(Phase phase) {
        return phase.name().equals("gate") ? "gate" : "gate " + phase.name();
    }

    /**
     * Waits one soak, so that a before-deploy baseline taken afterwards (it reaches back one soak) holds only what runs
     * now: after sides were returned to the last good release, the traffic of the release they were returned from must
     * not be the baseline. False if the run was aborted or the thread interrupted.
     */
    public boolean awaitBaseline(Duration soak) {
        return sleepUntil(clock.instant().plus(soak));
    }

    /** Waits until {@code when}; false if the run was aborted (no new window starts) or the thread interrupted. */
    private boolean sleepUntil(Instant when) {
        while (!abort.requested()) {
            Duration left = Duration.between(clock.instant(), when);
            if (left.isNegative() || left.isZero()) {
                return true;
            }
            abort.sleep(sleeper, left);
            if (Thread.currentThread().isInterrupted()) {
                return false;
            }
        }
        return false;
    }

    private static Duration roundToSeconds(Duration duration) {
        return Duration.ofSeconds(Math.max(1, Math.round(duration.toMillis() / 1000.0)));
    }

    /**
     * Journals what one window measured, one event per side and metric; when the window is lost, why, with how many
     * were lost in a row. A window always says what was measured or why nothing was.
     */
    private void measured(Phase phase, int k, int planned, Instant end, Map<Side, Map<String, Measurement>> values,
                          Optional<String> lost, int inARow) {
        Optional<String> note = lost.map(e -> inARow + " in a row; error_limit " + spec.errorLimit());
        if (values.isEmpty() && lost.isPresent()) {
            window(phase, k, planned, end, Optional.empty(), "metrics", Side.labels(phase.judged()), Optional.empty(), lost, note);
            return;
        }
        values.forEach((side, metrics) -> metrics.forEach((metric, m) -> window(phase, k, planned, end, Optional.of(side), metric,
                side.label(), m.value().isPresent() ? Optional.of(m.value().getAsDouble()) : Optional.empty(), m.error(),
                m.error().isPresent() ? note : Optional.empty())));
    }

    /** Journals one probe's answer in its window: the metric {@code http}, the URL its series, the status code its value. */
    private void probed(Phase phase, int k, int planned, Instant end, Probe probe) {
        Optional<String> note = probe.expectedAnswer() ? Optional.empty()
                : Optional.of(probe.answer() + ", expected " + probe.expected() + ", " + probe.inARow() + " in a row");
        window(phase, k, planned, end, probe.side(), "http", probe.url(), Optional.of((double) probe.code()), Optional.empty(), note);
    }

    private void window(Phase phase, int k, int planned, Instant end, Optional<Side> side, String metric, String series,
                        Optional<Double> value, Optional<String> error, Optional<String> note) {
        events.accept(new Event.GateWindowMeasured(events.run(), events.now(), Optional.of(stage), side, phase.name(), k, planned, end,
                spec.interval(), metric, series, value, error, note));
    }
}
