package dev.dualdeploy.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.dualdeploy.local.LocalEnvironment;
import dev.dualdeploy.release.Release;
import dev.dualdeploy.testing.Cli;
import dev.dualdeploy.testing.Cli.Run;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code release}, {@code deploy} and {@code local} against the local environment, the way a person tries them. */
class LocalCommandTest {

    private static LocalEnvironment env;
    private static String config;

    @TempDir
    Path tmp;

    @BeforeAll
    static void start(@TempDir Path dir) {
        env = LocalEnvironment.start(dir, "0.9.0", 2, 0);
        config = env.config().toString();
    }

    @AfterAll
    static void stop() {
        env.close();
    }

    /** Issue 8 item 17: the release the Jenkins step resolves is the digest the local environment then runs. */
    @Test
    void releaseResolvesATagAndChecksADigestThroughTheLocalRegistryAndDeployRunsIt() throws IOException {
        Release expected = env.release("1.0.0");
        String repository = env.registry().repository();
        assertThat(Files.readString(env.config())).contains("image: " + repository + "\n");

        Run byTag = Cli.run("release", "--image", repository + ":1.0.0");
        Run byDigest = Cli.run("release", "--image", expected.image(), "--output", "json");

        assertThat(byTag.code()).as(byTag.err()).isZero();
        assertThat(byTag.out().strip()).isEqualTo(expected.image());
        assertThat(byDigest.code()).as(byDigest.err()).isZero();
        assertThat(byDigest.json().get("digest").asText()).isEqualTo(expected.digest());

        Run deploy = Cli.run("deploy", "-f", config, "--stage", "sandbox", "--image", byTag.out().strip(),
                "--release-version", "1.0.0", "--output", "json");
        assertThat(deploy.code()).as(deploy.err()).isZero();
        JsonNode json = deploy.json();
        assertThat(json.get("parity").get("status").asText()).isEqualTo("PARITY");
        assertThat(json.get("sides").findValues("digest")).hasSize(2)
                .allSatisfy(d -> assertThat(d.asText()).isEqualTo(expected.digest()));
    }

    /** Issue 8 item 17: a tag or a digest the registry does not have is bad input, not a fault. */
    @Test
    void anUnknownTagOrATypoedDigestIsExit2() {
        String repository = env.registry().repository();
        String digest = env.release("1.0.0").digest();
        String typo = digest.substring(0, digest.length() - 1) + (digest.endsWith("0") ? "1" : "0");

        Run badTag = Cli.run("release", "--image", repository + ":9.9.9");
        Run badDigest = Cli.run("release", "--image", repository + "@" + typo);

        assertThat(badTag.code()).isEqualTo(2);
        assertThat(badTag.err()).contains("not found in " + env.registry().host());
        assertThat(badDigest.code()).isEqualTo(2);
        assertThat(badDigest.err()).contains("(no such repository or digest)");
    }

    /** Issue 8 item 17: an unreachable registry is named with its cause in words, never "null". */
    @Test
    void anUnreachableRegistryIsExit4WithTheCauseInWords() {
        String closed = "127.0.0.1:1/loan-api:1.0.0";

        Run run = Cli.run("release", "--image", closed);

        assertThat(run.code()).isEqualTo(4);
        assertThat(run.err()).contains("cannot reach 127.0.0.1:1: connection refused").doesNotContain("null");
    }

    /** Issue 8 item 18: a release marked broken with {@code local --break} fails fast under a real deploy and is rolled back. */
    @Test
    void localBreakMakesARealDeployFailFastAndRollBack() throws Exception {
        Path dir = tmp.resolve("local");
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        ExecutorService thread = Executors.newSingleThreadExecutor();
        Future<Integer> local = thread.submit(() -> DualDeployCommand.run(new String[] {"local", "--dir", dir.toString(),
                "--break", "1.1.0=crash:kubernetes", "--for", "5m"}, new PrintWriter(out, true), new PrintWriter(err, true)));
        try {
            Awaitility.await().atMost(Duration.ofSeconds(60)).until(() -> out.toString().contains("Stopping in") || local.isDone());
            assertThat(out.toString()).as(err.toString()).contains("broken          1.1.0 (")
                    .contains("fails to run (it crashes) on kubernetes");
            Matcher registry = Pattern.compile("registry        http://(\\S+)").matcher(out.toString());
            assertThat(registry.find()).isTrue();
            String repository = registry.group(1) + "/loan-api";
            String localConfig = dir.resolve("dualdeploy.yaml").toString();
            String good = Cli.run("release", "--image", repository + ":1.0.0").out().strip();
            String bad = Cli.run("release", "--image", repository + ":1.1.0").out().strip();
            assertThat(Cli.run("deploy", "-f", localConfig, "--stage", "sandbox", "--image", good).code()).isZero();

            Run run = Cli.run("deploy", "-f", localConfig, "--stage", "sandbox", "--image", bad, "--output", "json");

            assertThat(run.code()).as(run.err()).isEqualTo(1);
            JsonNode json = run.json();
            assertThat(json.get("outcome").asText()).isEqualTo("ROLLED_BACK");
            assertThat(json.get("reason").asText()).contains("CrashLoopBackOff");
            assertThat(json.get("sides").findValues("running")).allSatisfy(r ->
                    assertThat(r.get("digest").asText()).isEqualTo(good.substring(good.indexOf('@') + 1)));
            JsonNode kubernetes = json.get("sides").findParents("side").stream()
                    .filter(s -> s.get("side").asText().equals("kubernetes")).findFirst().orElseThrow();
            assertThat(kubernetes.get("rollout").get("status").asText()).isEqualTo("FAILED");

            // While it runs: 'local break' marks another release, and the next deploy of it fails and rolls back too.
            Run marked = Cli.run("local", "break", "--dir", dir.toString(), "1.1.1=pull:legacy");
            assertThat(marked.code()).as(marked.err()).isZero();
            assertThat(marked.out()).contains("broken: 1.1.1 (").contains("fails to pull on legacy");
            Run refused = Cli.run("local", "break", "--dir", dir.toString(), "6.6.6=pull");
            assertThat(refused.code()).isEqualTo(2);
            assertThat(refused.err()).contains("--break: '6.6.6' is not a tag of the local registry");
            String unpullable = Cli.run("release", "--image", repository + ":1.1.1").out().strip();
            Run pull = Cli.run("deploy", "-f", localConfig, "--stage", "sandbox", "--image", unpullable, "--output", "json");
            assertThat(pull.code()).as(pull.err()).isEqualTo(1);
            assertThat(pull.json().get("reason").asText()).contains("CannotPullContainerError");
        } finally {
            thread.shutdownNow();
        }
    }

    /** Issue 8 item 18: a break that names no sample release, or no way to fail, is exit 2 before anything starts. */
    @Test
    void aBadBreakIsExit2() {
        Run unknownHow = Cli.run("local", "--dir", tmp.resolve("a").toString(), "--break", "1.1.0=slow", "--for", "1s");
        Run unknownTag = Cli.run("local", "--dir", tmp.resolve("b").toString(), "--break", "7.7.7=crash", "--for", "1s");

        assertThat(unknownHow.code()).isEqualTo(2);
        assertThat(unknownHow.err()).contains("--break: 'slow' in '1.1.0=slow' is not a way to fail; use pull, crash, errors or overload");
        assertThat(unknownTag.code()).isEqualTo(2);
        assertThat(unknownTag.err()).contains("--break: '7.7.7' is not a tag of the local registry; its tags are [0.9.0");
    }

    /** Issue 8 item 18: {@code local break} with no environment running says so (exit 4), naming the directory. */
    @Test
    void localBreakWithoutARunningEnvironmentIsExit4() {
        Run run = Cli.run("local", "break", "--dir", tmp.resolve("none").toString(), "1.1.0=crash");

        assertThat(run.code()).isEqualTo(4);
        assertThat(run.err()).contains("no local environment is running with --dir " + tmp.resolve("none"));
    }

    /** Issue 8 item 12: {@code local --dir} on a file is bad input naming the path, not a bug. */
    @Test
    void localDirOnAFileIsExit2NamingThePath() throws IOException {
        Path file = Files.writeString(tmp.resolve("not-a-dir"), "x");

        Run run = Cli.run("local", "--dir", file.toString(), "--for", "1s");

        assertThat(run.code()).isEqualTo(2);
        assertThat(run.err()).contains("error: --dir: '" + file + "' is a file, not a directory");
        Run demo = Cli.run("demo", "--dir", file.toString());
        assertThat(demo.code()).isEqualTo(2);
        assertThat(demo.err()).contains("error: --dir: '" + file + "' is a file, not a directory");
    }

    /** Issue 8 item 9 (found by the review): {@code local --for 9223372036854775807s} was exit 70, "long overflow". */
    @Test
    void aForOutOfRangeIsExit2BeforeAnythingStarts() {
        for (String value : List.of("9223372036854775807s", "0s", "200h")) {
            Run run = Cli.run("local", "--dir", tmp.resolve("for").toString(), "--for", value);

            assertThat(run.code()).as(value).isEqualTo(2);
            assertThat(run.err()).as(value).startsWith("error: --for: '" + value + "' is not a duration from 1s to 168h (a week)");
            assertThat(run.out()).as(value).isEmpty();
        }
    }
}
