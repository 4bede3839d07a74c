package dev.dualdeploy.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.dualdeploy.testing.Cli;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * How a rejected command line is reported: issue 8 item 20 (every exit writes the error JSON under
 * {@code --output json}, so the Jenkins step gets the CLI's reason) and item 13 (one line and a hint instead of the
 * usage block; control characters escaped).
 */
class UsageErrorsTest {

    static final String DIGEST = "sha256:" + "0".repeat(64);

    @TempDir
    Path dir;
    private String config;

    @BeforeEach
    void write() throws IOException {
        Path yaml = dir.resolve("dualdeploy.yaml");
        Files.writeString(yaml, """
                service: loan-api
                image: registry.example.com/loan-api@%s
                branches:
                  main: [sandbox]
                stages:
                  - name: sandbox
                    legacy: { ecs: { cluster: sandbox, service: loan-api, container: app, region: eu-west-1, endpoint: 'http://127.0.0.1:9' } }
                    kubernetes: { namespace: loan, deployment: loan-api, container: app }
                    gate:
                      soak: 10s
                      interval: 5s
                      checks:
                        - http: { url: 'http://127.0.0.1:9/health' }
                """.formatted(DIGEST));
        config = yaml.toString();
    }

    /** The step's usage errors of the issue, and one of each class picocli rejects, on every subcommand that has it. */
    @Test
    void aRejectedCommandLineIsOneErrorLineAHintAndTheErrorJson() {
        record Case(String command, List<String> args, String reason) {
        }
        List<Case> cases = new ArrayList<>();
        cases.add(new Case("rollback", List.of("--stage", "sandbox", "--side", "sideways"),
                "Invalid value for option '--side': expected one of [legacy, kubernetes, both] (case-sensitive) but was 'sideways'"));
        cases.add(new Case("gate", List.of("--stage", "sandbox", "--side", "sideways"), "sideways"));
        cases.add(new Case("deploy", List.of("--stage", "sandbox", "--legacy=yes"), "Invalid value for option '--legacy': 'yes' is not a boolean"));
        cases.add(new Case("deploy", List.of("--stage", "sandbox", "--image", "Registry/Loan@sha256:1"),
                "'Registry/Loan@sha256:1' is not a valid OCI image reference"));
        cases.add(new Case("plan", List.of("--stage", "sandbox", "--image", "registry.example.com/loan-api:1.0"), "is not pinned to a digest"));
        cases.add(new Case("release", List.of("--image", "Registry/Loan:1"), "'Registry/Loan:1' is not a valid OCI image reference"));
        cases.add(new Case("deploy", List.of(), "Missing required option: '--stage=NAME'"));
        cases.add(new Case("gate", List.of(), "Missing required option: '--stage=NAME'"));
        cases.add(new Case("rollback", List.of(), "Missing required option: '--stage=NAME'"));
        cases.add(new Case("plan", List.of(), "Missing required option: '--stage=NAME'"));
        cases.add(new Case("release", List.of(), "Missing required option: '--image=REF'"));
        cases.add(new Case("status", List.of("--stage", "qa"), "no stage 'qa' in " + config + "; stages are [sandbox]"));
        cases.add(new Case("stages", List.of("--stop-after", "prod", "--branch", "main"), "--stop-after: 'prod' is not in the chain [sandbox]"));
        for (String command : List.of("validate", "stages", "plan", "deploy", "gate", "status", "rollback")) {
            cases.add(new Case(command, List.of("--stage", "sandbox", "--colour"), "Unknown option: '--colour'"));
        }
        cases.add(new Case("release", List.of("--image", "x", "--colour"), "Unknown option: '--colour'"));
        cases.add(new Case("deploy", List.of("--stage", "sandbox", "--stage", "prod"), "option '--stage' (NAME) should be specified only once"));

        for (Case c : cases) {
            List<String> args = new ArrayList<>(List.of(c.command()));
            if (!c.command().equals("release")) {
                args.addAll(List.of("-f", config));
            }
            args.addAll(c.args());
            // validate and stages have no --stage: the unknown option is then --stage, reported first.
            String reason = List.of("validate", "stages").contains(c.command()) && c.reason().startsWith("Unknown option")
                    ? "Unknown options: '--stage', 'sandbox', '--colour'" : c.reason();

            Cli.Run text = Cli.run(args.toArray(String[]::new));
            assertThat(text.code()).as("%s%n%s", args, text.err()).isEqualTo(2);
            assertThat(text.out()).as("stdout of %s", args).isEmpty();
            List<String> lines = text.err().lines().toList();
            assertThat(lines).as("%s", args).hasSize(2);
            assertThat(lines.get(0)).startsWith("error: ").contains(reason);
            assertThat(lines.get(1)).isEqualTo("hint: see 'dualdeploy " + c.command() + " --help'");

            args.addAll(List.of("--output", "json"));
            Cli.Run json = Cli.run(args.toArray(String[]::new));
            assertThat(json.code()).isEqualTo(2);
            JsonNode result = json.json();
            assertThat(result.get("command").asText()).isEqualTo(c.command());
            assertThat(result.get("exitCode").asInt()).isEqualTo(2);
            assertThat("error: " + result.get("error").asText()).as("%s", args).isEqualTo(json.err().lines().findFirst().orElseThrow());
        }
    }

    @Test
    void aConfigProblemReachesTheJsonOfEveryCommandThatReadsTheConfig() throws IOException {
        Path bad = dir.resolve("bad.yaml");
        Files.writeString(bad, Files.readString(Path.of(config)).replace("service: loan-api\n", "service: loan-api\ncolour: blue\n"));
        for (String command : List.of("validate", "stages", "plan", "deploy", "gate", "status", "rollback")) {
            List<String> args = new ArrayList<>(List.of(command, "-f", bad.toString(), "--output", "json"));
            if (List.of("plan", "deploy", "gate", "rollback").contains(command)) {
                args.addAll(List.of("--stage", "sandbox"));
            }
            Cli.Run run = Cli.run(args.toArray(String[]::new));
            assertThat(run.code()).as(command).isEqualTo(2);
            JsonNode json = run.json();
            assertThat(json.get("command").asText()).isEqualTo(command);
            assertThat(json.get("exitCode").asInt()).isEqualTo(2);
            assertThat(json.get("error").asText()).startsWith(bad + ": colour: unknown key");
            assertThat(json.get("problems").get(0).get("path").asText()).isEqualTo("colour");
            assertThat(json.get("problems").get(0).get("file").asText()).isEqualTo(bad.toString());
            assertThat(run.err()).startsWith("error: " + bad + ": colour: unknown key");
        }
    }

    @Test
    void controlCharactersInAValueAreEscapedInTheErrorLineAndTheJson() {
        Cli.Run stage = Cli.run("deploy", "-f", config, "--stage", "qa\nerror: forged\u0000\u001b[31m\t\u202e", "--output", "json");
        assertThat(stage.code()).isEqualTo(2);
        assertThat(stage.err().lines()).containsExactly(
                "error: no stage 'qa\\nerror: forged\\u0000\\u001b[31m\\t\\u202e' in " + config + "; stages are [sandbox]",
                "hint: see 'dualdeploy deploy --help'");
        assertThat(stage.json().get("error").asText()).isEqualTo(
                "no stage 'qa\\nerror: forged\\u0000\\u001b[31m\\t\\u202e' in " + config + "; stages are [sandbox]");

        Cli.Run option = Cli.run("status", "-f", config, "--col\nour\u0007");
        assertThat(option.err().lines()).containsExactly("error: Unknown option: '--col\\nour\\u0007'",
                "hint: see 'dualdeploy status --help'");

        Cli.Run file = Cli.run("validate", "-f", dir.resolve("no\nsuch\rfile.yaml").toString());
        assertThat(file.code()).isEqualTo(2);
        assertThat(file.err().lines()).hasSize(1);
        assertThat(file.err().strip()).contains("no\\nsuch\\rfile.yaml").doesNotContain("\n").doesNotContain("\r");

        Cli.Run branch = Cli.run("stages", "-f", config, "--branch", "feature\n\u001b]0;title\u0007");
        assertThat(branch.code()).isZero();
        assertThat(branch.out()).startsWith("branch 'feature\\n\\u001b]0;title\\u0007' matches no entry");
    }

    @Test
    void aValueOfMegabytesIsClippedInTheErrorLine() {
        Cli.Run run = Cli.run("status", "-f", config, "--stage", "q".repeat(1_000_000));
        assertThat(run.code()).isEqualTo(2);
        String line = run.err().lines().findFirst().orElseThrow();
        assertThat(line.length()).isLessThan(2_100);
        assertThat(line).endsWith("more characters)");
    }

    /** Issue 8 item 13 (found by the review): a version label with a newline or an escape forged plan and deploy lines. */
    @Test
    void aVersionLabelThatIsNotOnePrintableLineIsBadInput() {
        String image = "registry.example.com/loan-api@" + DIGEST;
        for (String command : List.of("plan", "deploy")) {
            Cli.Run forged = Cli.run(command, "-f", config, "--stage", "sandbox", "--image", image,
                    "--release-version", "1.0\u001b[2J\nFAKE LINE", "--output", "json");
            assertThat(forged.code()).isEqualTo(2);
            assertThat(forged.err().lines()).containsExactly("error: --release-version: '1.0\\u001b[2J\\nFAKE LINE' contains a"
                    + " control or format character; a version label is one line of printable text (for example --release-version 1.4.2)",
                    "hint: see 'dualdeploy " + command + " --help'");
            assertThat(forged.json().get("exitCode").asInt()).isEqualTo(2);
        }
        Cli.Run huge = Cli.run("plan", "-f", config, "--stage", "sandbox", "--image", image, "--release-version", "v".repeat(129));
        assertThat(huge.code()).isEqualTo(2);
        assertThat(huge.err()).startsWith("error: --release-version: a label of 129 characters is longer than 128");
        Cli.Run empty = Cli.run("plan", "-f", config, "--stage", "sandbox", "--image", image, "--release-version", " ");
        assertThat(empty.code()).isEqualTo(2);
        assertThat(empty.err()).startsWith("error: --release-version: the label is empty");
    }

}
