package dev.dualdeploy.config;

/**
 * The per-stage toggle: which sides a release goes to. A side defaults to on when it is configured.
 *
 * @param legacy whether the legacy side gets the release
 * @param kubernetes whether the Kubernetes side gets the release
 */
public record ToggleSpec(boolean legacy, boolean kubernetes) {

    /** Whether the given side is on. */
    public boolean on(Side side) {
        return side == Side.LEGACY ? legacy : kubernetes;
    }

    /** A copy with one side turned on or off. */
    public ToggleSpec with(Side side, boolean on) {
        return side == Side.LEGACY ? new ToggleSpec(on, kubernetes) : new ToggleSpec(legacy, on);
    }
}
