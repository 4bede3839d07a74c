package dev.dualdeploy.config;

import java.util.Locale;

/** The two sides of a migration: the legacy orchestrator and Kubernetes. */
public enum Side {
    LEGACY,
    KUBERNETES;

    /** The lower-case name used in config keys, flags, logs and JSON. */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
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
