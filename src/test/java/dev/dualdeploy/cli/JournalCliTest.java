package dev.dualdeploy.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.dualdeploy.local.LocalEnvironment;
import dev.dualdeploy.release.Release;
import dev.dualdeploy.testing.Cli;
import dev.dualdeploy.testing.Cli.Run;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 9, the journal: a real {@code deploy} (and {@code rollback}) in the local environment records its run, which
 * {@code history --run} reads back with what each side ran and the gate's verdicts; the run id is the first line on
 * stderr and in the JSON; a journal that cannot be written stops the run before anything changes.
 */
class JournalCliTest {

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
    void aDeployIsJournaledAndHistoryReadsItBackWithDigestsAndVerdicts(@TempDir Path journal) {
        Release release = env.release("1.0.0");

        Run deploy = Cli.run("deploy", "-f", config, "--stage", "sandbox", "--image", release.image(), "--release-version", "1.0.0",
                "--output", "json", "--journal", journal.toString());

        assertThat(deploy.code()).as(deploy.err() + deploy.out()).isZero();
        String first = deploy.err().lines().findFirst().orElseThrow();
        assertThat(first).matches("run [0-9]{8}T[0-9]{6}\\.[0-9]{3}Z-[0-9a-f]{16}");
        String id = first.substring("run ".length());
        assertThat(deploy.json().get("run").asText()).isEqualTo(id);
        assertThat(deploy.json().get("outcome").asText()).as("the JSON's fields stay").isEqualTo("SUCCEEDED");
        assertThat(journal.resolve(id + ".jsonl")).isRegularFile();

        Run history = Cli.run("history", "--journal", journal.toString(), "--run", id, "--output", "json");

        assertThat(history.code()).as(history.err()).isZero();
        JsonNode root = history.json();
        assertThat(root.get("interrupted").asBoolean()).isFalse();
        List<JsonNode> events = new ArrayList<>();
        root.get("events").forEach(events::add);
        assertThat(events).allSatisfy(e -> assertThat(e.get("run").asText()).isEqualTo(id));
        assertThat(events.get(0).get("type").asText()).isEqualTo("run-started");
        assertThat(events.get(0).get("image").asText()).isEqualTo(release.image());
        assertThat(events.get(0).get("version").asText()).isEqualTo("1.0.0");
        assertThat(events.get(events.size() - 1).get("type").asText()).isEqualTo("run-ended");
        assertThat(events.get(events.size() - 1).get("exitCode").asInt()).isZero();
        JsonNode started = only(events, "stage-started");
        assertThat(started.get("stage").asText()).isEqualTo("sandbox");
        assertThat(started.get("before")).as("the before-image of each side").hasSize(2)
                .allSatisfy(image -> assertThat(image.asText()).contains("@sha256:").doesNotContain(release.digest()));
        assertThat(of(events, "rollout-ended")).hasSize(2).allSatisfy(e -> assertThat(e.get("status").asText()).isEqualTo("SUCCEEDED"));
        List<JsonNode> readBack = of(events, "read-back");
        assertThat(readBack).extracting(e -> e.get("side").asText()).contains("legacy", "kubernetes");
        assertThat(readBack).allSatisfy(e -> assertThat(e.get("digest").asText()).isEqualTo(release.digest()));
        assertThat(of(events, "check-verdict")).isNotEmpty().allSatisfy(e -> assertThat(e.get("outcome").asText()).isEqualTo("PASS"))
                .extracting(e -> e.get("name").asText()).contains("sequential error_rate [kubernetes vs before-deploy]");
        assertThat(only(events, "gate-decided").get("decision").asText()).isEqualTo("PASS");
        assertThat(only(events, "stage-ended").get("outcome").asText()).isEqualTo("SUCCEEDED");
        assertThat(only(events, "stage-ended").get("parity").asText()).isEqualTo("PARITY");
        assertThat(of(events, "gate-window-measured")).isNotEmpty();

        // The progress lines are the events' own: one per event after the run id, each prefixed, no window line empty.
        List<String> lines = deploy.err().lines().skip(1).toList();
        assertThat(lines).hasSize(events.size()).allSatisfy(l -> assertThat(l).startsWith("["));
        assertThat(lines).filteredOn(l -> l.contains(" window ")).isNotEmpty().allSatisfy(l -> assertThat(l).doesNotEndWith(": "));

        Run text = Cli.run("history", "--journal", journal.toString(), "--run", id);
        assertThat(text.out()).contains("[sandbox] gate PASS → PASS").contains("[sandbox/kubernetes] runs 1.0.0 "
                + Release.shortDigest(release.digest()));
    }

    @Test
    void aJournalThatCannotBeWrittenStopsTheRunBeforeAnythingChanges(@TempDir Path dir) throws Exception {
        Release release = env.release("1.3.0");
        Run status = Cli.run("status", "-f", config, "--stage", "preprod", "--output", "json");
        List<String> before = status.json().findValuesAsText("digest");
        // A file where the directory should be: no user, root included, can write a journal there.
        Path notADirectory = Files.writeString(dir.resolve("journal"), "a file");

        Run deploy = Cli.run("deploy", "-f", config, "--stage", "preprod", "--image", release.image(), "--no-gate", "--output", "json",
                "--journal", notADirectory.toString());

        assertThat(deploy.code()).as(deploy.err()).isEqualTo(ExitCodes.BAD_INPUT);
        assertThat(deploy.err()).contains("the journal directory " + notADirectory + " cannot be written").contains("nothing was changed");
        assertThat(deploy.json().get("exitCode").asInt()).isEqualTo(ExitCodes.BAD_INPUT);
        Run after = Cli.run("status", "-f", config, "--stage", "preprod", "--output", "json");
        assertThat(after.json().findValuesAsText("digest")).isEqualTo(before).doesNotContain(release.digest());
        assertThat(Files.readString(notADirectory)).isEqualTo("a file");
    }

    @Test
    void aRollbackIsJournaledToo(@TempDir Path journal) {
        Release first = env.release("1.1.0");
        Release second = env.release("1.2.0");
        for (Release r : List.of(first, second)) {
            Run deploy = Cli.run("deploy", "-f", config, "--stage", "beta", "--image", r.image(), "--no-gate",
                    "--journal", journal.toString());
            assertThat(deploy.code()).as(deploy.err()).isZero();
        }

        Run rollback = Cli.run("rollback", "-f", config, "--stage", "beta", "--output", "json", "--journal", journal.toString());

        assertThat(rollback.code()).as(rollback.err()).isZero();
        String id = rollback.json().get("run").asText();
        assertThat(rollback.err().lines().findFirst()).contains("run " + id);
        Run history = Cli.run("history", "--journal", journal.toString(), "--output", "json");
        assertThat(history.json().get("runs")).hasSize(3);
        assertThat(history.json().get("runs").get(0).get("run").asText()).as("newest first").isEqualTo(id);
        assertThat(history.json().get("runs").get(0).get("command").asText()).isEqualTo("rollback");
        Run events = Cli.run("history", "--journal", journal.toString(), "--run", id, "--output", "json");
        List<JsonNode> list = new ArrayList<>();
        events.json().get("events").forEach(list::add);
        assertThat(of(list, "rollback-ended")).hasSize(2).allSatisfy(e -> assertThat(e.get("status").asText()).isEqualTo("SUCCEEDED"));
        assertThat(of(list, "read-back")).allSatisfy(e -> assertThat(e.get("digest").asText()).isEqualTo(first.digest()));
    }

    /**
     * Review item 6: a config problem found after the run began (the manifests are read when the deploy reaches
     * Kubernetes) ends the run in the journal, with the exit code the process returns.
     */
    @Test
    void aConfigProblemFoundAfterTheRunBeganEndsTheRunWithTheProcesssExitCode(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("dualdeploy.yaml");
        String yaml = Files.readString(Path.of(config));
        int sandbox = yaml.indexOf("deployment: loan-api", yaml.indexOf("name: sandbox"));
        Files.writeString(file, yaml.substring(0, sandbox) + "manifests: missing-k8s, " + yaml.substring(sandbox));
        Path journal = dir.resolve("journal");

        Run deploy = Cli.run("deploy", "-f", file.toString(), "--stage", "sandbox", "--image", env.release("1.0.0").image(),
                "--no-gate", "--output", "json", "--journal", journal.toString());

        assertThat(deploy.code()).as(deploy.err()).isEqualTo(ExitCodes.BAD_INPUT);
        List<JsonNode> events = events(journal, deploy.err().lines().findFirst().orElseThrow().substring("run ".length()));
        JsonNode last = events.get(events.size() - 1);
        assertThat(last.get("type").asText()).isEqualTo("run-ended");
        assertThat(last.get("outcome").asText()).isEqualTo("ERROR");
        assertThat(last.get("exitCode").asInt()).isEqualTo(deploy.code());
        assertThat(last.get("reason").asText()).contains("the manifests path does not exist");
        assertThat(deploy.json().get("exitCode").asInt()).isEqualTo(deploy.code());
    }

    /**
     * Review item 5: a --junit file that cannot be written is said, journaled, and the run's end in the journal, the
     * JSON and the process agree on one exit code (4: the deploy or gate did its work, its report is missing).
     */
    @Test
    void aJUnitReportThatCannotBeWrittenGivesOneExitCodeInTheJournalTheJsonAndTheProcess(@TempDir Path dir) throws Exception {
        Path blocker = Files.writeString(dir.resolve("not-a-directory"), "x");
        Path junit = blocker.resolve("gate.xml");
        Path journal = dir.resolve("journal");

        Run deploy = Cli.run("deploy", "-f", config, "--stage", "preprod", "--image", env.release("1.0.0").image(),
                "--output", "json", "--junit", junit.toString(), "--journal", journal.toString());
        Run gate = Cli.run("gate", "-f", config, "--stage", "preprod", "--output", "json", "--junit", junit.toString(),
                "--journal", journal.toString());

        for (Run run : List.of(deploy, gate)) {
            assertThat(run.code()).as(run.err()).isEqualTo(ExitCodes.NEEDS_ATTENTION);
            assertThat(run.err()).contains("cannot write the JUnit report " + junit);
            assertThat(run.json().get("exitCode").asInt()).isEqualTo(run.code());
            List<JsonNode> events = events(journal, run.json().get("run").asText());
            JsonNode last = events.get(events.size() - 1);
            assertThat(last.get("type").asText()).isEqualTo("run-ended");
            assertThat(last.get("exitCode").asInt()).as(run.err()).isEqualTo(run.code());
            assertThat(of(events, "notice")).extracting(e -> e.get("text").asText())
                    .anySatisfy(t -> assertThat(t).contains("cannot write the JUnit report " + junit));
        }
    }

    /**
     * Review item 13: a probe URL's user information and query values are credentials. Planted in the config, they
     * appear in no output: stdout (text and JSON), stderr, the journal file, the JUnit file, nor a config error.
     */
    @Test
    void aProbeUrlsUserinfoAndQueryValuesAreNeverPrintedJournaledOrReported(@TempDir Path dir) throws Exception {
        String password = "probePassw0rdPlanted";
        String token = "probeTokenPlanted42";
        com.sun.net.httpserver.HttpServer server = com.sun.net.httpserver.HttpServer.create(
                new java.net.InetSocketAddress(java.net.InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", exchange -> {
            try (exchange) {
                exchange.sendResponseHeaders(exchange.getRequestURI().getPath().equals("/ok") ? 200 : 503, -1);
            }
        });
        server.start();
        try {
            String base = "http://probe:" + password + "@127.0.0.1:" + server.getAddress().getPort();
            Path file = dir.resolve("dualdeploy.yaml");
            // The stage gates' checks (at the line's start: a cutover gate's are indented further).
            Files.writeString(file, Files.readString(Path.of(config)).replaceAll("(?m)^      checks:\n",
                    "      checks:\n        - http: { url: '" + base + "/ok?token=" + token + "&side={{side}}#" + token + "' }\n"
                            + "        - http: { url: '" + base + "/bad?access_token=" + token + "', failures: 1 }\n"));
            Path journal = dir.resolve("journal");
            Path junit = dir.resolve("gate.xml");
            List<Run> runs = new ArrayList<>();
            for (String output : List.of("text", "json")) {
                runs.add(Cli.run("gate", "-f", file.toString(), "--stage", "sandbox", "--output", output, "--junit", junit.toString(),
                        "--journal", journal.toString()));
            }
            Files.writeString(file, Files.readString(file).replace("http: { url: '" + base + "/bad", "http: { url: 'ftp" + base.substring(4) + "/bad"));
            Run invalid = Cli.run("validate", "-f", file.toString(), "--output", "json");
            runs.add(invalid);

            assertThat(runs.get(0).code()).as(runs.get(0).err()).isEqualTo(ExitCodes.FAILED);
            assertThat(runs.get(0).out()).contains("http http://***@127.0.0.1:").contains("/bad?access_token=***");
            assertThat(invalid.code()).isEqualTo(ExitCodes.BAD_INPUT);
            assertThat(invalid.out()).contains("is not an http or https URL");
            StringBuilder everything = new StringBuilder();
            runs.forEach(r -> everything.append(r.out()).append(r.err()));
            try (var files = Files.list(journal)) {
                for (Path f : files.toList()) {
                    everything.append(Files.readString(f));
                }
            }
            everything.append(Files.readString(junit));
            assertThat(everything.toString()).contains("gate-window-measured").contains("testcase")
                    .doesNotContain(password).doesNotContain(token);
        } finally {
            server.stop(0);
        }
    }

    /** Review item 14: a directory named with --journal is the user's choice, a link in its path included. */
    @Test
    void aJournalDirectoryNamedWithTheFlagIsUsedThroughALink(@TempDir Path dir) throws Exception {
        Path real = Files.createDirectory(dir.toRealPath().resolve("real"));
        Path link = Files.createSymbolicLink(dir.toRealPath().resolve("link"), real);

        Run deploy = Cli.run("deploy", "-f", config, "--stage", "prod", "--image", env.release("1.0.0").image(), "--no-gate",
                "--output", "json", "--journal", link.resolve("journal").toString());

        assertThat(deploy.code()).as(deploy.err()).isZero();
        assertThat(real.resolve("journal").resolve(deploy.json().get("run").asText() + ".jsonl")).isRegularFile();
    }

    /**
     * Review item 14: in a workspace where a branch planted {@code .dualdeploy} as a symbolic link, a deploy with the
     * default journal refuses before anything changes (exit 2, naming the link) and writes nothing where it leads. Run
     * in its own JVM, whose working directory is that workspace.
     */
    @Test
    void aPlantedDualdeployLinkInTheWorkspaceStopsTheRunBeforeAnythingChanges(@TempDir Path dir) throws Exception {
        Path work = Files.createDirectory(dir.toRealPath().resolve("work"));
        Path elsewhere = Files.createDirectory(dir.toRealPath().resolve("elsewhere"));
        Files.createSymbolicLink(work.resolve(".dualdeploy"), elsewhere);
        Release release = env.release("1.2.0");
        Path in = dir.resolve("in.json");
        Path out = dir.resolve("out.json");
        dev.dualdeploy.testing.CliBatch.write(in, List.of(
                List.of("deploy", "-f", config, "--stage", "prod", "--image", release.image(), "--no-gate", "--output", "json")));
        String javaBin = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process process = new ProcessBuilder(javaBin, "-cp", System.getProperty("java.class.path"),
                dev.dualdeploy.testing.CliBatch.class.getName(), in.toString(), out.toString()).directory(work.toFile())
                .redirectErrorStream(true).redirectOutput(dir.resolve("jvm.log").toFile()).start();
        assertThat(process.waitFor(120, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
        Run deploy = dev.dualdeploy.testing.CliBatch.read(out).get(0);

        assertThat(deploy.code()).as(deploy.err()).isEqualTo(ExitCodes.BAD_INPUT);
        assertThat(deploy.err()).contains(".dualdeploy is a symbolic link").contains("nothing was changed");
        try (var left = Files.list(elsewhere)) {
            assertThat(left).as("nothing written where the link leads").isEmpty();
        }
        Run status = Cli.run("status", "-f", config, "--stage", "prod", "--output", "json");
        assertThat(status.json().findValuesAsText("digest")).doesNotContain(release.digest());
    }

    private static List<JsonNode> events(Path journal, String run) {
        Run history = Cli.run("history", "--journal", journal.toString(), "--run", run, "--output", "json");
        assertThat(history.code()).as(history.err()).isZero();
        List<JsonNode> list = new ArrayList<>();
        history.json().get("events").forEach(list::add);
        return list;
    }

    private static List<JsonNode> of(List<JsonNode> events, String type) {
        return events.stream().filter(e -> e.get("type").asText().equals(type)).toList();
    }

    private static JsonNode only(List<JsonNode> events, String type) {
        List<JsonNode> found = of(events, type);
        assertThat(found).as(type).hasSize(1);
        return found.get(0);
    }
}
