package dev.dualdeploy.config;

import java.util.Optional;

/**
 * What must hold before a stage counts as done and the next one may start. Today that is manual approval, asked
 * by the Jenkins step after the stage's deploy succeeded.
 *
 * @param approval who must approve, and how long they have; empty if the stage needs no approval
 */
public record GateSpec(Optional<ApprovalSpec> approval) {

    /** No gate: the stage is done when its deploy succeeds. */
    public static GateSpec none() {
        return new GateSpec(Optional.empty());
    }
}
