package dev.dualdeploy.pipeline;

import dev.dualdeploy.analysis.MannWhitneyJudge;
import dev.dualdeploy.analysis.Numbers;
import dev.dualdeploy.analysis.SequentialErrorJudge;
import dev.dualdeploy.analysis.ThresholdJudge;
import dev.dualdeploy.analysis.Verdict;
import dev.dualdeploy.config.CheckSpec;
import dev.dualdeploy.config.Durations;
import dev.dualdeploy.config.GateSpec;
import dev.dualdeploy.config.Side;
import dev.dualdeploy.metrics.Measurement;
import dev.dualdeploy.metrics.MetricQuery;
import dev.dualdeploy.metrics.MetricsProvider;
import dev.dualdeploy.metrics.Window;
import dev.dualdeploy.target.Sleeper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
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

    private final String service;
    private final String stage;
    private final GateSpec spec;
    private final MetricsProvider provider;
    private final Clock clock;
    private final Sleeper sleeper;
    private final Reporter reporter;
    private HttpClient http;
    private final Duration delay;
    private final boolean countsRequests;

    /**
     * @param provider where the metrics come from; may be null when the gate has only http checks
     */
    public Gate(String service, String stage, GateSpec spec, MetricsProvider provider, Clock clock, Sleeper sleeper, Reporter reporter) {
        this.service = service;
        this.stage = stage;
        this.spec = spec;
        this.provider = provider;
        this.clock = clock;
        this.sleeper = sleeper;
        this.reporter = reporter;
        this.delay = spec.metrics().map(m -> m.delay()).orElse(Duration.ZERO);
        this.countsRequests = spec.metrics().map(m -> m.queries().containsKey("requests")).orElse(false);
    }

    /** Runs the gate to its decision. */
    public GateReport run(Phase phase) {
        Instant started = clock.instant();
        Duration interval = spec.interval();
        int planned = (int) Math.max(1, (phase.soak().toMillis() + interval.toMillis() - 1) / interval.toMillis());
        List<Tracker> trackers = trackers(phase);
        Map<Side, Set<String>> needs = new EnumMap<>(Side.class);
        trackers.forEach(t -> t.needs(needs));
        if (countsRequests) {
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
            if (!sleepUntil(end.plus(delay))) {
                stop = Verdict.error("gate", "interrupted after " + windows + " of " + planned + " windows");
                break;
            }
            windows = k;
            String error = null;
            for (Tracker tracker : trackers) {
                error = error == null ? tracker.prepare(phase) : error;
            }
            Map<Side, Map<String, Measurement>> values = error == null ? measure(needs, Window.ending(end, interval)) : Map.of();
            for (Map<String, Measurement> side : values.values()) {
                for (Measurement m : side.values()) {
                    error = error == null ? m.error().orElse(null) : error;
                }
            }
            WindowData data = new WindowData(k, error == null ? values : null);
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
            checks.add(tracker.finish(phase, stopped ? stoppedAfter : null, took));
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

    private Map<Side, Map<String, Measurement>> measure(Map<Side, Set<String>> needs, Window window) {
        Map<Side, Map<String, Measurement>> values = new EnumMap<>(Side.class);
        needs.forEach((side, metrics) -> {
            Map<String, Measurement> measured = new LinkedHashMap<>();
            for (String metric : metrics) {
                measured.put(metric, measure(metric, side, window));
            }
            values.put(side, measured);
        });
        return values;
    }

    private Measurement measure(String metric, Side side, Window window) {
        String expression = fill(spec.metrics().orElseThrow().queries().get(metric), Optional.of(side), window.step());
        return provider.measure(new MetricQuery(metric, side.label(), expression), window);
    }

    /** A query or URL with its placeholders filled in: the service, the stage, the side (or nothing) and the window. */
    private String fill(String template, Optional<Side> side, Duration window) {
        return template.replace("{{service}}", service).replace("{{stage}}", stage)
                .replace("{{side}}", side.map(Side::label).orElse("")).replace("{{window}}", promDuration(window));
    }

    /** How a comparison names its baseline: the other side, or {@code kubernetes before-deploy}. */
    private static String baseName(CheckSpec.Baseline baseline, Side side) {
        return baseline.side().map(Side::label).orElse(side.label() + " before-deploy");
    }

    /** A duration as PromQL writes it: {@code 30s}, or {@code 1500ms}. */
    static String promDuration(Duration duration) {
        return duration.toMillis() % 1000 == 0 ? duration.toSeconds() + "s" : duration.toMillis() + "ms";
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


    private List<Tracker> trackers(Phase phase) {
        List<Tracker> trackers = new ArrayList<>();
        for (CheckSpec check : spec.checks()) {
            if (check instanceof CheckSpec.Http h) {
                if (h.url().contains("{{side}}")) {
                    phase.judged().forEach(side -> trackers.add(new HttpTracker(h, Optional.of(side))));
                } else {
                    trackers.add(new HttpTracker(h, Optional.empty()));
                }
            } else if (check instanceof CheckSpec.Slo s) {
                phase.judged().forEach(side -> trackers.add(new SloTracker(s, side)));
            } else if (check instanceof CheckSpec.Compare c) {
                pairs(phase, c.baseline()).forEach(side -> trackers.add(side
                        .<Tracker>map(s -> new CompareTracker(c, s))
                        .orElseGet(() -> new Unjudgeable("compare " + c.metric(), c.baseline()))));
            } else if (check instanceof CheckSpec.Sequential q) {
                pairs(phase, q.baseline()).forEach(side -> trackers.add(side
                        .<Tracker>map(s -> new SequentialTracker(q, s))
                        .orElseGet(() -> new Unjudgeable("sequential error_rate", q.baseline()))));
            }
        }
        return trackers;
    }

    /** The judged sides a comparison applies to; one empty entry if none does (the baseline is the only judged side). */
    private static List<Optional<Side>> pairs(Phase phase, CheckSpec.Baseline baseline) {
        List<Optional<Side>> sides = phase.judged().stream().filter(s -> baseline.side().map(b -> b != s).orElse(true))
                .map(Optional::of).collect(Collectors.toCollection(ArrayList::new));
        if (sides.isEmpty()) {
            sides.add(Optional.empty());
        }
        return sides;
    }

    /** What one window measured; {@code values} is null when the window was lost to a provider error. */
    private final class WindowData {
        final int index;
        final Map<Side, Map<String, Measurement>> values;

        WindowData(int index, Map<Side, Map<String, Measurement>> values) {
            this.index = index;
            this.values = values;
        }

        boolean lost() {
            return values == null;
        }

        OptionalDouble value(Side side, String metric) {
            Map<String, Measurement> measured = values.get(side);
            return measured == null || !measured.containsKey(metric) ? OptionalDouble.empty() : measured.get(metric).value();
        }

        long count(Side side, String metric) {
            OptionalDouble v = value(side, metric);
            return v.isEmpty() ? 0 : Math.max(0, Math.round(v.getAsDouble()));
        }

        /** Whether the side served enough requests in this window to be judged (always, without a requests query). */
        boolean full(Side side) {
            return !countsRequests || count(side, "requests") >= spec.minRequests();
        }
    }

    /** The state of one check on one side over a gate run. */
    private abstract class Tracker {
        /** What is checked, such as {@code compare error_rate}: the verdict's check. */
        final String check;
        /** The check with its sides, such as {@code compare error_rate [kubernetes vs legacy]}: stable across runs. */
        final String name;
        Verdict failed;
        int thin;

        Tracker(String check, String name) {
            this.check = check;
            this.name = name;
        }

        /** Adds the metrics this check reads in each window, by side. */
        void needs(Map<Side, Set<String>> needs) {
        }

        /** Reads what the check needs once (a before-deploy baseline); returns an error, or null when ready. */
        String prepare(Phase phase) {
            return null;
        }

        /** Takes one window; a FAIL stops the gate. */
        abstract Optional<Verdict> window(WindowData data);

        /**
         * The check when the gate ends: its FAIL if it failed; not decided if the gate stopped early and the check
         * judges only at the end; else its own judgement.
         *
         * @param stoppedAfter how far the gate got if it stopped early, else null
         */
        final GateReport.Check finish(Phase phase, String stoppedAfter, Duration took) {
            Verdict verdict = failed != null ? failed
                    : stoppedAfter != null && !decidedEachWindow()
                    ? Verdict.inconclusive(check, "not decided: the gate stopped after " + stoppedAfter)
                    : judge(phase, took);
            return new GateReport.Check(name, verdict, samples());
        }

        /** Whether the verdict so far is whole after every window (a probe), so a gate stopped early keeps it. */
        boolean decidedEachWindow() {
            return false;
        }

        /** The verdict when the soak ended (or, if {@link #decidedEachWindow}, when the gate stopped). */
        abstract Verdict judge(Phase phase, Duration took);

        /** The per-window values judged, by series. */
        abstract Map<String, List<Double>> samples();

        void need(Map<Side, Set<String>> needs, Side side, String metric) {
            needs.computeIfAbsent(side, s -> new LinkedHashSet<>()).add(metric);
        }

        Optional<Verdict> fail(Verdict verdict) {
            failed = verdict;
            return Optional.of(verdict);
        }

        String thinNote(int windows) {
            return thin == 0 ? "" : "; " + thin + " of " + windows + " windows had fewer than " + Numbers.count(spec.minRequests())
                    + " requests and were not judged";
        }
    }

    private final class SloTracker extends Tracker {
        final CheckSpec.Slo slo;
        final Side side;
        final List<Double> samples = new ArrayList<>();
        int breaches;
        int windows;

        SloTracker(CheckSpec.Slo slo, Side side) {
            super("slo " + slo.metric(), "slo " + slo.metric() + " [" + side.label() + "]");
            this.slo = slo;
            this.side = side;
        }

        @Override
        void needs(Map<Side, Set<String>> needs) {
            need(needs, side, slo.metric());
        }

        @Override
        Optional<Verdict> window(WindowData data) {
            if (data.lost()) {
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
        Verdict judge(Phase phase, Duration took) {
            if (samples.isEmpty()) {
                return Verdict.inconclusive(check, side.label() + " " + slo.metric() + " had no window to judge"
                        + (thin > 0 ? ": too little traffic" : ": no data") + thinNote(windows));
            }
            Duration soak = Duration.ofSeconds(Math.max(1, took.toSeconds()));
            Measurement whole = measure(slo.metric(), side, Window.ending(clock.instant().minus(delay), soak));
            if (whole.error().isPresent()) {
                return Verdict.error(check, "the soak-long value could not be read: " + whole.error().get());
            }
            Verdict judged = new ThresholdJudge(slo.metric(), slo.max()).judge(side.label(), whole.value());
            return new Verdict(judged.check(), judged.outcome(), judged.reason() + " over the " + Durations.format(soak)
                    + " soak" + thinNote(windows));
        }

        @Override
        Map<String, List<Double>> samples() {
            return Map.of(side.label(), List.copyOf(samples));
        }
    }

    private final class CompareTracker extends Tracker {
        final CheckSpec.Compare compare;
        final Side side;
        final List<Double> canary = new ArrayList<>();
        List<Double> baseline = new ArrayList<>();
        boolean prepared;
        int windows;

        CompareTracker(CheckSpec.Compare compare, Side side) {
            super("compare " + compare.metric(), "compare " + compare.metric() + " [" + side.label() + " vs " + compare.baseline().label() + "]");
            this.compare = compare;
            this.side = side;
            this.prepared = compare.baseline().side().isPresent();
        }

        @Override
        void needs(Map<Side, Set<String>> needs) {
            need(needs, side, compare.metric());
            compare.baseline().side().ifPresent(b -> need(needs, b, compare.metric()));
        }

        @Override
        String prepare(Phase phase) {
            if (prepared) {
                return null;
            }
            Instant deployed = phase.deployedAt().get(side);
            Measurement before = measure(compare.metric(), side, new Window(deployed.minus(phase.soak()), deployed, spec.interval()));
            if (before.error().isPresent()) {
                return "the before-deploy baseline of " + side.label() + " " + compare.metric() + ": " + before.error().get();
            }
            baseline = new ArrayList<>(before.samples());
            prepared = true;
            return null;
        }

        @Override
        Optional<Verdict> window(WindowData data) {
            if (data.lost()) {
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
        Verdict judge(Phase phase, Duration took) {
            Verdict judged = new MannWhitneyJudge(compare.confidence(), compare.tolerance(), compare.minWindows())
                    .judge(compare.metric(), side.label(), array(canary), baseName(compare.baseline(), side), array(baseline));
            return new Verdict(judged.check(), judged.outcome(), judged.reason() + thinNote(windows));
        }

        @Override
        Map<String, List<Double>> samples() {
            Map<String, List<Double>> samples = new LinkedHashMap<>();
            samples.put(side.label(), List.copyOf(canary));
            samples.put(baseName(compare.baseline(), side), List.copyOf(baseline));
            return samples;
        }
    }

    private final class SequentialTracker extends Tracker {
        final CheckSpec.Sequential sequential;
        final Side side;
        final SequentialErrorJudge judge;
        final Map<String, List<Double>> samples = new LinkedHashMap<>();
        long requests;
        long errors;
        long baseRequests;
        long baseErrors;
        boolean prepared;

        SequentialTracker(CheckSpec.Sequential sequential, Side side) {
            super("sequential error_rate", "sequential error_rate [" + side.label() + " vs " + sequential.baseline().label() + "]");
            this.sequential = sequential;
            this.side = side;
            this.judge = new SequentialErrorJudge("error_rate", sequential.alpha(), sequential.tolerance(), sequential.tau(),
                    spec.minRequests(), sequential.minErrors());
            this.prepared = sequential.baseline().side().isPresent();
            samples.put(side.label(), new ArrayList<>());
            samples.put(baseName(), new ArrayList<>());
        }

        String baseName() {
            return Gate.baseName(sequential.baseline(), side);
        }

        @Override
        void needs(Map<Side, Set<String>> needs) {
            need(needs, side, "requests");
            need(needs, side, "errors");
            sequential.baseline().side().ifPresent(b -> {
                need(needs, b, "requests");
                need(needs, b, "errors");
            });
        }

        @Override
        String prepare(Phase phase) {
            if (prepared) {
                return null;
            }
            Instant deployed = phase.deployedAt().get(side);
            Window before = Window.ending(deployed, phase.soak());
            Measurement total = measure("requests", side, before);
            Measurement failedRequests = measure("errors", side, before);
            String error = total.error().or(failedRequests::error).orElse(null);
            if (error != null) {
                return "the before-deploy baseline of " + side.label() + " requests and errors: " + error;
            }
            baseRequests = Math.round(total.value().orElse(0));
            baseErrors = Math.round(failedRequests.value().orElse(0));
            samples.get(baseName()).add(baseRequests == 0 ? 0 : (double) baseErrors / baseRequests);
            prepared = true;
            return null;
        }

        @Override
        Optional<Verdict> window(WindowData data) {
            if (data.lost()) {
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
        Verdict judge(Phase phase, Duration took) {
            return judge.finish();
        }

        @Override
        Map<String, List<Double>> samples() {
            Map<String, List<Double>> copy = new LinkedHashMap<>();
            samples.forEach((k, v) -> copy.put(k, List.copyOf(v)));
            return copy;
        }
    }

    private final class HttpTracker extends Tracker {
        final CheckSpec.Http probe;
        final URI url;
        final String label;
        final List<Double> codes = new ArrayList<>();
        int inARow;
        int bad;

        HttpTracker(CheckSpec.Http check, Optional<Side> side) {
            super("http", "http " + check.url() + side.map(s -> " [" + s.label() + "]").orElse(""));
            this.probe = check;
            this.url = URI.create(fill(check.url(), side, spec.interval()));
            this.label = side.map(Side::label).orElse("probe");
        }

        @Override
        Optional<Verdict> window(WindowData data) {
            String answer;
            int code;
            try {
                if (http == null) {
                    http = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER).build();
                }
                HttpResponse<Void> response = http.send(HttpRequest.newBuilder(url).timeout(probe.timeout()).GET().build(),
                        HttpResponse.BodyHandlers.discarding());
                code = response.statusCode();
                answer = "answered " + code;
            } catch (IOException | IllegalArgumentException e) {
                code = 0;
                answer = "did not answer (" + e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage()) + ")";
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return Optional.empty();
            }
            codes.add((double) code);
            if (code == probe.expect()) {
                inARow = 0;
                return Optional.empty();
            }
            bad++;
            inARow++;
            reporter.event(stage, null, "http probe " + url + " " + answer + ", expected " + probe.expect() + " (" + inARow + " in a row)");
            if (inARow >= probe.failures()) {
                return fail(Verdict.fail(check, "GET " + url + " " + answer + ", expected " + probe.expect() + ", " + inARow
                        + " times in a row"));
            }
            return Optional.empty();
        }

        @Override
        boolean decidedEachWindow() {
            return true;
        }

        @Override
        Verdict judge(Phase phase, Duration took) {
            if (codes.isEmpty()) {
                return Verdict.inconclusive(check, "no probe was made");
            }
            return Verdict.pass(check, (codes.size() - bad) + " of " + codes.size() + " probes of " + url + " answered "
                    + probe.expect() + (bad == 0 ? "" : "; the " + bad + " others never " + probe.failures() + " in a row"));
        }

        @Override
        Map<String, List<Double>> samples() {
            return Map.of(label, List.copyOf(codes));
        }
    }

    /** A comparison with nothing to compare: its baseline side is the only side judged. */
    private final class Unjudgeable extends Tracker {
        final CheckSpec.Baseline baseline;

        Unjudgeable(String check, CheckSpec.Baseline baseline) {
            super(check, check + " [vs " + baseline.label() + "]");
            this.baseline = baseline;
        }

        @Override
        Optional<Verdict> window(WindowData data) {
            return Optional.empty();
        }

        @Override
        boolean decidedEachWindow() {
            return true;
        }

        @Override
        Verdict judge(Phase phase, Duration took) {
            return Verdict.inconclusive(check, "no side to compare with " + baseline.label() + ": it is the only side judged ("
                    + Side.labels(phase.judged()) + ")");
        }

        @Override
        Map<String, List<Double>> samples() {
            return Map.of();
        }
    }

    private static double[] array(List<Double> values) {
        return values.stream().mapToDouble(Double::doubleValue).toArray();
    }
}
