package dev.dualdeploy.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.dualdeploy.config.Side;
import dev.dualdeploy.config.ToggleSpec;
import dev.dualdeploy.pipeline.StageOutcome;
import dev.dualdeploy.pipeline.StageResult;
import dev.dualdeploy.testing.Cli;
import dev.dualdeploy.testing.Cli.Run;
import dev.dualdeploy.testing.LocalStageTest;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 8 item 1, second hostile review, end to end through the CLI: what a tired operator types, the exit code, and
 * whether what they are pointed to shows what they need.
 */
class RollbackCliReviewTest extends LocalStageTest {

    /**
     * The migration is done: prod deploys to kubernetes only ({@code deploy: {legacy: false}}), and the legacy ECS
     * service is being decommissioned (its endpoint no longer answers). 1.2.0 went to kubernetes and is bad; the
     * operator types {@code dualdeploy rollback --stage prod}, as the runbook says. The default is "every configured
     * side", so the rollback insists on reading legacy, which the stage no longer deploys to, and refuses with exit 4;
     * the reason does not even say that {@code --side kubernetes} would do. A rollback's default sides are the ones a
     * deploy of the stage changes (the enabled sides), as for deploy and recovery.
     */
    @Test
    void aDefaultRollbackOfAStageWhoseLegacySideIsToggledOffDoesNotNeedLegacy(@TempDir Path dir) throws Exception {
        StageResult kubernetesOnly = deploy(NEXT, new ToggleSpec(false, true));
        assertThat(kubernetesOnly.outcome()).as(kubernetesOnly.reason()).isEqualTo(StageOutcome.SUCCEEDED);
        String yaml = Files.readString(env.config())
                .replace("deploy: { legacy: true, kubernetes: true }", "deploy: { legacy: false, kubernetes: true }")
                .replaceAll("endpoint: 'http://[^']*'", "endpoint: 'http://127.0.0.1:1'");
        Path file = dir.resolve("dualdeploy.yaml");
        Files.writeString(file, yaml);

        Run rollback = Cli.run("rollback", "-f", file.toString(), "--stage", "prod", "--output", "json");

        assertThat(rollback.code()).as(rollback.out() + rollback.err()).isEqualTo(ExitCodes.OK);
        assertThat(runs(Side.KUBERNETES)).contains(GOOD.digest());
    }

    /**
     * The refusals and the recovery summary send the person to "`dualdeploy status --output json`, which shows each
     * side's records", and the README says the same. Which sides a record says its release passed on
     * (last-good-sides) is what decides whether a record is completed or a recovery is called contradictory, yet the
     * JSON does not show it (nor the raw previous-good record: "previousImage" is where a rollback would go).
     */
    @Test
    void statusJsonShowsTheSidesEachLastGoodRecordSaysItPassedOn() {
        StageResult kubernetesOnly = deploy(NEXT, new ToggleSpec(false, true));
        assertThat(kubernetesOnly.outcome()).as(kubernetesOnly.reason()).isEqualTo(StageOutcome.SUCCEEDED);

        Run status = Cli.run("status", "-f", env.config().toString(), "--output", "json");

        assertThat(status.code()).as(status.err()).isEqualTo(ExitCodes.OK);
        JsonNode prod = status.json().get("stages").findParents("stage").stream()
                .filter(s -> s.get("stage").asText().equals("prod")).findFirst().orElseThrow();
        JsonNode legacy = prod.get("sides").get(0);
        JsonNode kubernetes = prod.get("sides").get(1);
        assertThat(legacy.get("side").asText()).isEqualTo("legacy");
        assertThat(legacy.has("lastGoodSides")).as("legacy: " + legacy).isTrue();
        assertThat(legacy.get("lastGoodSides").toString()).contains("legacy").contains("kubernetes");
        assertThat(kubernetes.get("lastGoodSides").toString()).as("kubernetes: " + kubernetes).contains("kubernetes")
                .doesNotContain("legacy");
    }
}
