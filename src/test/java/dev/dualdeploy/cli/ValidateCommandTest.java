package dev.dualdeploy.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dualdeploy.testing.Cli;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Every class of config error ends `validate` (and every other command) with exit code 2 and a located message. */
class ValidateCommandTest {

    private static final String VALID = """
            service: loan-api
            image: registry.example.com/loan-api
            stages:
              - name: sandbox
                legacy:
                  ecs: { cluster: sandbox, service: loan-api, container: app, region: eu-west-1 }
                kubernetes: { namespace: loan, deployment: loan-api, container: app }
                timeout: 10m
              - name: prod
                kubernetes: { namespace: loan, deployment: loan-api, container: app }
            """;

    static Stream<Arguments> errors() {
        return Stream.of(
                Arguments.of("unknown key", VALID.replace("timeout: 10m", "timeout: 10m\n    colour: blue"),
                        "stages[0].colour: unknown key; expected one of [approval, cutover, deploy, gate, kubernetes, legacy, name, timeout]"),
                Arguments.of("missing key", VALID.replaceFirst("deployment: loan-api, ", ""),
                        "stages[0].kubernetes.deployment: missing required key (for example: deployment: loan-api)"),
                Arguments.of("duplicate stage", VALID.replace("name: prod", "name: sandbox"),
                        "stages[1].name: duplicate stage name 'sandbox'; stage names must be unique"),
                Arguments.of("toggle without side", VALID.replace("  - name: prod\n", "  - name: prod\n    deploy: { legacy: true }\n"),
                        "stages[1].deploy.legacy: the toggle is on but the stage has no 'legacy' section"),
                Arguments.of("ecs and vm", VALID.replace("region: eu-west-1 }", "region: eu-west-1 }\n      vm: { hosts: [vm1] }"),
                        "stages[0].legacy: a legacy side is either ecs or vm, not both"),
                Arguments.of("bad duration", VALID.replace("timeout: 10m", "timeout: 10 minutes"),
                        "stages[0].timeout: '10 minutes' is not a duration"),
                Arguments.of("issue 8 item 9: a timeout that overflows later", VALID.replace("timeout: 10m", "timeout: 9223372036854775807s"),
                        "stages[0].timeout: '9223372036854775807s' is not a duration from 1s to 24h"),
                Arguments.of("bad image", VALID.replace("image: registry.example.com/loan-api", "image: Registry.example.com/Loan"),
                        "image: 'Registry.example.com/Loan' is not a valid OCI image reference"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("errors")
    void isExitCode2WithTheFileThePathAndTheFix(String name, String yaml, String expected, @TempDir Path dir) throws IOException {
        Path file = dir.resolve("dualdeploy.yaml");
        Files.writeString(file, yaml);

        Cli.Run validate = Cli.run("validate", "-f", file.toString());
        Cli.Run deploy = Cli.run("deploy", "-f", file.toString(), "--stage", "sandbox",
                "--image", "registry.example.com/loan-api@sha256:" + "a".repeat(64));

        assertThat(validate.code()).isEqualTo(2);
        assertThat(validate.err()).startsWith("error: " + file + ": ").contains(expected);
        assertThat(deploy.code()).as("every command validates before touching anything").isEqualTo(2);
        assertThat(deploy.err()).contains(expected);
    }
}
