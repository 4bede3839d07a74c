package dev.dualdeploy.pipeline;

import dev.dualdeploy.config.Side;
import dev.dualdeploy.config.StageSpec;
import dev.dualdeploy.config.ToggleSpec;
import dev.dualdeploy.release.Release;
import dev.dualdeploy.target.DeployTarget;
import dev.dualdeploy.target.RolloutResult;
import dev.dualdeploy.target.TargetException;
import dev.dualdeploy.target.TargetState;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Deploys one release to the enabled sides of one stage, in parallel, and holds the stage to parity: it succeeds only
 * when every enabled side reads back the release digest. If any side fails (or reads back another digest), every side
 * that had changed is rolled back to its previous release, so the stage is left as it was.
 */
public final class Deploy {

    private final Targets targets;
    private final Reporter reporter;

    public Deploy(Targets targets, Reporter reporter) {
        this.targets = targets;
        this.reporter = reporter;
    }

    /**
     * Runs the deploy.
     *
     * @param toggle which sides get the release (the stage's toggle with any flag overrides applied)
     * @param rollbackOnFailure whether a failed release is rolled back automatically
     */
    public StageReport run(StageSpec stage, Release release, ToggleSpec toggle, boolean rollbackOnFailure) {
        List<Side> sides = List.of(Side.values()).stream().filter(toggle::on).toList();
        if (sides.isEmpty()) {
            reporter.event(stage.name(), null, "no side is enabled; nothing to deploy");
            return new StageReport(stage.name(), Optional.of(release), StageOutcome.SKIPPED, "no side is enabled", Parity.of(Map.of()), List.of());
        }
        reporter.event(stage.name(), null, "deploying " + release.version() + " (" + release.image() + ") to "
                + Side.labels(sides));
        Map<Side, DeployTarget> opened = new EnumMap<>(Side.class);
        Map<Side, TargetState> before = new EnumMap<>(Side.class);
        for (Side side : sides) {
            DeployTarget target = targets.open(stage, side, reporter.side(stage.name(), side));
            opened.put(side, target);
            before.put(side, target.current());
        }
        ExecutorService pool = Executors.newFixedThreadPool(sides.size(), r -> {
            Thread t = new Thread(r, "deploy-" + stage.name());
            t.setDaemon(true);
            return t;
        });
        try {
            Map<Side, RolloutResult> rollouts = parallel(pool, sides, side -> rollout(stage, side, opened.get(side), release));
            Map<Side, TargetState> after = readBack(opened);
            Optional<String> failure = failure(sides, rollouts, after, release);
            Map<Side, RolloutResult> rollbacks = new EnumMap<>(Side.class);
            Map<Side, String> rollbackErrors = new EnumMap<>(Side.class);
            if (failure.isPresent() && rollbackOnFailure) {
                List<Side> changed = sides.stream()
                        .filter(s -> !Objects.equals(after.get(s).image(), before.get(s).image())).toList();
                reporter.event(stage.name(), null, "release failed: " + failure.get() + "; rolling back "
                        + (changed.isEmpty() ? "nothing (no side changed)" : Side.labels(changed)));
                rollbacks.putAll(parallel(pool, changed, side -> rollback(stage, side, opened.get(side), rollbackErrors)));
                after.putAll(readBack(opened));
            }
            return report(stage, release, sides, opened, rollouts, rollbacks, rollbackErrors, after, before, failure, rollbackOnFailure);
        } finally {
            pool.shutdownNow();
        }
    }

    private RolloutResult rollout(StageSpec stage, Side side, DeployTarget target, Release release) {
        long started = System.nanoTime();
        try {
            RolloutResult result = target.deploy(release).await(stage.timeout());
            reporter.event(stage.name(), side, result.status() + ": " + result.reason() + " (" + seconds(result.took()) + ")");
            return result;
        } catch (TargetException e) {
            reporter.event(stage.name(), side, "FAILED: " + e.getMessage());
            return new RolloutResult(RolloutResult.Status.FAILED, e.getMessage(), Duration.ofNanos(System.nanoTime() - started));
        }
    }

    RolloutResult rollback(StageSpec stage, Side side, DeployTarget target, Map<Side, String> errors) {
        long started = System.nanoTime();
        try {
            RolloutResult result = target.rollback().await(stage.timeout());
            reporter.event(stage.name(), side, "rollback " + result.status() + ": " + result.reason() + " (" + seconds(result.took()) + ")");
            return result;
        } catch (TargetException e) {
            synchronized (errors) {
                errors.put(side, e.getMessage());
            }
            reporter.event(stage.name(), side, "rollback FAILED: " + e.getMessage());
            return new RolloutResult(RolloutResult.Status.FAILED, e.getMessage(), Duration.ofNanos(System.nanoTime() - started));
        }
    }

    private static Optional<String> failure(List<Side> sides, Map<Side, RolloutResult> rollouts, Map<Side, TargetState> after,
                                            Release release) {
        List<String> problems = new ArrayList<>();
        for (Side side : sides) {
            RolloutResult result = rollouts.get(side);
            if (!result.succeeded()) {
                problems.add(side.label() + " " + result.status() + ": " + result.reason());
            }
        }
        if (problems.isEmpty()) {
            // Parity: a rollout that "succeeded" but reads back another digest is a failure (a mutable tag, a
            // webhook rewriting images, a controller that reverted the change).
            Map<Side, TargetState> enabled = new EnumMap<>(Side.class);
            sides.forEach(s -> enabled.put(s, after.get(s)));
            Parity.mismatch(enabled, release).ifPresent(m -> problems.add("parity: " + m));
        }
        return problems.isEmpty() ? Optional.empty() : Optional.of(String.join("; ", problems));
    }

    private StageReport report(StageSpec stage, Release release, List<Side> sides, Map<Side, DeployTarget> opened,
                               Map<Side, RolloutResult> rollouts, Map<Side, RolloutResult> rollbacks,
                               Map<Side, String> rollbackErrors, Map<Side, TargetState> after, Map<Side, TargetState> before,
                               Optional<String> failure, boolean rollbackOnFailure) {
        List<SideReport> reports = new ArrayList<>();
        for (Side side : sides) {
            Duration took = rollouts.get(side).took().plus(Optional.ofNullable(rollbacks.get(side)).map(RolloutResult::took).orElse(Duration.ZERO));
            reports.add(new SideReport(side, opened.get(side).describe(), Optional.of(rollouts.get(side)),
                    Optional.ofNullable(rollbacks.get(side)), Optional.ofNullable(rollbackErrors.get(side)), after.get(side), took));
        }
        Map<Side, TargetState> enabled = new EnumMap<>(Side.class);
        sides.forEach(s -> enabled.put(s, after.get(s)));
        Parity parity = Parity.of(enabled);
        StageOutcome outcome;
        String reason;
        if (failure.isEmpty()) {
            outcome = StageOutcome.SUCCEEDED;
            reason = "every enabled side runs " + release.version() + " (" + Release.shortDigest(release.digest()) + ")";
        } else if (!rollbackOnFailure) {
            outcome = StageOutcome.FAILED;
            reason = failure.get() + "; automatic rollback is off, the failed release is still in place";
        } else {
            List<String> stuck = sides.stream().filter(s -> !Objects.equals(after.get(s).image(), before.get(s).image())
                    || rollbacks.containsKey(s) && !rollbacks.get(s).succeeded()).map(Side::label).toList();
            outcome = stuck.isEmpty() ? StageOutcome.ROLLED_BACK : StageOutcome.ROLLBACK_FAILED;
            reason = failure.get() + (stuck.isEmpty() ? "; rolled back to the previous release"
                    : "; could not return " + String.join(" + ", stuck) + " to the previous release: needs a person");
        }
        reporter.event(stage.name(), null, outcome + ": " + reason + " [" + parity.status() + "]");
        return new StageReport(stage.name(), Optional.of(release), outcome, reason, parity, reports);
    }

    static Map<Side, TargetState> readBack(Map<Side, DeployTarget> opened) {
        Map<Side, TargetState> states = new EnumMap<>(Side.class);
        opened.forEach((side, target) -> {
            try {
                states.put(side, target.current());
            } catch (TargetException e) {
                states.put(side, new TargetState(Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty(),
                        TargetState.Health.DEGRADED, "cannot read back: " + e.getMessage()));
            }
        });
        return states;
    }

    /** Runs one task per side at once and waits for all; a side's unexpected exception is rethrown after all end. */
    static <T> Map<Side, T> parallel(ExecutorService pool, List<Side> sides, SideTask<T> task) {
        Map<Side, Future<T>> futures = new EnumMap<>(Side.class);
        for (Side side : sides) {
            futures.put(side, pool.submit((Callable<T>) () -> task.run(side)));
        }
        Map<Side, T> results = new EnumMap<>(Side.class);
        RuntimeException first = null;
        for (Map.Entry<Side, Future<T>> entry : futures.entrySet()) {
            try {
                results.put(entry.getKey(), entry.getValue().get());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for " + entry.getKey().label(), e);
            } catch (ExecutionException e) {
                RuntimeException cause = e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e.getCause());
                first = first == null ? cause : first;
            }
        }
        if (first != null) {
            throw first;
        }
        return results;
    }

    /** Work for one side. */
    @FunctionalInterface
    interface SideTask<T> {
        T run(Side side);
    }

    /** A duration as people read it in logs: {@code 1.4s}. */
    public static String seconds(Duration duration) {
        return String.format(java.util.Locale.ROOT, "%.1fs", duration.toMillis() / 1000.0);
    }
}
