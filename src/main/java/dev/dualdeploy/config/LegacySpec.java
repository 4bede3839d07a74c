package dev.dualdeploy.config;

/**
 * The legacy side of a stage. Exactly one orchestrator is configured; today that is ECS (VM targets are recognised
 * by the validator and refused with a clear error until they are implemented).
 *
 * @param ecs the ECS service
 */
public record LegacySpec(EcsSpec ecs) {
}
