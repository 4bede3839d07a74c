package dev.dualdeploy.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.dualdeploy.config.ConfigLoader;
import dev.dualdeploy.config.DualDeploySpec;
import dev.dualdeploy.config.Side;
import dev.dualdeploy.config.StageSpec;
import dev.dualdeploy.config.ToggleSpec;
import dev.dualdeploy.local.LocalEnvironment;
import dev.dualdeploy.pipeline.Deploy;
import dev.dualdeploy.pipeline.PlatformTargets;
import dev.dualdeploy.pipeline.Reporter;
import dev.dualdeploy.pipeline.StageOutcome;
import dev.dualdeploy.pipeline.StageReport;
import dev.dualdeploy.release.Release;
import dev.dualdeploy.testing.Cli;
import dev.dualdeploy.testing.Cli.Run;
import dev.dualdeploy.time.Sleeper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 8 item 1, second hostile review, end to end through the CLI: what a tired operator types, the exit code, and
 * whether what they are pointed to shows what they need.
 */
class RollbackCliReviewTest {

    private static final Release OLDEST = LocalEnvironment.sampleRelease("0.9.0");
    private static final Release GOOD = LocalEnvironment.sampleRelease("1.0.0");
    private static final Release NEXT = LocalEnvironment.sampleRelease("1.2.0");

    private LocalEnvironment env;
    private DualDeploySpec config;
    private PlatformTargets targets;
    private final List<String> events = new CopyOnWriteArrayList<>();
    private final Reporter reporter = (stage, side, message) -> events.add(Reporter.line(stage, side, message));

    @BeforeEach
    void start(@TempDir Path dir) {
        env = LocalEnvironment.start(dir, OLDEST, 2);
        config = new ConfigLoader().load(env.config());
        targets = new PlatformTargets(Clock.systemUTC(), Sleeper.SYSTEM);
        StageReport good = deploy(GOOD, new ToggleSpec(true, true));
        assertThat(good.outcome()).as(good.reason()).isEqualTo(StageOutcome.SUCCEEDED);
    }

    @AfterEach
    void stop() {
        targets.close();
        env.close();
    }

    private StageSpec prod() {
        return config.stage("prod").orElseThrow();
    }

    private StageReport deploy(Release release, ToggleSpec toggle) {
        return new Deploy(targets, reporter).run(prod(), release, toggle, true);
    }

    private Optional<String> runs(Side side) {
        return targets.open(prod(), side, message -> { }).current().digest();
    }

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
        StageReport kubernetesOnly = deploy(NEXT, new ToggleSpec(false, true));
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
        StageReport kubernetesOnly = deploy(NEXT, new ToggleSpec(false, true));
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
