package dev.dualdeploy.jenkins;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The shell runner the Jenkins steps call (resources/dev/dualdeploy/dualdeploy.sh), run for real by {@code sh}: how
 * values reach the CLI, how the exit code and result come back, and how the CLI is found, cached and verified.
 */
class RunnerScriptTest {

    private static final Path SCRIPT = Path.of("resources/dev/dualdeploy/dualdeploy.sh").toAbsolutePath();

    @TempDir
    Path dir;
    private Path args;
    private Path result;
    private Path home;

    /** What one run of the script did. */
    record Outcome(int code, String result, List<String> args, String log) {
    }

    @BeforeEach
    void fakes() throws IOException {
        args = dir.resolve("args");
        result = dir.resolve(".dualdeploy/result.json");
        home = Files.createDirectories(dir.resolve("home"));
        // A fake CLI and a fake java: both record their arguments NUL-separated and answer like the CLI.
        script("fake-cli", "printf '%s\\0' \"$@\" > \"$ARGS_OUT\"\nprintf '{\"ok\":true}\\n'\necho progress >&2\nexit \"${FAKE_EXIT:-0}\"\n");
        script("fake-java", "printf '%s\\0' \"$@\" > \"$ARGS_OUT\"\nprintf '{\"via\":\"java\"}\\n'\n");
    }

    private Path script(String name, String body) throws IOException {
        Path file = dir.resolve(name);
        Files.writeString(file, "#!/bin/sh\n" + body);
        file.toFile().setExecutable(true);
        return file;
    }

    private Outcome run(Map<String, String> values) throws IOException, InterruptedException {
        ProcessBuilder builder = new ProcessBuilder("sh", SCRIPT.toString()).directory(dir.toFile()).redirectErrorStream(true);
        Map<String, String> env = builder.environment();
        env.keySet().removeIf(k -> k.startsWith("DD_") || k.startsWith("DUALDEPLOY_"));
        env.put("HOME", home.toString());
        env.put("ARGS_OUT", args.toString());
        env.put("DD_RESULT", ".dualdeploy/result.json");
        env.put("DD_CLI_VERSION", "1.2.3");
        env.putAll(values);
        Process process = builder.start();
        String log = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(process.waitFor(30, TimeUnit.SECONDS)).isTrue();
        String raw = Files.exists(args) ? Files.readString(args) : "";
        // Each argument ends with a NUL; an argument may itself be empty or hold newlines.
        List<String> recorded = raw.isEmpty() ? List.of() : List.of(raw.substring(0, raw.length() - 1).split("\0", -1));
        Files.deleteIfExists(args);
        return new Outcome(process.exitValue(), Files.exists(result) ? Files.readString(result) : "", recorded, log);
    }

    @Test
    void hostileValuesReachTheCliAsOneIntactArgumentEachAndNothingElseRuns() throws Exception {
        Map<String, String> hostile = new HashMap<>();
        hostile.put("DD_CLI", dir.resolve("fake-cli").toString());
        hostile.put("DD_COMMAND", "deploy");
        hostile.put("DD_CONFIG", "it's \"quoted\".yaml");
        hostile.put("DD_OVERRIDE", "{\"service\": \"a'b $(touch pwned-override)\"}");
        hostile.put("DD_STAGE", "$(touch pwned-subshell)");
        hostile.put("DD_IMAGE", "`touch pwned-backtick`");
        hostile.put("DD_VERSION", "1.0; touch pwned-semicolon");
        hostile.put("DD_BRANCH", "line one\nline two && touch pwned-newline");
        hostile.put("DD_CHANGE_ID", "${env.SECRET} $HOME");
        hostile.put("DD_LEGACY", "true with spaces");
        hostile.put("DD_KUBERNETES", "false");
        hostile.put("DD_NO_ROLLBACK", "true");

        Outcome outcome = run(hostile);

        assertThat(outcome.code()).as(outcome.log()).isZero();
        assertThat(outcome.args()).containsExactly("deploy",
                "--file", "it's \"quoted\".yaml",
                "--override", "{\"service\": \"a'b $(touch pwned-override)\"}",
                "--stage", "$(touch pwned-subshell)",
                "--image", "`touch pwned-backtick`",
                "--release-version", "1.0; touch pwned-semicolon",
                "--legacy=true with spaces",
                "--kubernetes=false",
                "--branch", "line one\nline two && touch pwned-newline",
                "--change-id", "${env.SECRET} $HOME",
                "--no-rollback",
                "--output", "json");
        try (var files = Files.list(dir)) {
            assertThat(files.map(p -> p.getFileName().toString())).noneMatch(name -> name.startsWith("pwned"));
        }
        assertThat(outcome.result().strip()).isEqualTo("{\"ok\":true}");
        assertThat(outcome.log()).contains("progress");
    }

    /** The cutover's goal: DD_TO becomes one --to argument, intact; DD_NEXT=true (and nothing else) becomes --next. */
    @Test
    void cutoverGoalsReachTheCliAsToAndNext() throws Exception {
        String cli = dir.resolve("fake-cli").toString();
        Outcome to = run(Map.of("DD_CLI", cli, "DD_COMMAND", "cutover", "DD_STAGE", "prod", "DD_TO", "25 $(touch pwned-to)",
                "DD_WAIT_LOCK", "10m", "DD_JUNIT", ".dualdeploy/cutover-prod-1.xml"));
        Outcome next = run(Map.of("DD_CLI", cli, "DD_COMMAND", "cutover", "DD_STAGE", "prod", "DD_NEXT", "true"));
        Outcome notTrue = run(Map.of("DD_CLI", cli, "DD_COMMAND", "cutover", "DD_STAGE", "prod", "DD_NEXT", "yes"));
        Outcome revert = run(Map.of("DD_CLI", cli, "DD_COMMAND", "cutover", "DD_STAGE", "prod", "DD_REVERT", "true"));

        assertThat(to.code()).as(to.log()).isZero();
        assertThat(to.args()).containsExactly("cutover", "--stage", "prod", "--to", "25 $(touch pwned-to)", "--wait-lock", "10m",
                "--junit", ".dualdeploy/cutover-prod-1.xml", "--output", "json");
        assertThat(next.args()).containsExactly("cutover", "--stage", "prod", "--next", "--output", "json");
        assertThat(notTrue.args()).containsExactly("cutover", "--stage", "prod", "--output", "json");
        assertThat(revert.args()).containsExactly("cutover", "--stage", "prod", "--revert", "--output", "json");
        try (var files = Files.list(dir)) {
            assertThat(files.map(p -> p.getFileName().toString())).noneMatch(name -> name.startsWith("pwned"));
        }
    }

    @Test
    void theCliExitCodeAndResultComeBack() throws Exception {
        Outcome outcome = run(Map.of("DD_CLI", dir.resolve("fake-cli").toString(), "DD_COMMAND", "deploy", "FAKE_EXIT", "1"));

        assertThat(outcome.code()).isEqualTo(1);
        assertThat(outcome.result().strip()).isEqualTo("{\"ok\":true}");
    }

    /** Issue 8 item 20: a CLI that exits without a result (a rejected value) leaves an error result, not an empty file. */
    @Test
    void aCliThatWritesNothingLeavesAnErrorResult() throws Exception {
        script("silent-cli", "echo 'error: --legacy: yes is not a boolean' >&2\nexit \"${FAKE_EXIT:-0}\"\n");

        Outcome failed = run(Map.of("DD_CLI", dir.resolve("silent-cli").toString(), "DD_COMMAND", "deploy", "FAKE_EXIT", "2"));
        Outcome succeeded = run(Map.of("DD_CLI", dir.resolve("silent-cli").toString(), "DD_COMMAND", "deploy"));

        assertThat(failed.code()).isEqualTo(2);
        assertThat(failed.result().strip()).isEqualTo("{\"command\":\"deploy\",\"exitCode\":2,\"error\":\"dualdeploy deploy exited 2"
                + " and wrote no result; see the log above\"}");
        assertThat(failed.log()).contains("error: --legacy: yes is not a boolean");
        assertThat(succeeded.code()).as("a success without a result is a bug").isEqualTo(70);
        assertThat(succeeded.result()).contains("\"exitCode\":70,\"error\":\"dualdeploy deploy exited 0 and wrote no result");
    }

    /** Issue 8 item 6: a result or JUnit path outside .dualdeploy/ is refused before anything runs or is written. */
    @Test
    void resultPathsOutsideTheResultsDirectoryAreRefused() throws Exception {
        String cli = dir.resolve("fake-cli").toString();
        for (String path : List.of("../../../x.json", ".dualdeploy/../x.json", ".dualdeploy/../../x.json", "x.json",
                "/tmp/x.json", ".dualdeploy/a/b.json", ".dualdeploy/rollback-prod\nx.json", ".dualdeploy/", ".dualdeploy/..")) {
            Outcome outcome = run(Map.of("DD_CLI", cli, "DD_COMMAND", "rollback", "DD_RESULT", path));
            assertThat(outcome.code()).as(path).isEqualTo(2);
            assertThat(outcome.log()).as(path).contains("refusing DD_RESULT: it must name a file directly in .dualdeploy/");
            assertThat(outcome.args()).as("the CLI did not run for " + path).isEmpty();
        }
        Outcome junit = run(Map.of("DD_CLI", cli, "DD_COMMAND", "deploy", "DD_JUNIT", ".dualdeploy/../gate.xml"));
        assertThat(junit.code()).isEqualTo(2);
        assertThat(junit.log()).contains("refusing DD_JUNIT");
        assertThat(junit.args()).isEmpty();
        try (var files = Files.list(dir)) {
            assertThat(files.map(p -> p.getFileName().toString())).containsExactlyInAnyOrder("fake-cli", "fake-java", "home");
        }
        assertThat(dir.getParent().resolve("x.json")).doesNotExist();

        Outcome inside = run(Map.of("DD_CLI", cli, "DD_COMMAND", "deploy", "DD_RESULT", ".dualdeploy/deploy-prod.json",
                "DD_JUNIT", ".dualdeploy/gate-prod.xml"));
        assertThat(inside.code()).as(inside.log()).isZero();
        assertThat(dir.resolve(".dualdeploy/deploy-prod.json")).hasContent("{\"ok\":true}");
    }

    @Test
    void withNothingConfiguredItSaysWhichOfTheThreeToSet() throws Exception {
        Outcome outcome = run(Map.of("DD_COMMAND", "status"));

        assertThat(outcome.code()).isEqualTo(2);
        assertThat(outcome.log()).contains("cannot find the dualdeploy CLI 1.2.3: set the step's cli: parameter or DUALDEPLOY_CLI"
                + " to its path, or DUALDEPLOY_REPOSITORY");
        assertThat(outcome.result()).startsWith("{\"command\":\"status\",\"exitCode\":2,\"error\":\"cannot find the dualdeploy CLI");
    }

    @Test
    void anExplicitPathThatDoesNotExistIsAnError() throws Exception {
        Outcome outcome = run(Map.of("DUALDEPLOY_CLI", "/nowhere/dualdeploy.jar", "DD_COMMAND", "status"));

        assertThat(outcome.code()).isEqualTo(2);
        assertThat(outcome.log()).contains("the CLI at '/nowhere/dualdeploy.jar' does not exist");
    }

    @Test
    void aJarIsRunWithJavaAndTheCachedCopyIsUsed() throws Exception {
        Path cached = Files.createDirectories(home.resolve(".cache/dualdeploy/1.2.3")).resolve("dualdeploy-1.2.3.jar");
        Files.writeString(cached, "jar");

        Outcome outcome = run(Map.of("DD_JAVA", dir.resolve("fake-java").toString(), "DD_COMMAND", "status", "DD_CHECK", "true"));

        assertThat(outcome.code()).as(outcome.log()).isZero();
        assertThat(outcome.args()).containsExactly("-jar", cached.toString(), "status", "--check", "--output", "json");
        assertThat(outcome.result().strip()).isEqualTo("{\"via\":\"java\"}");
    }

    @Test
    void aDownloadIsVerifiedAgainstItsChecksumThenCachedAndReused() throws Exception {
        byte[] jar = "the real jar".getBytes(StandardCharsets.UTF_8);
        AtomicInteger downloads = new AtomicInteger();
        HttpServer repository = serve(Map.of(
                "/repo/dev/dualdeploy/dualdeploy/1.2.3/dualdeploy-1.2.3.jar", jar,
                "/repo/dev/dualdeploy/dualdeploy/1.2.3/dualdeploy-1.2.3.jar.sha256", (sha256(jar) + "  dualdeploy-1.2.3.jar\n").getBytes()),
                downloads);
        try {
            Map<String, String> env = Map.of("DD_JAVA", dir.resolve("fake-java").toString(), "DD_COMMAND", "status",
                    "DUALDEPLOY_REPOSITORY", "http://127.0.0.1:" + repository.getAddress().getPort() + "/repo/");
            Outcome first = run(env);
            Outcome second = run(env);

            Path cached = home.resolve(".cache/dualdeploy/1.2.3/dualdeploy-1.2.3.jar");
            assertThat(first.code()).as(first.log()).isZero();
            assertThat(first.log()).contains("downloading the CLI 1.2.3").contains("cached the CLI in " + cached);
            assertThat(Files.readAllBytes(cached)).isEqualTo(jar);
            assertThat(first.args()).containsExactly("-jar", cached.toString(), "status", "--output", "json");
            assertThat(second.log()).doesNotContain("downloading");
            assertThat(downloads.get()).as("the jar was fetched once").isEqualTo(1);
        } finally {
            repository.stop(0);
        }
    }

    @Test
    void aDownloadThatDoesNotMatchItsChecksumIsRefusedAndNotCached() throws Exception {
        byte[] jar = "tampered jar".getBytes(StandardCharsets.UTF_8);
        HttpServer repository = serve(Map.of(
                "/dev/dualdeploy/dualdeploy/1.2.3/dualdeploy-1.2.3.jar", jar,
                "/dev/dualdeploy/dualdeploy/1.2.3/dualdeploy-1.2.3.jar.sha1", "0000000000000000000000000000000000000000".getBytes()),
                new AtomicInteger());
        try {
            Outcome outcome = run(Map.of("DD_JAVA", dir.resolve("fake-java").toString(), "DD_COMMAND", "status",
                    "DUALDEPLOY_REPOSITORY", "http://127.0.0.1:" + repository.getAddress().getPort()));

            assertThat(outcome.code()).isEqualTo(2);
            assertThat(outcome.log()).contains("does not match its .sha1 checksum; nothing was cached");
            assertThat(outcome.args()).as("nothing ran").isEmpty();
            try (var files = Files.list(home.resolve(".cache/dualdeploy/1.2.3"))) {
                assertThat(files).isEmpty();
            }
        } finally {
            repository.stop(0);
        }
    }

    /**
     * Issue 8 item 3: through this script and the real CLI, {@code DD_IMAGE} or {@code DD_BRANCH} set to
     * '@/proc/self/environ' is a value like any other. Before the fix the CLI replaced it by its own environment and
     * printed every variable, the AWS secret included, in the usage error.
     */
    @Test
    void anAtFileValueReachesTheRealCliAsAValueAndNoEnvironmentIsPrinted() throws Exception {
        String secret = "planted-aws-secret-5c0e19d2";
        Path config = dir.resolve("dualdeploy.yaml");
        Files.writeString(config, """
                service: loan-api
                image: registry.example.com/loan-api@sha256:%s
                branches:
                  main: [sandbox]
                stages:
                  - { name: sandbox, kubernetes: { namespace: loan, deployment: loan-api, container: app } }
                """.formatted("0".repeat(64)));
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Path cli = script("real-cli", "exec '" + java + "' -cp '" + System.getProperty("java.class.path")
                + "' dev.dualdeploy.cli.Main \"$@\"\n");

        Outcome deploy = run(Map.of("DD_CLI", cli.toString(), "DD_COMMAND", "deploy", "DD_CONFIG", config.toString(),
                "DD_STAGE", "sandbox", "DD_IMAGE", "@/proc/self/environ", "AWS_SECRET_ACCESS_KEY", secret));
        assertThat(deploy.code()).as(deploy.log()).isEqualTo(2);
        assertThat(deploy.log()).contains("'@/proc/self/environ' is not a valid OCI image reference").doesNotContain(secret);
        assertThat(deploy.result()).contains("\"exitCode\" : 2").doesNotContain(secret);

        Outcome stages = run(Map.of("DD_CLI", cli.toString(), "DD_COMMAND", "stages", "DD_CONFIG", config.toString(),
                "DD_BRANCH", "@/proc/self/environ", "AWS_SECRET_ACCESS_KEY", secret));
        assertThat(stages.code()).as(stages.log()).isZero();
        assertThat(stages.result()).contains("\"branch\" : \"@/proc/self/environ\"").doesNotContain(secret);
        assertThat(stages.log()).doesNotContain(secret);
    }

    private static HttpServer serve(Map<String, byte[]> files, AtomicInteger jarRequests) throws IOException {
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", exchange -> {
            try (exchange) {
                byte[] body = files.get(exchange.getRequestURI().getPath());
                if (exchange.getRequestURI().getPath().endsWith(".jar")) {
                    jarRequests.incrementAndGet();
                }
                if (body == null) {
                    exchange.sendResponseHeaders(404, -1);
                    return;
                }
                exchange.sendResponseHeaders(200, body.length);
                exchange.getResponseBody().write(body);
            }
        });
        server.start();
        return server;
    }

    private static String sha256(byte[] bytes) throws NoSuchAlgorithmException {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    }
}
