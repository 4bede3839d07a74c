package dev.dualdeploy.cli;

import dev.dualdeploy.config.Side;
import dev.dualdeploy.config.StageSpec;
import dev.dualdeploy.config.ToggleSpec;
import picocli.CommandLine.Option;

/** {@code --legacy} and {@code --kubernetes}: override the stage's toggle for this run. */
final class ToggleOptions {

    @Option(names = "--legacy", arity = "0..1", paramLabel = "BOOL", fallbackValue = "true",
            description = "Deploy to the legacy side (true/false; overrides the config's toggle).")
    Boolean legacy;

    @Option(names = "--kubernetes", arity = "0..1", paramLabel = "BOOL", fallbackValue = "true",
            description = "Deploy to the Kubernetes side (true/false; overrides the config's toggle).")
    Boolean kubernetes;

    /** The stage's toggle with the flags applied; bad input if a flag turns on a side the stage does not have. */
    ToggleSpec apply(StageSpec stage) {
        return apply(stage, legacy, kubernetes);
    }

    /** The stage's toggle with the given values (null: as configured) applied; shared with {@code gate}'s own flags. */
    static ToggleSpec apply(StageSpec stage, Boolean legacy, Boolean kubernetes) {
        ToggleSpec toggle = stage.toggle();
        toggle = override(stage, toggle, Side.LEGACY, legacy);
        return override(stage, toggle, Side.KUBERNETES, kubernetes);
    }

    private static ToggleSpec override(StageSpec stage, ToggleSpec toggle, Side side, Boolean on) {
        if (on == null) {
            return toggle;
        }
        if (on && !stage.configured(side)) {
            throw new UsageException("--" + side.label() + "=true, but stage " + stage.name() + " has no " + side.label()
                    + " side in the config");
        }
        return toggle.with(side, on);
    }
}
