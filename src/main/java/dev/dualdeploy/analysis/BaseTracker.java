package dev.dualdeploy.analysis;

import dev.dualdeploy.config.CheckSpec;
import dev.dualdeploy.config.Side;
import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/** What every tracker shares: its names, its early FAIL, and the count of windows too thin to judge. */
abstract class BaseTracker implements Tracker {
    /** What is checked, such as {@code compare error_rate}: the verdict's check. */
    final String check;
    /** The check with its sides, such as {@code compare error_rate [kubernetes vs legacy]}: stable across runs. */
    final String name;
    Verdict failed;
    int thin;

    @Override
    public String name() {
        return name;
    }

    BaseTracker(String check, String name) {
        this.check = check;
        this.name = name;
    }

    @Override
    public void needs(Map<Side, Set<String>> needs) {
    }

    @Override
    public Optional<String> prepare() {
        return Optional.empty();
    }

    @Override
    public final Result finish(Optional<String> stoppedAfter, Duration took) {
        Verdict verdict = failed != null ? failed
                : stoppedAfter.isPresent() && !decidedEachWindow()
                ? Verdict.inconclusive(check, "not decided: the gate stopped after " + stoppedAfter.get())
                : judge(took);
        return new Result(name, verdict, samples());
    }

    /** Whether the verdict so far is whole after every window (a probe), so a gate stopped early keeps it. */
    boolean decidedEachWindow() {
        return false;
    }

    /** The verdict when the soak ended (or, if {@link #decidedEachWindow}, when the gate stopped). */
    abstract Verdict judge(Duration took);

    /** The per-window values judged, by series. */
    abstract Map<String, List<Double>> samples();

    static void need(Map<Side, Set<String>> needs, Side side, String metric) {
        needs.computeIfAbsent(side, s -> new LinkedHashSet<>()).add(metric);
    }

    Optional<Verdict> fail(Verdict verdict) {
        failed = verdict;
        return Optional.of(verdict);
    }

    String thinNote(int windows, long minRequests) {
        return thin == 0 ? "" : "; " + thin + " of " + windows + " windows had fewer than " + Numbers.count(minRequests)
                + " requests and were not judged";
    }

    /** How a comparison names its baseline: the other side, or {@code kubernetes before-deploy}. */
    static String baseName(CheckSpec.Baseline baseline, Side side) {
        return baseline.side().map(Side::label).orElse(side.label() + " before-deploy");
    }

    static double[] array(List<Double> values) {
        return values.stream().mapToDouble(Double::doubleValue).toArray();
    }
}
