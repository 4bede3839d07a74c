package dev.dualdeploy.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.dualdeploy.config.Side;
import dev.dualdeploy.local.LocalEnvironment;
import dev.dualdeploy.release.Release;
import dev.dualdeploy.testing.Cli;
import dev.dualdeploy.testing.Cli.Run;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumSet;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 8 item 18, serving errors: a release marked as failing a share of its requests stays healthy on both
 * platforms, so only the gate catches it, through the local environment's CloudWatch; a real {@code deploy} rolls it
 * back. The soak is two windows of one second, so the gate's waiting stays short.
 */
class LocalGateTest {

    private static LocalEnvironment env;
    private static String config;

    @BeforeAll
    static void start(@TempDir Path dir) {
        env = LocalEnvironment.start(dir, "0.9.0", 2, 0,
                Optional.of(new LocalEnvironment.GateTiming(Duration.ofSeconds(2), Duration.ofSeconds(1))));
        config = env.config().toString();
    }

    @AfterAll
    static void stop() {
        env.close();
    }

    @Test
    void aReleaseServingErrorsOnKubernetesFailsTheSequentialCheckAndIsRolledBackWhileAHealthyOnePasses() throws Exception {
        assertThat(Files.readString(env.config())).contains("- sequential: { baseline: before-deploy")
                .contains("provider: cloudwatch").contains("endpoint: '" + env.cloudwatch().endpoint() + "'");
        Release good = env.release("1.0.0");
        Release bad = env.release("1.1.0");
        env.breakRelease("1.1.0", LocalEnvironment.Breakage.ERRORS, EnumSet.of(Side.KUBERNETES), 50);

        Run healthy = Cli.run("deploy", "-f", config, "--stage", "sandbox", "--image", good.image(), "--output", "json");

        assertThat(healthy.code()).as(healthy.err() + healthy.out()).isZero();
        JsonNode passed = healthy.json().get("gates").get(0);
        assertThat(passed.get("decision").asText()).isEqualTo("PASS");
        assertThat(passed.get("checks").findValuesAsText("name"))
                .contains("sequential error_rate [kubernetes vs before-deploy]", "sequential error_rate [legacy vs before-deploy]");

        Run run = Cli.run("deploy", "-f", config, "--stage", "sandbox", "--image", bad.image(), "--output", "json");

        assertThat(run.code()).as(run.err() + run.out()).isEqualTo(1);
        JsonNode json = run.json();
        assertThat(json.get("outcome").asText()).isEqualTo("ROLLED_BACK");
        JsonNode gate = json.get("gates").get(0);
        assertThat(gate.get("decision").asText()).isEqualTo("FAIL");
        assertThat(gate.get("reason").asText()).startsWith("sequential error_rate [kubernetes vs before-deploy]: kubernetes error_rate 50.");
        assertThat(json.get("reason").asText()).contains("sequential error_rate [kubernetes");
        // The pods and tasks were healthy: the rollout itself succeeded on both sides; the gate rolled them back.
        assertThat(json.get("sides").findValues("rollout")).allSatisfy(r -> assertThat(r.get("status").asText()).isEqualTo("SUCCEEDED"));
        assertThat(json.get("sides").findValues("running")).hasSize(2).allSatisfy(r ->
                assertThat(r.get("digest").asText()).isEqualTo(good.digest()));
        Run status = Cli.run("status", "-f", config, "--stage", "sandbox", "--output", "json");
        assertThat(status.json().get("stages").get(0).get("sides").findValuesAsText("digest")).containsOnly(good.digest());
    }

    @Test
    void localWritesTheGateUnlessToldNoGate(@TempDir Path tmp) throws Exception {
        Run gated = Cli.run("local", "--dir", tmp.resolve("gated").toString(), "--for", "1s");
        Run plain = Cli.run("local", "--dir", tmp.resolve("plain").toString(), "--no-gate", "--for", "1s");
        Run explicit = Cli.run("local", "--dir", tmp.resolve("explicit").toString(), "--gate", "--for", "1s");

        assertThat(gated.code()).as(gated.err()).isZero();
        assertThat(gated.out()).contains("which every stage's gate reads");
        assertThat(Files.readString(tmp.resolve("gated/dualdeploy.yaml"))).contains("    gate:\n      soak: 6s\n      interval: 2s\n");
        assertThat(plain.code()).as(plain.err()).isZero();
        assertThat(plain.out()).contains("--no-gate: the stages have no gate");
        // No stage gate; each stage's cutover keeps its own, since a cutover step is never unjudged.
        assertThat(Files.readString(tmp.resolve("plain/dualdeploy.yaml"))).doesNotContainPattern("(?m)^    gate:").contains("      gate:\n");
        assertThat(Files.readString(tmp.resolve("explicit/dualdeploy.yaml"))).contains("    gate:\n");
    }

    @Test
    void breakErrorsTakesAPercentAndASideInEitherPlace() {
        LocalCommand.Break fifty = LocalCommand.Break.parse("1.2.0=errors:50%:kubernetes");
        LocalCommand.Break plain = LocalCommand.Break.parse("1.2.0=errors");
        LocalCommand.Break legacy = LocalCommand.Break.parse("1.2.0=errors:legacy");

        assertThat(fifty).isEqualTo(new LocalCommand.Break("1.2.0", LocalEnvironment.Breakage.ERRORS, Set.of(Side.KUBERNETES), 50));
        assertThat(plain).isEqualTo(new LocalCommand.Break("1.2.0", LocalEnvironment.Breakage.ERRORS, EnumSet.allOf(Side.class),
                LocalEnvironment.DEFAULT_ERROR_PERCENT));
        assertThat(legacy.sides()).containsExactly(Side.LEGACY);
        Run zero = Cli.run("local", "--dir", env.config().getParent().resolve("zero").toString(), "--break", "1.2.0=errors:0%", "--for", "1s");
        assertThat(zero.code()).isEqualTo(2);
        assertThat(zero.err()).contains("--break: '0%' in '1.2.0=errors:0%' is not a share of requests above 0% and at most 100%");
        Run typo = Cli.run("local", "break", "--dir", env.config().getParent().toString(), "1.2.0=errors:sideways");
        assertThat(typo.code()).isEqualTo(2);
        assertThat(typo.err()).contains("'sideways' in '1.2.0=errors:sideways' is not a side or a share of requests such as 20%");
    }
}
