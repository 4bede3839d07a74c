package dev.dualdeploy.pipeline;

import dev.dualdeploy.config.Side;
import dev.dualdeploy.config.StageSpec;
import dev.dualdeploy.target.DeployTarget;
import dev.dualdeploy.target.TargetException;
import dev.dualdeploy.target.TargetState;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Reads what runs on every configured side of the given stages, and whether the enabled sides are at parity. */
public final class Status {

    /**
     * One side of one stage.
     *
     * @param side the side
     * @param enabled whether the stage's toggle (with overrides) sends releases to this side
     * @param target the target's description
     * @param state what runs, as read back; ABSENT health with the error if it could not be read
     * @param error why the side could not be read, or empty
     */
    public record SideStatus(Side side, boolean enabled, String target, TargetState state, Optional<String> error) {
    }

    /**
     * One stage.
     *
     * @param stage the stage name
     * @param sides every configured side
     * @param parity parity over the enabled sides
     */
    public record StageStatus(String stage, List<SideStatus> sides, Parity parity) {
    }

    private final Targets targets;
    private final Reporter reporter;

    public Status(Targets targets, Reporter reporter) {
        this.targets = targets;
        this.reporter = reporter;
    }

    /** Reads the stages in order; never throws for a platform fault (it becomes the side's error). */
    public List<StageStatus> read(List<StageSpec> stages) {
        List<StageStatus> result = new ArrayList<>();
        for (StageSpec stage : stages) {
            List<SideStatus> sides = new ArrayList<>();
            Map<Side, TargetState> enabled = new EnumMap<>(Side.class);
            for (Side side : Side.values()) {
                if (!stage.configured(side)) {
                    continue;
                }
                SideStatus status = read(stage, side);
                sides.add(status);
                if (status.enabled()) {
                    enabled.put(side, status.state());
                }
            }
            result.add(new StageStatus(stage.name(), sides, Parity.of(enabled)));
        }
        return result;
    }

    private SideStatus read(StageSpec stage, Side side) {
        String description = side.label();
        try {
            DeployTarget target = targets.open(stage, side, reporter.side(stage.name(), side));
            description = target.describe();
            return new SideStatus(side, stage.enabled(side), description, target.current(), Optional.empty());
        } catch (TargetException e) {
            return new SideStatus(side, stage.enabled(side), description, TargetState.absent(e.getMessage()), Optional.of(e.getMessage()));
        }
    }
}
