package dev.dualdeploy.targets;

/** Where a target reports progress: one event per call, one line for a person. */
@FunctionalInterface
public interface Progress {

    /** Reports one event, such as {@code updated 2/3, ready 1/3}. */
    void event(String message);

    /** Progress that goes nowhere. */
    Progress NONE = message -> { };
}
