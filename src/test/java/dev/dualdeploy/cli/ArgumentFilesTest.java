package dev.dualdeploy.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dualdeploy.testing.Cli;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * Issue 8 item 3: a value that starts with '@' is a value, never the name of a file whose words replace it. Before the
 * fix, {@code --image @/proc/self/environ} put the environment (secrets included) into the usage error.
 */
class ArgumentFilesTest {

    static final String SECRET = "planted-secret-7d2f0c41";
    static final String TOKEN = "planted-token-91ab3e55";

    @TempDir
    Path dir;
    private String config;
    private String secrets;

    @BeforeEach
    void plant() throws IOException {
        // Like /proc/self/environ: several words, so an expansion would also add arguments picocli reports as unmatched.
        Path file = dir.resolve("environ");
        Files.writeString(file, "AWS_SECRET_ACCESS_KEY=" + SECRET + "\nMETRICS_TOKEN=" + TOKEN + "\nHOME=/root\n");
        secrets = file.toString();
        Path yaml = dir.resolve("dualdeploy.yaml");
        // Endpoints that nothing listens on: every case below must stop before reaching them.
        Files.writeString(yaml, """
                service: loan-api
                image: registry.example.com/loan-api@sha256:%s
                branches:
                  main: [sandbox, prod]
                stages:
                  - name: sandbox
                    legacy: { ecs: { cluster: sandbox, service: loan-api, container: app, region: eu-west-1, endpoint: 'http://127.0.0.1:9' } }
                    kubernetes: { namespace: loan, deployment: loan-api, container: app }
                  - name: prod
                    kubernetes: { namespace: loan, deployment: loan-api, container: app }
                """.formatted("0".repeat(64)));
        config = yaml.toString();
    }

    @Test
    void anImageOrBranchStartingWithAtIsTakenLiterallyAndNoSecretIsPrinted() {
        Cli.Run deploy = Cli.run("deploy", "-f", config, "--stage", "sandbox", "--image", "@" + secrets, "--output", "json");
        assertThat(deploy.code()).isEqualTo(2);
        assertThat(deploy.err()).contains("'@" + secrets + "' is not a valid OCI image reference");
        assertNoSecret(deploy);

        Cli.Run plan = Cli.run("plan", "-f", config, "--stage", "sandbox", "--image", "@" + secrets);
        assertThat(plan.code()).isEqualTo(2);
        assertThat(plan.err()).contains("'@" + secrets + "' is not a valid OCI image reference");
        assertNoSecret(plan);

        Cli.Run release = Cli.run("release", "--image", "@" + secrets);
        assertThat(release.code()).isEqualTo(2);
        assertThat(release.err()).contains("'@" + secrets + "' is not a valid OCI image reference");
        assertNoSecret(release);

        Cli.Run stages = Cli.run("stages", "-f", config, "--branch", "@" + secrets);
        assertThat(stages.code()).as(stages.err()).isZero();
        assertThat(stages.out()).contains("branch '@" + secrets + "' matches no entry");
        assertNoSecret(stages);
    }

    /**
     * Every option that takes a value, on every subcommand, given '@file': found from the command model, so an option
     * added later is covered too. Each case also carries a value that makes it stop with exit 2 before any network call.
     */
    @Test
    void everyValueOfEverySubcommandIsTakenLiterally() {
        CommandLine root = new CommandLine(new DualDeployCommand());
        List<String> covered = new ArrayList<>();
        for (Map.Entry<String, CommandLine> sub : root.getSubcommands().entrySet()) {
            String command = sub.getKey();
            if (command.equals("help")) {
                continue;
            }
            CommandSpec spec = sub.getValue().getCommandSpec();
            List<List<String>> cases = new ArrayList<>();
            for (OptionSpec option : spec.options()) {
                if (option.arity().max() < 1 || option.type() == Boolean.class || option.type() == boolean.class) {
                    continue;
                }
                cases.add(withStop(command, spec, option.longestName(), List.of(option.longestName(), "@" + secrets)));
            }
            if (!spec.positionalParameters().isEmpty()) {
                cases.add(withStop(command, spec, "", List.of("@" + secrets)));
            }
            for (List<String> args : cases) {
                Cli.Run run = Cli.run(args.toArray(String[]::new));
                assertThat(run.code()).as("%s%n%s", args, run.err()).isEqualTo(2);
                assertNoSecret(run);
                covered.add(String.join(" ", args).replace(secrets, "FILE"));
            }
        }
        assertThat(covered).hasSizeGreaterThan(30);
    }

    /** The case's arguments plus what makes the command stop with exit 2 before the network, whatever the value does. */
    private List<String> withStop(String command, CommandSpec spec, String tested, List<String> value) {
        List<String> args = new ArrayList<>(List.of(command));
        Set<String> names = new TreeSet<>();
        spec.options().forEach(o -> names.add(o.longestName()));
        if (names.contains("--file") && !tested.equals("--file")) {
            args.addAll(List.of("--file", config));
        }
        if (names.contains("--stage") && !tested.equals("--stage")) {
            args.addAll(List.of("--stage", "no-such-stage"));
        }
        switch (command) {
            case "stages" -> {
                if (!tested.equals("--only")) {
                    args.addAll(List.of("--only", "no-such-stage"));
                }
            }
            case "release" -> {
                if (!tested.equals("--image")) {
                    args.addAll(List.of("--image", "Not/A/Valid/Reference"));
                }
            }
            case "local" -> {
                if (!tested.equals("--for")) {
                    args.addAll(List.of("--for", "never"));
                }
            }
            case "bench" -> {
                if (!tested.isEmpty()) {
                    args.add("no-such-benchmark");
                }
            }
            case "demo" -> args.add("--no-such-flag");
            case "history" -> {
                // history reads the journal only: a run id that cannot be one is its exit-2 stop (issue 9).
                if (!tested.equals("--run")) {
                    args.addAll(List.of("--run", "../not-a-run"));
                }
            }
            default -> {
            }
        }
        args.addAll(value);
        return args;
    }

    private static void assertNoSecret(Cli.Run run) {
        assertThat(run.out() + run.err()).doesNotContain(SECRET).doesNotContain(TOKEN);
    }
}
