package dev.dualdeploy.config;

import java.util.Collection;
import java.util.Locale;
import java.util.stream.Collectors;

/** The two sides of a migration: the legacy orchestrator and Kubernetes. */
public enum Side {
    LEGACY,
    KUBERNETES;

    /** The lower-case name used in config keys, flags, logs and JSON. */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** The sides as people read them in logs and reasons: {@code legacy + kubernetes}. */
    public static String labels(Collection<Side> sides) {
        return sides.stream().map(Side::label).collect(Collectors.joining(" + "));
    }

    /** Parses {@code legacy} or {@code kubernetes}; throws IllegalArgumentException otherwise. */
    public static Side fromLabel(String label) {
        for (Side side : values()) {
            if (side.label().equals(label)) {
                return side;
            }
        }
        throw new IllegalArgumentException("'" + label + "' is not a side; expected legacy or kubernetes");
    }
}
