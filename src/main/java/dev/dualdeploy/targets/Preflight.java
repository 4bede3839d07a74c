package dev.dualdeploy.targets;

/**
 * A target whose deploy reads inputs of its own (such as manifest files) that can be checked before any side of a
 * stage changes, so that bad input leaves both sides as they were instead of failing one side mid-deploy.
 */
public interface Preflight {

    /**
     * Checks the inputs a deploy will read; reads files only, no platform, and writes nothing (idempotent).
     *
     * @throws dev.dualdeploy.config.ConfigException naming the file if an input is malformed
     */
    void preflight();
}
