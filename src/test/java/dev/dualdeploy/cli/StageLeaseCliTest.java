package dev.dualdeploy.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.dualdeploy.config.Side;
import dev.dualdeploy.journal.Event;
import dev.dualdeploy.journal.JournalJson;
import dev.dualdeploy.local.LocalEnvironment;
import dev.dualdeploy.release.Release;
import dev.dualdeploy.testing.Cli;
import dev.dualdeploy.testing.Cli.Run;
import dev.dualdeploy.text.Text;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The stage lease as a person meets it: two deploys of one stage at once in the local environment (whose stages soak
 * for a few seconds, so the first still runs when the second starts). The second fails fast with exit code 5 naming
 * the first; with --wait-lock it waits and then deploys; the lease is released at the end, also after a failure.
 */
class StageLeaseCliTest {

    private static final ResourceDefinitionContext LEASES = new ResourceDefinitionContext.Builder().withGroup("coordination.k8s.io")
            .withVersion("v1").withPlural("leases").withKind("Lease").withNamespaced(true).build();
    private static final Pattern ACQUIRED = Pattern.compile("\\[sandbox] lease dualdeploy-loan-api-sandbox acquired as (\\S+) for 1m");

    private static LocalEnvironment env;
    private static String config;

    @BeforeAll
    static void start(@TempDir Path dir) {
        env = LocalEnvironment.start(dir, "0.9.0", 2, 0,
                Optional.of(new LocalEnvironment.GateTiming(Duration.ofSeconds(8), Duration.ofSeconds(2))));
        config = env.config().toString();
    }

    @AfterAll
    static void stop() {
        env.close();
    }

    /** A CLI run on another thread, its stderr readable while it runs. */
    private record Background(Future<Integer> code, StringWriter out, StringWriter err) {
        static Background start(ExecutorService pool, String... args) {
            StringWriter out = new StringWriter();
            StringWriter err = new StringWriter();
            return new Background(pool.submit(() -> DualDeployCommand.run(args, new PrintWriter(out, true), new PrintWriter(err, true))),
                    out, err);
        }
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> lease(String stage) {
        GenericKubernetesResource lease = env.kubernetes().client().genericKubernetesResources(LEASES).inNamespace(stage)
                .withName("dualdeploy-loan-api-" + stage).get();
        return lease == null ? Map.of() : (Map<String, Object>) lease.getAdditionalProperties().get("spec");
    }

    @Test
    void aSecondRunFailsFastWithExit5NamingTheFirstAndWithWaitLockItWaitsAndThenDeploys() throws Exception {
        Release first = env.release("1.0.0");
        Release second = env.release("1.1.0");
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            Background running = Background.start(pool, "deploy", "-f", config, "--stage", "sandbox", "--image", first.image());
            await().atMost(Duration.ofSeconds(60)).until(() -> ACQUIRED.matcher(running.err().toString()).find()
                    || running.code().isDone());
            Matcher acquired = ACQUIRED.matcher(running.err().toString());
            assertThat(acquired.find()).as(running.err().toString()).isTrue();
            String holder = acquired.group(1);
            assertThat(lease("sandbox")).containsEntry("holderIdentity", holder);

            Run refused = Cli.run("deploy", "-f", config, "--stage", "sandbox", "--image", second.image(), "--output", "json");
            Run rollback = Cli.run("rollback", "-f", config, "--stage", "sandbox");
            Background waiting = Background.start(pool, "deploy", "-f", config, "--stage", "sandbox", "--image", second.image(),
                    "--wait-lock", "2m");

            assertThat(refused.code()).as(refused.err()).isEqualTo(ExitCodes.LEASED);
            assertThat(refused.err()).contains("error: stage is leased by another run: lease dualdeploy-loan-api-sandbox is held by "
                    + holder + " since ").contains("hint: wait for it with --wait-lock DURATION");
            assertThat(refused.json().get("exitCode").asInt()).isEqualTo(5);
            assertThat(refused.json().get("error").asText()).contains(holder);
            assertThat(rollback.code()).as("a rollback changes the stage too").isEqualTo(ExitCodes.LEASED);
            assertThat(running.code().get(120, TimeUnit.SECONDS)).as(running.err().toString()).isZero();
            assertThat(waiting.code().get(120, TimeUnit.SECONDS)).as(waiting.err().toString()).isZero();
            assertThat(waiting.err().toString()).contains("[sandbox] waiting for the lease on sandbox, held by " + holder + " since ")
                    .contains("[sandbox] lease dualdeploy-loan-api-sandbox released");
            assertThat(running.err().toString()).contains("lease dualdeploy-loan-api-sandbox released").doesNotContain("lost: released");
        } finally {
            pool.shutdownNow();
        }
        Run status = Cli.run("status", "-f", config, "--stage", "sandbox", "--output", "json");
        assertThat(status.json().get("stages").get(0).get("sides").findValuesAsText("digest")).containsOnly(second.digest());
        assertThat(lease("sandbox")).as("released at the end").doesNotContainKey("holderIdentity").containsEntry("leaseTransitions", 1);
    }

    @Test
    void aFailedDeployReleasesTheLeaseToo() {
        Release good = env.release("1.0.0");
        Release broken = env.release("1.1.1");
        env.breakRelease("1.1.1", LocalEnvironment.Breakage.CRASH, EnumSet.of(Side.KUBERNETES));
        assertThat(Cli.run("deploy", "-f", config, "--stage", "preprod", "--image", good.image(), "--no-gate").code()).isZero();

        Run failed = Cli.run("deploy", "-f", config, "--stage", "preprod", "--image", broken.image(), "--no-gate");

        assertThat(failed.code()).as(failed.err()).isEqualTo(ExitCodes.FAILED);
        assertThat(failed.err()).contains("[preprod] lease dualdeploy-loan-api-preprod released").doesNotContain("lost: released");
        assertThat(lease("preprod")).doesNotContainKey("holderIdentity");
        Run next = Cli.run("deploy", "-f", config, "--stage", "preprod", "--image", good.image(), "--no-gate");
        assertThat(next.code()).as("the next run takes it at once: " + next.err()).isZero();
    }

    @Test
    void anUnreachableClusterOfAToggledOffKubernetesSideIsNoLeaseAndSaysSoButAToggledOnOneIsExit4(@TempDir Path dir) throws Exception {
        Path kubeconfig = dir.resolve("kubeconfig");
        Files.writeString(kubeconfig, Files.readString(env.kubeconfig()).replaceAll("server: \\S+", "server: https://127.0.0.1:1"));
        Path unreachable = dir.resolve("dualdeploy.yaml");
        Files.writeString(unreachable, Files.readString(env.config()).replace(env.kubeconfig().toAbsolutePath().toString(),
                kubeconfig.toString()));
        String image = env.release("1.0.0").image();

        Run legacyOnly = Cli.run("deploy", "-f", unreachable.toString(), "--stage", "beta", "--image", image, "--no-gate",
                "--kubernetes=false");
        Run both = Cli.run("deploy", "-f", unreachable.toString(), "--stage", "beta", "--image", image, "--no-gate");

        assertThat(legacyOnly.code()).as(legacyOnly.err()).isZero();
        assertThat(legacyOnly.err()).contains("[beta] going on without the stage lease: the Kubernetes side, which this run does not"
                + " change, cannot be reached (").contains("connection refused by https://127.0.0.1:1");
        assertThat(both.code()).as(both.err()).isEqualTo(ExitCodes.NEEDS_ATTENTION);
        assertThat(both.err()).contains("error: cannot take the lease of stage beta: cannot read lease beta/dualdeploy-loan-api-beta:");
    }

    /**
     * Review items 4 and 9: a run of prod that did not journal its end is named by rollback (as by deploy), and only
     * once this run holds the lease: while another run holds it (it may be that very run, alive) nothing is said of it.
     */
    @Test
    void rollbackNamesARunThatDidNotJournalItsEndOnlyOnceItHoldsTheLease(@TempDir Path journal) throws Exception {
        String killed = "20261201T060000.000Z-00000000000000b1";
        Instant at = Instant.parse("2026-12-01T06:00:00Z");
        Files.createDirectories(journal);
        Files.writeString(journal.resolve(killed + ".jsonl"), String.join("\n",
                JournalJson.tree(new Event.RunStarted(killed, at, Optional.empty(), Optional.empty(), "deploy", List.of("prod"),
                        Optional.empty(), Optional.empty(), Optional.of("jenkins-loan-api-main-7"))).toString(),
                JournalJson.tree(new Event.StageStarted(killed, at, Optional.of("prod"), Optional.empty(), "deploy", List.of(Side.KUBERNETES),
                        Optional.empty(), Optional.empty(), List.of())).toString(),
                JournalJson.tree(new Event.RolloutProgress(killed, at, Optional.of("prod"), Optional.of(Side.KUBERNETES),
                        "updated 1/2, ready 0/2")).toString()) + "\n");
        GenericKubernetesResource foreign = new GenericKubernetesResource();
        foreign.setApiVersion("coordination.k8s.io/v1");
        foreign.setKind("Lease");
        foreign.setMetadata(new ObjectMetaBuilder().withName("dualdeploy-loan-api-prod").withNamespace("prod").build());
        foreign.setAdditionalProperty("spec", Map.of("holderIdentity", killed, "leaseDurationSeconds", 60,
                "renewTime", "2026-12-01T10:00:00.000000Z"));
        env.kubernetes().client().genericKubernetesResources(LEASES).inNamespace("prod").resource(foreign).create();
        Run refused;
        Run rollback;
        try {
            refused = Cli.run("rollback", "-f", config, "--stage", "prod", "--journal", journal.toString());
            env.kubernetes().client().genericKubernetesResources(LEASES).inNamespace("prod").withName("dualdeploy-loan-api-prod").delete();
            rollback = Cli.run("rollback", "-f", config, "--stage", "prod", "--journal", journal.toString());
        } finally {
            // The Lease object stays after a run (its holder cleared); other tests of prod create their own.
            env.kubernetes().client().genericKubernetesResources(LEASES).inNamespace("prod").withName("dualdeploy-loan-api-prod").delete();
        }

        assertThat(refused.code()).as(refused.err()).isEqualTo(ExitCodes.LEASED);
        assertThat(refused.err()).doesNotContain("did not journal its end");
        String named = "[prod] run " + killed + " (jenkins-loan-api-main-7, 2026-12-01T06:00:00Z) did not journal its end (killed, or"
                + " its journal could not be written); its last event: [prod/kubernetes] updated 1/2, ready 0/2";
        assertThat(rollback.err()).contains(named);
        assertThat(rollback.err().indexOf(named)).as("said after the lease is held")
                .isGreaterThan(rollback.err().indexOf("[prod] lease dualdeploy-loan-api-prod acquired as "));
    }

    /** Review item 15: a refusal is journaled as LEASED with exit 5, not as an ERROR. */
    @Test
    void aRefusedRunIsJournaledAsLeasedWithExit5(@TempDir Path journal) {
        GenericKubernetesResource foreign = new GenericKubernetesResource();
        foreign.setApiVersion("coordination.k8s.io/v1");
        foreign.setKind("Lease");
        foreign.setMetadata(new ObjectMetaBuilder().withName("dualdeploy-loan-api-prod").withNamespace("prod").build());
        foreign.setAdditionalProperty("spec", Map.of("holderIdentity", "someone-else", "leaseDurationSeconds", 60,
                "renewTime", "2026-12-01T10:00:00.000000Z"));
        env.kubernetes().client().genericKubernetesResources(LEASES).inNamespace("prod").resource(foreign).create();
        try {
            Run refused = Cli.run("deploy", "-f", config, "--stage", "prod", "--image", env.release("1.0.0").image(), "--no-gate",
                    "--journal", journal.toString());

            assertThat(refused.code()).as(refused.err()).isEqualTo(ExitCodes.LEASED);
            assertThat(refused.err()).contains("run ended: LEASED (exit 5): stage is leased by another run: lease"
                    + " dualdeploy-loan-api-prod is held by someone-else");
            Run history = Cli.run("history", "--journal", journal.toString());
            assertThat(history.out()).as(history.err()).contains("LEASED (exit 5)").doesNotContain("ERROR");
        } finally {
            env.kubernetes().client().genericKubernetesResources(LEASES).inNamespace("prod").withName("dualdeploy-loan-api-prod").delete();
        }
    }

    @Test
    void waitLockIsADurationFromZeroToOneHour() {
        Run tooLong = Cli.run("deploy", "-f", config, "--stage", "sandbox", "--wait-lock", "61m");
        Run garbage = Cli.run("rollback", "-f", config, "--stage", "sandbox", "--wait-lock", "soon\n[x] forged");

        assertThat(tooLong.code()).isEqualTo(ExitCodes.BAD_INPUT);
        assertThat(tooLong.err()).contains("error: Invalid value for option '--wait-lock': '61m' is not a duration from 0s to 1h"
                + " (for example --wait-lock 10m)");
        assertThat(garbage.code()).isEqualTo(ExitCodes.BAD_INPUT);
        assertThat(garbage.err()).contains("'soon\\n[x] forged'").doesNotContain("soon\n");
    }

    @Test
    void theHolderIsTheRunIdAndTheJenkinsBuildTagEscapedAndCut() {
        String run = "20261201T100000.000Z-0000000000000001";
        assertThat(LeaseOptions.holder(run, Map.of())).isEqualTo(run);
        assertThat(LeaseOptions.holder(run, Map.of("BUILD_TAG", "jenkins-loan-api-main-42"))).isEqualTo(run + " jenkins-loan-api-main-42");
        assertThat(LeaseOptions.holder(run, Map.of("BUILD_TAG", "a\nb" + "x".repeat(500)))).startsWith(run + " a\\nbx")
                .hasSize(run.length() + 1 + LeaseOptions.MAX_BUILD_TAG);
    }

    /** Review item 7: a BUILD_TAG cut in the middle of a surrogate pair made the holder invalid (exit 2). */
    @Test
    void aBuildTagIsCutOnCodePointsAndStaysAValidHolder() {
        String run = "20261201T100000.000Z-0000000000000001";
        String emoji = "\uD83D\uDE80"; // one code point, two chars
        for (int pad = 115; pad <= 121; pad++) {
            String tag = "x".repeat(pad) + emoji.repeat(5) + "\u0007\u202e";
            String holder = LeaseOptions.holder(run, Map.of("BUILD_TAG", tag));
            assertThat(holder).as("pad " + pad).startsWith(run + " xxx").hasSizeLessThanOrEqualTo(run.length() + 1 + LeaseOptions.MAX_BUILD_TAG);
            assertThat(holder.codePoints().filter(c -> Character.getType(c) == Character.SURROGATE)).as("pad " + pad + ": no lone surrogate")
                    .isEmpty();
            assertThat(holder).as("a valid holder identity").isEqualTo(Text.escape(holder));
        }
        assertThat(LeaseOptions.holder(run, Map.of("BUILD_TAG", "a\u0007b\u202ec"))).isEqualTo(run + " a\\u0007b\\u202ec");
    }
}
