package dev.dualdeploy.config;

import java.util.function.Function;

/**
 * The legacy side of a stage: a closed choice of orchestrator. Today that is ECS; VM targets are recognised by the
 * validator and refused with a clear error until they are implemented, and then join this list as {@code VmSpec}.
 */
public sealed interface LegacySpec permits EcsSpec {

    /**
     * Picks by orchestrator. Java 17 has no exhaustive switch over types, so each orchestrator is a parameter here:
     * adding VM adds one, and every place that chooses (the target factory, the endpoint it names) stops compiling
     * until it handles VM, instead of falling through to ECS at run time.
     */
    <T> T match(Function<EcsSpec, T> ecs);
}
