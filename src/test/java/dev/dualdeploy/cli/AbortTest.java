package dev.dualdeploy.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.dualdeploy.config.ConfigLoader;
import dev.dualdeploy.config.DualDeploySpec;
import dev.dualdeploy.config.Side;
import dev.dualdeploy.journal.Event;
import dev.dualdeploy.journal.JournalJson;
import dev.dualdeploy.local.LocalEnvironment;
import dev.dualdeploy.release.Release;
import dev.dualdeploy.targets.PlatformTargets;
import dev.dualdeploy.targets.kubernetes.KubernetesLease;
import dev.dualdeploy.time.Sleeper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 9, abort: a real {@code dualdeploy deploy} in a JVM of its own, against the local environment, signalled as a
 * Jenkins abort does (SIGTERM), once its progress shows it is mid-rollout or mid-gate. It stops,
 * puts both sides back on the release they ran before (read back from the platforms here), says so on stderr and exits
 * 6. Every stage starts on 0.9.0, which its first deploy records as the last good release.
 */
class AbortTest {

    /** How long a step of the child may take on a busy machine before the test gives up on it. */
    private static final Duration PATIENCE = Duration.ofMinutes(2);

    private static LocalEnvironment env;
    private static DualDeploySpec config;
    private static PlatformTargets targets;

    @BeforeAll
    static void start(@TempDir Path dir) {
        // A soak of a minute, in windows of a second: a gate is under way long enough to be signalled mid-way.
        env = LocalEnvironment.start(dir, "0.9.0", 2, 0,
                Optional.of(new LocalEnvironment.GateTiming(Duration.ofMinutes(1), Duration.ofSeconds(1))));
        config = new ConfigLoader().load(env.config());
        targets = new PlatformTargets(Clock.systemUTC(), Sleeper.SYSTEM);
    }

    @AfterAll
    static void stop() {
        targets.close();
        env.close();
    }

    @Test
    void sigtermMidRolloutPutsBothSidesBackAndExits6() throws Exception {
        Release before = env.release("0.9.0");
        Release release = env.release("1.0.0");
        // Kubernetes never gets its pods ready: its rollout is under way for as long as the test needs.
        env.breakRelease("1.0.0", LocalEnvironment.Breakage.STALL, EnumSet.of(Side.KUBERNETES));

        try (Child child = Child.start("deploy", "-f", env.config().toString(), "--stage", "sandbox", "--image", release.image(),
                "--output", "json")) {
            child.awaitLine(line -> line.startsWith("[sandbox/legacy] SUCCEEDED"));
            child.awaitLine(line -> line.startsWith("[sandbox/kubernetes] updated "));
            child.signal("TERM"); // as a Jenkins abort sends

            assertThat(child.exit()).as(child.err()).isEqualTo(ExitCodes.ABORTED);
            assertThat(child.err()).contains("[sandbox] SIGTERM received: aborting; nothing new starts; putting back what this run"
                    + " changed in the stage, each side followed for at most 2m")
                    .contains("[sandbox] aborted (SIGTERM) during the rollout of " + Release.shortDigest(release.digest())
                            + ": nothing new starts")
                    // The seeded release carries no version label: it is named by its digest.
                    .contains("[sandbox] put back: legacy runs (" + Release.shortDigest(before.digest()) + "), put back;"
                            + " kubernetes runs (" + Release.shortDigest(before.digest()) + "), put back")
                    .contains("[sandbox] ABORTED: aborted (SIGTERM) during the rollout of " + Release.shortDigest(release.digest())
                            + "; rolled back ");
            JsonNode json = child.json();
            assertThat(json.get("outcome").asText()).isEqualTo("ABORTED");
        }
        assertThat(runs("sandbox", Side.LEGACY)).contains(before.digest());
        assertThat(runs("sandbox", Side.KUBERNETES)).contains(before.digest());
    }

    @Test
    void sigtermMidGatePutsBothSidesBackAndExits6() throws Exception {
        Release before = env.release("0.9.0");
        Release release = env.release("1.1.0");

        try (Child child = Child.start("deploy", "-f", env.config().toString(), "--stage", "preprod", "--image", release.image())) {
            child.awaitLine(line -> line.startsWith("[preprod/") && line.contains("] gate window 1/60: "));
            assertThat(runs("preprod", Side.LEGACY)).contains(release.digest());
            assertThat(runs("preprod", Side.KUBERNETES)).contains(release.digest());
            child.signal("TERM");

            assertThat(child.exit()).as(child.err()).isEqualTo(ExitCodes.ABORTED);
            assertThat(child.err()).contains("[preprod] SIGTERM received: aborting")
                    .contains("[preprod] aborted (SIGTERM) during the gate: nothing new starts")
                    .contains("[preprod] put back: legacy runs (" + Release.shortDigest(before.digest()) + "), put back;"
                            + " kubernetes runs (" + Release.shortDigest(before.digest()) + "), put back")
                    .contains("[preprod] ABORTED: aborted (SIGTERM) during the gate; rolled back ");
            // No gate window starts once the signal is received (one being measured then may still end).
            List<String> lines = child.err().lines().toList();
            int received = lines.indexOf(lines.stream().filter(l -> l.startsWith("[preprod] SIGTERM received")).findFirst().orElseThrow());
            assertThat(lines.subList(received, lines.size()).stream().filter(l -> l.startsWith("[preprod/") && l.contains("] gate window"))
                    .map(l -> l.replaceAll(".*gate window (\\d+)/.*", "$1")).distinct()).as("windows after the signal").hasSizeLessThan(2);
            assertThat(child.out()).startsWith("deploy preprod: ABORTED - aborted (SIGTERM) during the gate");
        }
        assertThat(runs("preprod", Side.LEGACY)).contains(before.digest());
        assertThat(runs("preprod", Side.KUBERNETES)).contains(before.digest());
    }

    /**
     * Review item 2: a SIGTERM as soon as the run has started (here while it would have been reading three hundred
     * earlier runs of another stage from the journal, before the handlers were installed) ends the run in a defined
     * state: exit 6, ABORTED in one JSON document, the run's end journaled, and the stage on the release it ran.
     */
    @Test
    void sigtermAtOnceAfterTheRunStartedEndsItAbortedWithOneJsonDocument(@TempDir Path journal) throws Exception {
        Release before = env.release("0.9.0");
        earlierRuns(journal, "prod", 300);

        String run;
        try (Child child = Child.start("deploy", "-f", env.config().toString(), "--stage", "beta", "--image",
                env.release("1.2.0").image(), "--output", "json", "--journal", journal.toString())) {
            child.awaitLine(line -> line.startsWith("run "));
            child.signal("TERM");

            assertThat(child.exit()).as(child.err()).isEqualTo(ExitCodes.ABORTED);
            JsonNode json = child.json();
            assertThat(json.get("outcome").asText()).as(child.err()).isEqualTo("ABORTED");
            run = json.get("run").asText();
        }
        assertThat(Files.readAllLines(journal.resolve(run + ".jsonl"))).last().asString().contains("\"type\":\"run-ended\"")
                .contains("\"outcome\":\"ABORTED\"");
        assertThat(runs("beta", Side.LEGACY)).contains(before.digest());
        assertThat(runs("beta", Side.KUBERNETES)).contains(before.digest());
    }

    /**
     * Review item 3: a SIGTERM while the run waits for the lease another run holds (--wait-lock 10m) ends the wait at
     * once: no lease taken, nothing changed, exit 6, aborted and run-ended journaled, and no interrupted run named (it
     * would be said only once the lease is held).
     */
    @Test
    void sigtermWhileWaitingForTheLeaseStopsAtOnceTakingNoLease(@TempDir Path journal) throws Exception {
        Release before = env.release("0.9.0");
        KubernetesLease other = new KubernetesLease(env.kubernetes().client(), "beta", "dualdeploy-loan-api-beta",
                "20261201T000000.000Z-00000000000000aa someone-else", Duration.ofMinutes(5), Clock.systemUTC());
        other.take();
        try (Child child = Child.start("deploy", "-f", env.config().toString(), "--stage", "beta", "--image",
                env.release("1.2.0").image(), "--wait-lock", "10m", "--journal", journal.toString())) {
            child.awaitLine(line -> line.startsWith("[beta] waiting for the lease on beta, held by "));
            long signalled = System.nanoTime();
            child.signal("TERM");

            assertThat(child.exit()).as(child.err()).isEqualTo(ExitCodes.ABORTED);
            assertThat(Duration.ofNanos(System.nanoTime() - signalled)).as("ended at once").isLessThan(Duration.ofSeconds(20));
            assertThat(child.err()).contains("[beta] stopped waiting for the lease on beta: the run was aborted (SIGTERM); no lease was taken")
                    .contains("[beta] ABORTED: aborted (SIGTERM) while waiting for the stage lease: nothing was changed")
                    .doesNotContain("acquired").doesNotContain("did not journal its end");
            assertThat(child.out()).startsWith("deploy beta: ABORTED - aborted (SIGTERM) while waiting for the stage lease");
        } finally {
            assertThat(other.release().released()).as("the other run still held the lease").isTrue();
        }
        String journaled = Files.readString(Files.list(journal).findFirst().orElseThrow());
        assertThat(journaled).contains("\"type\":\"aborted\"").contains("\"type\":\"run-ended\"").doesNotContain("lock-acquired");
        assertThat(runs("beta", Side.KUBERNETES)).contains(before.digest());
    }

    /**
     * Review item 8: {@code gate --output json} under SIGTERM stops at the next window and ends the run ABORTED: exit 6,
     * one JSON document, the run's end journaled.
     */
    @Test
    void sigtermMidGateCommandEndsItAbortedWithOneJsonDocument(@TempDir Path journal) throws Exception {
        try (Child child = Child.start("gate", "-f", env.config().toString(), "--stage", "prod", "--output", "json",
                "--journal", journal.toString())) {
            child.awaitLine(line -> line.startsWith("[prod/") && line.contains("] gate window 1/60: "));
            child.signal("TERM");

            assertThat(child.exit()).as(child.err()).isEqualTo(ExitCodes.ABORTED);
            assertThat(child.err()).contains("[prod] SIGTERM received: aborting; nothing new starts; ending the gate at its next window");
            JsonNode json = child.json();
            assertThat(json.get("exitCode").asInt()).isEqualTo(ExitCodes.ABORTED);
            assertThat(json.get("aborted").asText()).startsWith("aborted (SIGTERM) during the gate, after ");
        }
        String journaled = Files.readString(Files.list(journal).findFirst().orElseThrow());
        assertThat(journaled).contains("\"type\":\"aborted\"").contains("\"outcome\":\"ABORTED\"")
                .contains("\"type\":\"run-ended\"");
    }

    /** Writes {@code count} finished runs of {@code stage}, about 15 KB each, into the journal directory. */
    static void earlierRuns(Path journal, String stage, int count) throws IOException {
        Files.createDirectories(journal);
        Instant at = Instant.parse("2026-11-01T00:00:00Z");
        for (int i = 0; i < count; i++) {
            String id = String.format("20261101T00%02d%02d.000Z-%016x", i / 60, i % 60, i + 1);
            StringBuilder file = new StringBuilder(JournalJson.tree(new Event.RunStarted(id, at, Optional.empty(), Optional.empty(),
                    "deploy", List.of(stage), Optional.empty(), Optional.empty(), Optional.empty())).toString()).append('\n');
            for (int line = 0; line < 100; line++) {
                file.append(JournalJson.tree(new Event.Notice(id, at, Optional.of(stage), Optional.empty(), "x".repeat(120))).toString())
                        .append('\n');
            }
            file.append(JournalJson.tree(new Event.RunEnded(id, at, Optional.empty(), Optional.empty(), "SUCCEEDED", 0, "done")))
                    .append('\n');
            Files.writeString(journal.resolve(id + ".jsonl"), file);
        }
    }

    /** The digest that runs on a side, read back from its platform. */
    private static Optional<String> runs(String stage, Side side) {
        return targets.open(config.stage(stage).orElseThrow(), side, message -> { }).current().digest();
    }

    /** The CLI in a JVM of its own, with its stderr read line by line as it comes. */
    private static final class Child implements AutoCloseable {
        private final Process process;
        private final List<String> lines = new ArrayList<>();
        private final StringBuilder out = new StringBuilder();
        private final Thread errReader;
        private final Thread outReader;

        private Child(Process process) {
            this.process = process;
            this.errReader = reader(process.getErrorStream(), line -> {
                synchronized (lines) {
                    lines.add(line);
                    lines.notifyAll();
                }
            });
            this.outReader = reader(process.getInputStream(), line -> {
                synchronized (out) {
                    out.append(line).append('\n');
                }
            });
        }

        static Child start(String... args) throws IOException {
            List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    // Not secrets: the local environment's documented credentials, as LocalEnvironment.useLocalCredentials sets them.
                    "-Daws.accessKeyId=" + LocalEnvironment.ACCESS_KEY, "-Daws.secretAccessKey=" + LocalEnvironment.ACCESS_KEY,
                    "-Daws.disableEc2Metadata=true", "-cp", System.getProperty("java.class.path"), Main.class.getName()));
            command.addAll(List.of(args));
            return new Child(new ProcessBuilder(command).start());
        }

        private static Thread reader(InputStream stream, java.util.function.Consumer<String> each) {
            Thread thread = new Thread(() -> {
                try (BufferedReader reader = new BufferedReader(new InputStreamReader(stream, StandardCharsets.UTF_8))) {
                    for (String line = reader.readLine(); line != null; line = reader.readLine()) {
                        each.accept(line);
                    }
                } catch (IOException closed) {
                    // the process ended
                }
            }, "child-output");
            thread.setDaemon(true);
            thread.start();
            return thread;
        }

        /** Waits until stderr has a line that matches; fails if the process ends or {@link #PATIENCE} passes first. */
        void awaitLine(Predicate<String> wanted) throws InterruptedException {
            long deadline = System.nanoTime() + PATIENCE.toNanos();
            synchronized (lines) {
                while (lines.stream().noneMatch(wanted)) {
                    long left = deadline - System.nanoTime();
                    if (left <= 0 || !process.isAlive() && !errReader.isAlive()) {
                        throw new AssertionError("no such line on stderr (alive: " + process.isAlive() + "):\n" + String.join("\n", lines));
                    }
                    lines.wait(Math.min(TimeUnit.NANOSECONDS.toMillis(left) + 1, 500));
                }
            }
        }

        /**
         * Sends the signal with {@code kill}: {@code Process.destroy()} sends SIGTERM too, but also closes the pipes, and
         * what the CLI says afterwards would be lost.
         */
        void signal(String name) throws IOException, InterruptedException {
            assertThat(new ProcessBuilder("kill", "-s", name, Long.toString(process.pid())).start().waitFor()).isZero();
        }

        int exit() throws InterruptedException {
            assertThat(process.waitFor(PATIENCE.toSeconds(), TimeUnit.SECONDS)).as("the CLI ended").isTrue();
            errReader.join(PATIENCE.toMillis());
            outReader.join(PATIENCE.toMillis());
            return process.exitValue();
        }

        String err() {
            synchronized (lines) {
                return String.join("\n", lines);
            }
        }

        String out() {
            synchronized (out) {
                return out.toString();
            }
        }

        JsonNode json() throws IOException {
            return new ObjectMapper().readTree(out());
        }

        @Override
        public void close() {
            process.destroyForcibly();
        }
    }
}
