package dev.dualdeploy.pipeline;

import dev.dualdeploy.config.Side;
import dev.dualdeploy.config.StageSpec;
import dev.dualdeploy.config.ToggleSpec;
import dev.dualdeploy.release.Release;
import dev.dualdeploy.targets.DeployTarget;
import dev.dualdeploy.targets.Progress;
import dev.dualdeploy.targets.TargetState;
import dev.dualdeploy.targets.Targets;
import java.util.ArrayList;
import java.util.List;

/** Says what a deploy of a release to a stage would change on each side, reading the platforms and writing nothing. */
public final class Plan {

    /** What would happen on a side. */
    public enum Action { DEPLOY, NO_CHANGE, SKIP }

    /**
     * The plan for one side.
     *
     * @param side the side
     * @param target the target's description, or the side's name if it is skipped
     * @param action what would happen
     * @param current what runs now (ABSENT if skipped or not found)
     * @param summary one line for people
     */
    public record Step(Side side, String target, Action action, TargetState current, String summary) {
    }

    private final Targets targets;

    /** Reads only: a target that is only read reports no progress, so none is taken. */
    public Plan(Targets targets) {
        this.targets = targets;
    }

    /** The steps for every configured side of the stage. */
    public List<Step> of(StageSpec stage, Release release, ToggleSpec toggle) {
        List<Step> steps = new ArrayList<>();
        for (Side side : Side.values()) {
            if (!stage.configured(side)) {
                continue;
            }
            if (!toggle.on(side)) {
                steps.add(new Step(side, side.label(), Action.SKIP, TargetState.absent("not read"), "skipped: the toggle is off"));
                continue;
            }
            DeployTarget target = targets.open(stage, side, Progress.NONE);
            TargetState current = target.current();
            boolean same = current.image().filter(release.image()::equals).isPresent();
            String from = current.image().map(i -> i + current.version().map(v -> " (" + v + ")").orElse(""))
                    .orElse("nothing (" + current.detail() + ")");
            steps.add(new Step(side, target.describe(), same ? Action.NO_CHANGE : Action.DEPLOY, current, same
                    ? "no change: already runs " + release.version()
                    : "deploy " + release.version() + " (" + release.image() + "), replacing " + from));
        }
        return steps;
    }
}
