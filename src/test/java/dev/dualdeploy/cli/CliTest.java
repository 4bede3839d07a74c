package dev.dualdeploy.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.dualdeploy.local.KubernetesSimulator;
import dev.dualdeploy.local.LocalEnvironment;
import dev.dualdeploy.release.Release;
import dev.dualdeploy.testing.Cli;
import dev.dualdeploy.testing.Cli.Run;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The CLI as a user runs it: arguments in, exit code, stdout and stderr out, against the local environment. */
class CliTest {

    private static LocalEnvironment env;
    private static String config;

    @TempDir
    Path tmp;

    @BeforeAll
    static void start(@TempDir Path dir) {
        env = LocalEnvironment.start(dir, LocalEnvironment.sampleRelease("0.9.0"), 2);
        config = env.config().toString();
    }

    @AfterAll
    static void stop() {
        env.close();
    }

    @Test
    void versionAndHelpNameTheExitCodes() {
        assertThat(Cli.run("--version").out()).startsWith("dualdeploy ");
        Run help = Cli.run("deploy", "--help");
        assertThat(help.code()).isZero();
        assertThat(help.out()).contains("--stage=NAME", "--image=REF", "--legacy", "--kubernetes", "--no-rollback",
                "1   the release failed, rolled back to the last good release (gate: FAIL)");
        // Issue 8 item 1: a failure returns to the last good release, not to whatever ran before (help text wraps).
        assertThat(help.out().replaceAll("\\s+", " ")).contains(
                "otherwise every enabled side not on the stage's last good release is rolled back to it.",
                "a canary that fails is rolled back to the last good release alone");
    }

    @Test
    void validateAcceptsTheLocalConfigAndRejectsABadOneWithExitCode2() throws IOException {
        Run ok = Cli.run("validate", "-f", config);
        assertThat(ok.code()).isZero();
        assertThat(ok.out()).contains("is valid: loan-api, 4 stages").contains("sandbox: legacy + kubernetes");

        Path bad = tmp.resolve("bad.yaml");
        Files.writeString(bad, Files.readString(env.config()).replace("timeout: 2m", "timeout: soon"));
        Run rejected = Cli.run("validate", "-f", bad.toString());
        assertThat(rejected.code()).isEqualTo(2);
        assertThat(rejected.err()).contains("error: " + bad + ": stages[0].timeout: 'soon' is not a duration");
        assertThat(rejected.err().lines().filter(l -> l.startsWith("error: "))).hasSize(4);

        JsonNode json = Cli.run("validate", "-f", bad.toString(), "--output", "json").json();
        assertThat(json.get("exitCode").asInt()).isEqualTo(2);
        assertThat(json.get("valid").asBoolean()).isFalse();
        assertThat(json.get("problems").get(3).get("path").asText()).isEqualTo("stages[3].timeout");
    }

    @Test
    void badFlagsAreExitCode2BeforeAnythingChanges() {
        Run unknownStage = Cli.run("deploy", "-f", config, "--stage", "qa", "--image", LocalEnvironment.sampleRelease("1.0.0").image());
        assertThat(unknownStage.code()).isEqualTo(2);
        assertThat(unknownStage.err()).contains("no stage 'qa' in " + config + "; stages are [sandbox, preprod, beta, prod]");

        Run tagOnly = Cli.run("deploy", "-f", config, "--stage", "sandbox", "--image", "registry.example.com/loan-api:1.0.0");
        assertThat(tagOnly.code()).isEqualTo(2);
        assertThat(tagOnly.err()).contains("is not pinned to a digest");

        Run invalid = Cli.run("plan", "-f", config, "--stage", "sandbox", "--image", "Registry/Loan@sha256:1");
        assertThat(invalid.code()).isEqualTo(2);
        assertThat(invalid.err()).contains("is not a valid OCI image reference");

        Run unknownOption = Cli.run("deploy", "-f", config, "--stage", "sandbox", "--colour");
        assertThat(unknownOption.code()).isEqualTo(2);
        assertThat(unknownOption.err()).contains("Unknown option: '--colour'");

        Run missingFile = Cli.run("status", "-f", tmp.resolve("none.yaml").toString());
        assertThat(missingFile.code()).isEqualTo(2);
        assertThat(missingFile.err()).contains("none.yaml: file not found");
    }

    @Test
    void aToggleFlagCannotTurnOnASideTheStageDoesNotHave() throws IOException {
        Path kubernetesOnly = tmp.resolve("k8s-only.yaml");
        String text = Files.readString(env.config());
        // Without legacy, and without the cutover, which needs both sides.
        Files.writeString(kubernetesOnly, text.replaceAll("(?s)    deploy: \\{ legacy: true, kubernetes: true \\}\n    legacy:\n      ecs: [^\n]*\n", "")
                .replaceAll("(?m)^    cutover:\n(^      .*\n)*", ""));
        Run run = Cli.run("deploy", "-f", kubernetesOnly.toString(), "--stage", "sandbox", "--legacy",
                "--image", LocalEnvironment.sampleRelease("1.0.0").image());
        assertThat(run.code()).isEqualTo(2);
        assertThat(run.err()).contains("--legacy=true, but stage sandbox has no legacy side in the config");
    }

    @Test
    void deployPrintsAStableJsonResultAndStatusShowsParity() {
        Release release = LocalEnvironment.sampleRelease("1.0.0");

        Run deploy = Cli.run("deploy", "-f", config, "--stage", "beta", "--image", release.image(), "--release-version", "1.0.0",
                "--output", "json");

        assertThat(deploy.code()).as(deploy.err()).isZero();
        JsonNode json = deploy.json();
        assertThat(json.get("command").asText()).isEqualTo("deploy");
        assertThat(json.get("exitCode").asInt()).isZero();
        assertThat(json.get("stage").asText()).isEqualTo("beta");
        assertThat(json.get("outcome").asText()).isEqualTo("SUCCEEDED");
        assertThat(json.get("release").get("digest").asText()).isEqualTo(release.digest());
        assertThat(json.get("release").get("version").asText()).isEqualTo("1.0.0");
        assertThat(json.get("parity").get("status").asText()).isEqualTo("PARITY");
        assertThat(json.get("sides")).hasSize(2);
        for (JsonNode side : json.get("sides")) {
            assertThat(side.get("rollout").get("status").asText()).isEqualTo("SUCCEEDED");
            assertThat(side.get("rollback").isNull()).isTrue();
            assertThat(side.get("running").get("digest").asText()).isEqualTo(release.digest());
            assertThat(side.get("running").get("version").asText()).isEqualTo("1.0.0");
            assertThat(side.get("running").get("health").asText()).isEqualTo("HEALTHY");
        }
        assertThat(deploy.err()).contains("[beta/kubernetes] ").contains("[beta/legacy] ").contains("[beta] SUCCEEDED");

        // Without --check: beta's router is Cloudflare, whose token variable this test's process cannot set.
        Run status = Cli.run("status", "-f", config, "--stage", "beta");
        assertThat(status.code()).isZero();
        assertThat(status.out()).contains("  traffic    cannot be read: cloudflare load balancer ").contains("LOCAL_CF_API_TOKEN");
        assertThat(status.out()).startsWith("beta: PARITY (all sides run " + Release.shortDigest(release.digest()) + ")");
    }

    @Test
    void aBrokenReleaseExitsWith1AndIsRolledBack() {
        Release good = LocalEnvironment.sampleRelease("1.5.0");
        Release bad = LocalEnvironment.sampleRelease("1.6.0");
        assertThat(Cli.run("deploy", "-f", config, "--stage", "preprod", "--image", good.image()).code()).isZero();
        env.kubernetes().breakImage(bad.digest(), KubernetesSimulator.Breakage.PULL);

        Run run = Cli.run("deploy", "-f", config, "--stage", "preprod", "--image", bad.image(), "--output", "json");

        assertThat(run.code()).isEqualTo(1);
        JsonNode json = run.json();
        assertThat(json.get("outcome").asText()).isEqualTo("ROLLED_BACK");
        assertThat(json.get("reason").asText()).containsPattern("kubernetes FAILED: pod \\S+ container app: (ErrImagePull|ImagePullBackOff)");
        assertThat(json.get("sides").findValues("digest")).allSatisfy(d -> assertThat(d.asText()).isEqualTo(good.digest()));
    }

    @Test
    void statusCheckExits3OnDriftAndRollbackCommandReturnsASide() {
        Release both = LocalEnvironment.sampleRelease("1.7.0");
        Release kubernetesOnly = LocalEnvironment.sampleRelease("1.8.0");
        assertThat(Cli.run("deploy", "-f", config, "--stage", "prod", "--image", both.image()).code()).isZero();
        assertThat(Cli.run("deploy", "-f", config, "--stage", "prod", "--image", kubernetesOnly.image(), "--legacy=false").code()).isZero();

        Run drift = Cli.run("status", "-f", config, "--stage", "prod", "--check", "--output", "json");
        assertThat(drift.code()).isEqualTo(3);
        assertThat(drift.json().get("stages").get(0).get("parity").get("status").asText()).isEqualTo("DRIFT");
        assertThat(Cli.run("status", "-f", config, "--stage", "prod").code()).as("without --check drift is reported, not an error").isZero();
        // Each side's records, for the person deciding: both on their last good release, which passed on both sides
        // for legacy and on kubernetes alone (deployed with --legacy=false) for kubernetes.
        assertThat(Cli.run("status", "-f", config, "--stage", "prod").out().lines().filter(l -> l.startsWith("  ") && !l.startsWith("  traffic")))
                .hasSize(2).allSatisfy(line -> assertThat(line).endsWith(", on its last good release"));
        for (JsonNode side : drift.json().get("stages").get(0).get("sides")) {
            assertThat(side.get("lastGoodSides").toString()).isEqualTo(side.get("side").asText().equals("legacy")
                    ? "[\"legacy\",\"kubernetes\"]" : "[\"kubernetes\"]");
            assertThat(side.get("previousGoodImage").isTextual()).as(side.toString()).isTrue();
        }

        Run rollback = Cli.run("rollback", "-f", config, "--stage", "prod", "--side", "kubernetes");
        assertThat(rollback.code()).as(rollback.err()).isZero();
        assertThat(rollback.out()).contains("rollback prod: SUCCEEDED");
        Run parity = Cli.run("status", "-f", config, "--stage", "prod", "--check");
        assertThat(parity.code()).isZero();
        assertThat(parity.out()).contains("prod: PARITY (all sides run " + Release.shortDigest(both.digest()) + ")");
    }

    @Test
    void planReadsAndChangesNothing() {
        Release release = LocalEnvironment.sampleRelease("9.9.9");
        Run before = Cli.run("status", "-f", config, "--stage", "sandbox", "--output", "json");

        Run plan = Cli.run("plan", "-f", config, "--stage", "sandbox", "--image", release.image(), "--kubernetes=false", "--output", "json");

        assertThat(plan.code()).isZero();
        assertThat(plan.json().get("sides").findValuesAsText("action")).containsExactly("DEPLOY", "SKIP");
        assertThat(Cli.run("status", "-f", config, "--stage", "sandbox", "--output", "json").json().get("stages"))
                .isEqualTo(before.json().get("stages"));
    }

    @Test
    void anUnreachablePlatformExits4() throws IOException {
        Path unreachable = tmp.resolve("unreachable.yaml");
        Files.writeString(unreachable, Files.readString(env.config()).replace(env.ecs().endpoint().toString(), "http://127.0.0.1:9"));

        Run status = Cli.run("status", "-f", unreachable.toString(), "--stage", "sandbox", "--check");
        assertThat(status.code()).isEqualTo(4);
        assertThat(status.out()).contains("cannot describe service");

        Run deploy = Cli.run("deploy", "-f", unreachable.toString(), "--stage", "sandbox", "--image", LocalEnvironment.sampleRelease("1.0.0").image());
        assertThat(deploy.code()).isEqualTo(4);
        assertThat(deploy.err()).contains("error: ecs sandbox/loan-api: cannot describe service");
    }

    @Test
    void demoExitsZero(@TempDir Path dir) {
        Run demo = Cli.run("demo", "--quiet", "--dir", dir.toString());
        assertThat(demo.code()).as(demo.out()).isZero();
        assertThat(demo.out()).contains("demo passed: 20 checks held").doesNotContain("FAIL")
                .containsPattern("ok    127\\.0\\.0\\.1:\\d+/loan-api:1\\.0\\.0 resolves through the local registry");
    }
}
