package dev.dualdeploy.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.dualdeploy.config.RouterSpec;
import dev.dualdeploy.config.Side;
import dev.dualdeploy.config.StageSpec;
import dev.dualdeploy.config.ConfigLoader;
import dev.dualdeploy.local.LocalEnvironment;
import dev.dualdeploy.pipeline.Status;
import dev.dualdeploy.targets.PlatformTargets;
import dev.dualdeploy.targets.TargetState;
import dev.dualdeploy.time.Sleeper;
import java.time.Clock;
import org.awaitility.Awaitility;
import dev.dualdeploy.testing.Cli;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@code cutover} command end to end in the local environment: its ALB in the ELBv2 simulator, driven by the real
 * SDK client, and its gate reading the local CloudWatch, whose counts follow the ALB's weights. What the ALB holds
 * afterwards is read from the simulator, never from the command's own account of it.
 */
class CutoverCliTest {

    private static final String STAGE = "prod";
    /** Short windows: each step soaks two windows of a second. */
    private static final LocalEnvironment.GateTiming FAST = new LocalEnvironment.GateTiming(Duration.ofSeconds(2), Duration.ofSeconds(1));

    @TempDir
    Path dir;

    private LocalEnvironment env;
    private String config;
    private String journal;
    private RouterSpec.Alb alb;

    @BeforeEach
    void start() {
        env = LocalEnvironment.start(dir.resolve("env"), "1.0.0", 1, 0, Optional.of(FAST), List.of(STAGE));
        config = env.config().toString();
        journal = dir.resolve("journal").toString();
        StageSpec stage = new ConfigLoader().load(env.config()).stage(STAGE).orElseThrow();
        alb = (RouterSpec.Alb) stage.cutover().orElseThrow().router();
        // A cutover refuses sides that are not healthy: the seeded pods become ready a moment after the start.
        try (PlatformTargets targets = new PlatformTargets(Clock.systemUTC(), Sleeper.SYSTEM)) {
            Status status = new Status(targets);
            Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> status.read(List.of(stage)).stream()
                    .flatMap(s -> s.sides().stream()).allMatch(s -> s.state().health() == TargetState.Health.HEALTHY));
        }
    }

    @AfterEach
    void stop() {
        env.close();
    }

    /** The weights the ALB holds now, legacy then kubernetes. */
    private List<Integer> weights() {
        Map<String, Integer> weights = env.elb().forwardWeights(alb.listenerArn());
        return List.of(weights.getOrDefault(alb.legacyTargetGroup(), 0), weights.getOrDefault(alb.kubernetesTargetGroup(), 0));
    }

    private Cli.Run cutover(String... more) {
        List<String> args = new ArrayList<>(List.of("cutover", "-f", config, "--stage", STAGE, "--journal", journal, "--output", "json"));
        args.addAll(List.of(more));
        return Cli.run(args.toArray(String[]::new));
    }

    private static List<Double> sets(JsonNode result) {
        return StreamSupport.stream(result.get("traffic").spliterator(), false).filter(t -> t.has("set"))
                .map(t -> t.get("set").asDouble()).toList();
    }

    @Test
    void everyStepUpToAHundredIsSetReadBackAndPasses() {
        Cli.Run run = cutover();

        assertThat(run.code()).as(run.err()).isZero();
        JsonNode result = run.json();
        assertThat(result.get("outcome").asText()).isEqualTo("SUCCEEDED");
        assertThat(sets(result)).containsExactly(10.0, 25.0, 50.0, 100.0);
        assertThat(result.get("before").asDouble()).isZero();
        assertThat(result.get("after").asDouble()).isEqualTo(100);
        assertThat(result.get("gates")).extracting(g -> g.get("phase").asText() + " " + g.get("decision").asText())
                .containsExactly("cutover 10% PASS", "cutover 25% PASS", "cutover 50% PASS", "cutover 100% PASS");
        assertThat(result.get("parity").get("status").asText()).isEqualTo("PARITY");
        assertThat(weights()).containsExactly(0, 100);
        // The gate judged numbers that followed the split: at 10% kubernetes served 200 + 200 a second, at 50% 200 + 1,000.
        assertThat(run.err()).contains("gate cutover 10% window 1/2: kubernetes requests 400", "gate cutover 50% window 1/2: kubernetes requests 1,200");
    }

    @Test
    void aReleaseThatFailsUnderLoadIsCaughtAtFiftyPercentAndTrafficIsReadBackOnLegacy() {
        env.overloadRelease("1.0.0", EnumSet.of(Side.KUBERNETES), LocalEnvironment.DEFAULT_CAPACITY, 20);

        Cli.Run run = cutover("--to", "100");

        assertThat(run.code()).as(run.err()).isEqualTo(1);
        JsonNode result = run.json();
        assertThat(result.get("outcome").asText()).isEqualTo("REVERTED");
        assertThat(sets(result)).containsExactly(10.0, 25.0, 50.0, 0.0);
        JsonNode last = result.get("traffic").get(result.get("traffic").size() - 1);
        assertThat(last.get("read").asDouble()).isZero();
        assertThat(last.get("expected").asDouble()).isZero();
        assertThat(result.get("reason").asText()).startsWith("the gate at 50% (step 3 of 4, 3 of 4 in this run) is FAIL: ")
                .contains("traffic is back on legacy (read back 0% on kubernetes, ");
        assertThat(weights()).containsExactly(100, 0);
    }

    @Test
    void sidesThatRunDifferentReleasesMoveNoTraffic() {
        Cli.Run deploy = Cli.run("deploy", "-f", config, "--stage", STAGE, "--image", env.release("1.2.0").image(), "--release-version",
                "1.2.0", "--legacy", "false", "--no-gate", "--journal", journal);
        assertThat(deploy.code()).as(deploy.err()).isZero();
        List<Integer> before = weights();

        Cli.Run run = cutover();

        assertThat(run.code()).as(run.err()).isEqualTo(ExitCodes.DRIFT);
        assertThat(run.json().get("reason").asText()).startsWith("traffic not moved: the sides do not run the same release");
        assertThat(sets(run.json())).isEmpty();
        assertThat(weights()).isEqualTo(before);
    }

    @Test
    void aToThatIsNoStepIsBadInputAndRevertPutsTrafficBack() {
        JsonNode stages = Cli.run("stages", "-f", config, "--output", "json").json();
        assertThat(stages.get("stages").get(0).get("cutover").get("router").asText()).isEqualTo("alb");
        assertThat(stages.get("stages").get(0).get("cutover").get("steps")).extracting(JsonNode::asInt).containsExactly(10, 25, 50, 100);

        Cli.Run bad = cutover("--to", "30");
        assertThat(bad.code()).isEqualTo(ExitCodes.BAD_INPUT);
        assertThat(bad.err()).contains("--to 30 is not a step of stage prod's cutover [10, 25, 50, 100]");

        assertThat(cutover("--to", "25").code()).isZero();
        assertThat(weights()).containsExactly(75, 25);
        // status reads the split from the router, as cutover does.
        Cli.Run status = Cli.run("status", "-f", config, "--output", "json");
        JsonNode traffic = status.json().get("stages").get(0).get("traffic");
        assertThat(traffic.get("kubernetes").asDouble()).isEqualTo(25);
        assertThat(traffic.get("reported").asText()).isEqualTo("weights legacy=75 kubernetes=25");
        assertThat(traffic.get("error").isNull()).isTrue();
        assertThat(Cli.run("status", "-f", config).out()).contains("  traffic    25% on kubernetes (weights legacy=75 kubernetes=25) at alb");
        Cli.Run revert = cutover("--revert");
        assertThat(revert.code()).as(revert.err()).isZero();
        assertThat(revert.json().get("reason").asText()).isEqualTo("reverted as asked (--revert); traffic is back on legacy (read back 0%"
                + " on kubernetes)");
        assertThat(weights()).containsExactly(100, 0);
    }

    @Test
    void revertGoesOnWithoutTheLeaseWhileAnotherRunHoldsIt() {
        assertThat(cutover("--to", "25").code()).isZero();
        // Another run holds the stage's lease (the one before released its own, which is replaced here).
        env.kubernetes().client().leases().inNamespace(STAGE).withName("dualdeploy-loan-api-prod").delete();
        env.kubernetes().client().leases().inNamespace(STAGE).resource(new io.fabric8.kubernetes.api.model.coordination.v1.LeaseBuilder()
                .withNewMetadata().withName("dualdeploy-loan-api-prod").endMetadata()
                .withNewSpec().withHolderIdentity("another run").withLeaseDurationSeconds(60)
                .withRenewTime(java.time.ZonedDateTime.now(java.time.ZoneOffset.UTC)).endSpec().build()).create();

        assertThat(cutover("--to", "50").code()).as("moving traffic waits for the lease").isEqualTo(ExitCodes.LEASED);
        Cli.Run revert = cutover("--revert");

        assertThat(revert.code()).as(revert.err()).isZero();
        assertThat(revert.err()).contains("reverting without the stage lease, which cannot be had now");
        assertThat(weights()).containsExactly(100, 0);
    }

    @Test
    void aRunKilledMidStepIsResumedAtThatStepWhoseGateRunsAgain() throws Exception {
        Process child = new ProcessBuilder(java(List.of("cutover", "-f", config, "--stage", STAGE, "--journal", journal)))
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        try (BufferedReader err = new BufferedReader(new InputStreamReader(child.getErrorStream(), StandardCharsets.UTF_8))) {
            for (String line = err.readLine(); line != null; line = err.readLine()) {
                if (line.contains("gate cutover 25%: watching")) {
                    child.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                    break;
                }
            }
        } finally {
            child.destroyForcibly();
        }
        assertThat(weights()).as("the killed run left traffic at its second step").containsExactly(75, 25);
        // The killed run's lease would be taken over after lease_duration of --wait-lock; deleted by hand, as the README says.
        env.kubernetes().client().leases().inNamespace(STAGE).delete();

        Cli.Run again = cutover();

        assertThat(again.code()).as(again.err()).isZero();
        JsonNode result = again.json();
        assertThat(result.get("before").asDouble()).isEqualTo(25);
        assertThat(sets(result)).containsExactly(50.0, 100.0);
        assertThat(result.get("gates")).extracting(g -> g.get("phase").asText())
                .containsExactly("cutover 25%", "cutover 50%", "cutover 100%");
        assertThat(again.err()).contains("did not journal its end");
        assertThat(weights()).containsExactly(0, 100);
    }

    /** The command line of a CLI JVM, as a person runs it, with the local environment's credentials. */
    private static List<String> java(List<String> args) {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC",
                "-Daws.accessKeyId=" + LocalEnvironment.ACCESS_KEY, "-Daws.secretAccessKey=" + LocalEnvironment.ACCESS_KEY,
                "-Daws.disableEc2Metadata=true", "-cp", System.getProperty("java.class.path"), Main.class.getName()));
        command.addAll(args);
        return command;
    }
}
