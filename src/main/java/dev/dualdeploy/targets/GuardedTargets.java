package dev.dualdeploy.targets;

import dev.dualdeploy.config.Side;
import dev.dualdeploy.config.StageSpec;
import dev.dualdeploy.release.Release;
import java.time.Clock;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;

/**
 * Targets that refuse to start a new write once the run may no longer change the stage (its lease was lost): a deploy,
 * a rollback or a last-good record then fails as the platform failing would, with the reason, and the pipeline's
 * ordinary failure path reports it. Reads are never refused, and a rollout already started is followed to its end:
 * tearing a rollout off half-way would leave a side neither on the old release nor on the new.
 */
public final class GuardedTargets implements Targets {

    private final Targets targets;
    private final Supplier<Optional<String>> stop;

    /**
     * @param targets the targets to guard; closed with these
     * @param stop why no new write may start, asked before each one; empty while writes may start
     */
    public GuardedTargets(Targets targets, Supplier<Optional<String>> stop) {
        this.targets = Objects.requireNonNull(targets, "targets");
        this.stop = Objects.requireNonNull(stop, "stop");
    }

    @Override
    public DeployTarget open(StageSpec stage, Side side, Progress progress) {
        return new Guarded(targets.open(stage, side, progress));
    }

    /** A target whose writes ask first; a Preflight of the target it guards stays one (the same inputs are checked). */
    private final class Guarded implements DeployTarget, Preflight {

        private final DeployTarget target;

        Guarded(DeployTarget target) {
            this.target = target;
        }

        @Override
        public void preflight() {
            if (target instanceof Preflight inputs) {
                inputs.preflight();
            }
        }

        @Override
        public TargetState current() {
            return target.current();
        }

        @Override
        public Rollout deploy(Release release) {
            check("deploy " + release.version());
            return target.deploy(release);
        }

        @Override
        public TargetState markGood(Release release, Set<Side> passedOn) {
            check("record " + release.version() + " as the last good release");
            return target.markGood(release, passedOn);
        }

        @Override
        public Rollout rollback() {
            check("roll back");
            return target.rollback();
        }

        @Override
        public boolean creates() {
            return target.creates();
        }

        @Override
        public String describe() {
            return target.describe();
        }

        private void check(String what) {
            Optional<String> why = stop.get();
            if (why.isPresent()) {
                throw new TargetException(target.describe() + ": did not " + what + ": " + why.get());
            }
        }
    }

    @Override
    public String endpoint(StageSpec stage, Side side) {
        return targets.endpoint(stage, side);
    }

    @Override
    public Clock clock() {
        return targets.clock();
    }

    @Override
    public void close() {
        targets.close();
    }
}
