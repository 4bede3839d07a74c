package dev.dualdeploy.bench;

import dev.dualdeploy.analysis.MannWhitneyJudge;
import dev.dualdeploy.analysis.Verdict;
import dev.dualdeploy.config.CheckSpec;
import dev.dualdeploy.config.GateSpec;
import dev.dualdeploy.config.MetricsSpec;
import dev.dualdeploy.config.Side;
import dev.dualdeploy.journal.EventSink;
import dev.dualdeploy.local.Sampling;
import dev.dualdeploy.metrics.Measurement;
import dev.dualdeploy.metrics.MetricsProvider;
import dev.dualdeploy.pipeline.Gate;
import dev.dualdeploy.pipeline.GateResult;
import dev.dualdeploy.time.SteppedClock;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;

/**
 * A deterministic, seeded simulation of canary analysis: 25,000 req/s with 10% on the canary, 0.1% baseline errors
 * and log-normal latency (median 80 ms, σ 0.5: p95 182 ms, p99 256 ms), a 15-minute soak in 10-second steps. Every
 * policy judges the same traces:
 * <ol>
 *   <li>ours: the engine's own gate ({@link Gate}, stepped time) with the sequential error test (mSPRT, α 0.01,
 *       +20% tolerance, τ 0.001; valid however often it looks) and a Mann-Whitney comparison of per-window p95
 *       latency (+10% tolerance; early looks at confidence 0.999 from 6 windows on, a last look at 0.95 when the
 *       soak ends), every 10 s;</li>
 *   <li>Flagger's documented reference analysis: every 60 s, success rate ≥ 99% and p99 ≤ 500 ms over the last
 *       minute; rollback when 5 checks have failed;</li>
 *   <li>Kayenta-style: one Mann-Whitney judgement of per-minute error rates and p95 latencies at the end of the
 *       soak (confidence 0.95, +10% tolerance);</li>
 *   <li>the theoretical limit for errors: Wald's SPRT expected sample size for the same error rates (α = β = 0.01).</li>
 * </ol>
 * Latency percentiles per step come from 400 sampled requests per side, as a histogram-backed p95 would.
 * Not modelled: progressive traffic shifting (the canary share is fixed at 10% for every policy), metric scrape
 * delays, and correlated failures.
 */
public final class GateBench {

    static final double TOTAL_RPS = 25_000;
    static final double CANARY_SHARE = 0.10;
    static final double BASELINE_ERRORS = 0.001;
    static final int STEP_SECONDS = 10;
    static final int STEPS = 90;
    static final int STEPS_PER_MINUTE = 6;
    static final int LATENCY_SAMPLES = 400;

    /** A release profile: error multiplier and latency scale on the canary. */
    public record Profile(String name, double errorFactor, double latencyFactor) {
    }

    /** One policy's results on one profile. */
    public record Row(String profile, String policy, int releases, int caught, double medianSeconds, double medianFailed,
                      double medianServed) {
    }

    public static final List<Profile> PROFILES = List.of(new Profile("good", 1, 1), new Profile("5x errors", 5, 1),
            new Profile("20x errors", 20, 1), new Profile("+30% p95", 1, 1.3), new Profile("+100% p95", 1, 2.0));
    public static final List<String> POLICIES = List.of("ours (sequential + Mann-Whitney)", "Flagger default",
            "Kayenta-style fixed horizon", "Wald SPRT limit (errors)");

    private record Step(long canaryRequests, long canaryErrors, long baselineRequests, long baselineErrors,
                        double[] canaryLatencies, double[] baselineLatencies) {
    }

    /** Runs every profile through every policy; {@code releases} traces per profile. */
    public static List<Row> run(int releases, long seed) {
        List<Row> rows = new ArrayList<>();
        for (Profile profile : PROFILES) {
            Map<String, List<double[]>> outcomes = new LinkedHashMap<>();
            POLICIES.forEach(p -> outcomes.put(p, new ArrayList<>()));
            SplittableRandom random = new SplittableRandom(seed ^ profile.name().hashCode());
            for (int r = 0; r < releases; r++) {
                List<Step> trace = trace(random, profile);
                outcomes.get(POLICIES.get(0)).add(ours(trace));
                outcomes.get(POLICIES.get(1)).add(flagger(trace));
                outcomes.get(POLICIES.get(2)).add(kayenta(trace));
            }
            for (int p = 0; p < 3; p++) {
                rows.add(summarise(profile.name(), POLICIES.get(p), outcomes.get(POLICIES.get(p))));
            }
            if (profile.errorFactor() > 1) {
                rows.add(wald(profile));
            }
        }
        return rows;
    }

    private static List<Step> trace(SplittableRandom random, Profile profile) {
        List<Step> steps = new ArrayList<>();
        long canary = Math.round(TOTAL_RPS * CANARY_SHARE * STEP_SECONDS);
        long baseline = Math.round(TOTAL_RPS * (1 - CANARY_SHARE) * STEP_SECONDS);
        for (int s = 0; s < STEPS; s++) {
            steps.add(new Step(canary, Sampling.poisson(random, canary * BASELINE_ERRORS * profile.errorFactor()), baseline,
                    Sampling.poisson(random, baseline * BASELINE_ERRORS), latencies(random, profile.latencyFactor()), latencies(random, 1)));
        }
        return steps;
    }

    /** The gate "ours" runs: the engine's defaults for a canary judged against the other side, on 10-second windows. */
    static final GateSpec OURS = new GateSpec(Optional.of(Side.KUBERNETES), Duration.ofSeconds((long) STEPS * STEP_SECONDS),
            Duration.ofSeconds(STEP_SECONDS), Duration.ofSeconds(3L * STEP_SECONDS),
            List.of(new CheckSpec.Sequential(new CheckSpec.Baseline(Optional.of(Side.LEGACY)), 0.01, 0.2, 0.001, 20),
                    new CheckSpec.Compare("latency_p95_ms", new CheckSpec.Baseline(Optional.of(Side.LEGACY)), 0.95, 0.10, 6, 0.999)),
            Optional.of(new MetricsSpec(MetricsSpec.Provider.PROMETHEUS, Optional.of(URI.create("http://127.0.0.1:9")), Optional.empty(),
                    Optional.empty(), MetricsSpec.Auth.NONE, Duration.ofSeconds(1), Duration.ZERO,
                    Map.of("requests", "requests", "errors", "errors", "latency_p95_ms", "latency_p95_ms"))),
            10_000, 2, GateSpec.OnError.FAIL, GateSpec.OnInconclusive.FAIL);

    /**
     * Runs the engine's own gate ({@link Gate}) over the trace, with time stepped and a provider that answers each
     * window from the trace: the kubernetes side is the canary, legacy the baseline.
     *
     * @return {seconds to detect or -1, failed canary requests served, canary requests served}
     */
    private static double[] ours(List<Step> trace) {
        Instant start = Instant.parse("2026-01-01T00:00:00Z");
        SteppedClock clock = new SteppedClock(start);
        MetricsProvider provider = (query, window) -> {
            int index = (int) (Duration.between(start, window.end()).toSeconds() / STEP_SECONDS) - 1;
            Step step = trace.get(Math.max(0, Math.min(trace.size() - 1, index)));
            boolean canary = query.side().equals(Side.KUBERNETES.label());
            double value = switch (query.metric()) {
                case "requests" -> canary ? step.canaryRequests() : step.baselineRequests();
                case "errors" -> canary ? step.canaryErrors() : step.baselineErrors();
                default -> percentile(canary ? step.canaryLatencies() : step.baselineLatencies(), 0.95);
            };
            return Measurement.of(query, List.of(value));
        };
        GateResult report = new Gate("bench", "prod", OURS, provider, clock, clock, EventSink.discarding(clock))
                .run(new Gate.Phase("canary", List.of(Side.KUBERNETES), OURS.soak(), Map.of(Side.KUBERNETES, start)));
        long ce = 0;
        long cr = 0;
        for (int s = 0; s < report.windows(); s++) {
            ce += trace.get(s).canaryErrors();
            cr += trace.get(s).canaryRequests();
        }
        return report.decision() == GateResult.Decision.PASS ? new double[] {-1, ce, cr}
                : new double[] {report.windows() * (double) STEP_SECONDS, ce, cr};
    }

    private static double[] flagger(List<Step> trace) {
        int failedChecks = 0;
        long cr = 0;
        long ce = 0;
        for (int end = STEPS_PER_MINUTE; end <= trace.size(); end += STEPS_PER_MINUTE) {
            Step minute = merge(trace.subList(end - STEPS_PER_MINUTE, end));
            cr += minute.canaryRequests();
            ce += minute.canaryErrors();
            double successRate = 100.0 * (minute.canaryRequests() - minute.canaryErrors()) / minute.canaryRequests();
            if (successRate < 99 || percentile(minute.canaryLatencies(), 0.99) > 500) {
                failedChecks++;
            }
            if (failedChecks >= 5) {
                return new double[] {end * STEP_SECONDS, ce, cr};
            }
        }
        return new double[] {-1, ce, cr};
    }

    private static double[] kayenta(List<Step> trace) {
        List<Double> canaryRates = new ArrayList<>();
        List<Double> baselineRates = new ArrayList<>();
        List<Double> canaryP95 = new ArrayList<>();
        List<Double> baselineP95 = new ArrayList<>();
        long cr = 0;
        long ce = 0;
        for (int end = STEPS_PER_MINUTE; end <= trace.size(); end += STEPS_PER_MINUTE) {
            Step minute = merge(trace.subList(end - STEPS_PER_MINUTE, end));
            canaryRates.add((double) minute.canaryErrors() / minute.canaryRequests());
            baselineRates.add((double) minute.baselineErrors() / minute.baselineRequests());
            canaryP95.add(percentile(minute.canaryLatencies(), 0.95));
            baselineP95.add(percentile(minute.baselineLatencies(), 0.95));
            cr += minute.canaryRequests();
            ce += minute.canaryErrors();
        }
        MannWhitneyJudge judge = new MannWhitneyJudge(0.95, 0.10, 5);
        boolean failed = judge.judge("error_rate", "canary", array(canaryRates), "baseline", array(baselineRates)).outcome() == Verdict.Outcome.FAIL
                || judge.judge("latency_p95_ms", "canary", array(canaryP95), "baseline", array(baselineP95)).outcome() == Verdict.Outcome.FAIL;
        return new double[] {failed ? trace.size() * STEP_SECONDS : -1, ce, cr};
    }

    /** Wald's approximation of the SPRT's expected sample size under the alternative, in canary requests. */
    private static Row wald(Profile profile) {
        double alpha = 0.01;
        double beta = 0.01;
        double p0 = BASELINE_ERRORS;
        double p1 = BASELINE_ERRORS * profile.errorFactor();
        double kl = p1 * Math.log(p1 / p0) + (1 - p1) * Math.log((1 - p1) / (1 - p0));
        double n = ((1 - beta) * Math.log((1 - beta) / alpha) + beta * Math.log(beta / (1 - alpha))) / kl;
        double seconds = n / (TOTAL_RPS * CANARY_SHARE);
        return new Row(profile.name(), POLICIES.get(3), 1, 1, seconds, n * p1, n);
    }

    private static Row summarise(String profile, String policy, List<double[]> outcomes) {
        List<double[]> caught = outcomes.stream().filter(o -> o[0] >= 0).toList();
        return new Row(profile, policy, outcomes.size(), caught.size(), median(caught, 0), median(caught, 1), median(caught, 2));
    }

    private static double median(List<double[]> outcomes, int index) {
        if (outcomes.isEmpty()) {
            return Double.NaN;
        }
        double[] values = outcomes.stream().mapToDouble(o -> o[index]).sorted().toArray();
        return values[values.length / 2];
    }

    private static double[] latencies(SplittableRandom random, double factor) {
        double[] values = new double[LATENCY_SAMPLES];
        for (int i = 0; i < values.length; i++) {
            values[i] = 80 * factor * Math.exp(0.5 * Sampling.gaussian(random));
        }
        return values;
    }

    static double percentile(double[] values, double q) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        return sorted[Math.min(sorted.length - 1, (int) Math.ceil(q * sorted.length) - 1)];
    }

    /** Several steps as one: counts added, latency samples pooled. */
    private static Step merge(List<Step> steps) {
        long cr = 0;
        long ce = 0;
        long br = 0;
        long be = 0;
        double[] canary = new double[0];
        double[] baseline = new double[0];
        for (Step step : steps) {
            cr += step.canaryRequests();
            ce += step.canaryErrors();
            br += step.baselineRequests();
            be += step.baselineErrors();
            canary = concat(canary, step.canaryLatencies());
            baseline = concat(baseline, step.baselineLatencies());
        }
        return new Step(cr, ce, br, be, canary, baseline);
    }

    private static double[] concat(double[] a, double[] b) {
        double[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    private static double[] array(List<Double> values) {
        return values.stream().mapToDouble(Double::doubleValue).toArray();
    }

    /** The results as a Markdown table. */
    public static String table(List<Row> rows) {
        StringBuilder out = new StringBuilder("| release | policy | rolled back | median time to detect | median failed canary requests"
                + " before rollback | median canary requests before rollback |\n|---|---|---|---|---|---|\n");
        for (Row row : rows) {
            boolean limit = row.policy().startsWith("Wald");
            out.append("| ").append(row.profile()).append(" | ").append(row.policy()).append(" | ")
                    .append(limit ? "(expected)" : String.format(Locale.ROOT, "%d of %d (%.1f%%)", row.caught(), row.releases(),
                            100.0 * row.caught() / row.releases())).append(" | ")
                    .append(Double.isNaN(row.medianSeconds()) ? "-" : String.format(Locale.ROOT, "%.0f s", row.medianSeconds())).append(" | ")
                    .append(Double.isNaN(row.medianFailed()) ? "-" : String.format(Locale.ROOT, "%,.0f", row.medianFailed())).append(" | ")
                    .append(Double.isNaN(row.medianServed()) ? "-" : String.format(Locale.ROOT, "%,.0f", row.medianServed())).append(" |\n");
        }
        return out.toString();
    }
}
