package dev.dualdeploy.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dualdeploy.testing.Cli;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Model.OptionSpec;

/** Issue 8 item 29: every line of {@code --help} says something whole and true for its command. */
class HelpTextTest {

    @Test
    void theTopLevelHelpListsEverySubcommandWithAWholeSentence() {
        Cli.Run help = Cli.run("--help");
        assertThat(help.code()).isZero();
        // The summary is the first description line; a description split mid-sentence was cut there ("... in the").
        for (Map.Entry<String, CommandLine> sub : new CommandLine(new DualDeployCommand()).getSubcommands().entrySet()) {
            if (sub.getKey().equals("help")) {
                continue; // picocli's own, summarised by its header
            }
            String[] description = sub.getValue().getCommandSpec().usageMessage().description();
            assertThat(description).as(sub.getKey()).isNotEmpty();
            assertThat(description[0]).as("the summary of %s", sub.getKey()).matches("(?s)[A-Z].*[.…]");
        }
        assertThat(help.out().replaceAll("\\s+", " ")).contains("demo Run a sample service through sandbox, preprod, beta and prod on"
                + " ECS and Kubernetes in the embedded local environment, then two broken releases that must be caught and rolled back.");
    }

    @Test
    void everySubcommandsHelpDescribesEveryOption() {
        for (Map.Entry<String, CommandLine> sub : new CommandLine(new DualDeployCommand()).getSubcommands().entrySet()) {
            Cli.Run help = Cli.run(sub.getKey(), "--help");
            assertThat(help.code()).as(sub.getKey()).isZero();
            assertThat(help.out()).as(sub.getKey()).contains("Usage: dualdeploy " + sub.getKey()).doesNotContain("${");
            for (OptionSpec option : sub.getValue().getCommandSpec().options()) {
                assertThat(String.join(" ", option.description())).as("%s %s", sub.getKey(), option.longestName()).isNotBlank();
            }
        }
    }

    @Test
    void gateSaysItJudgesTheSidesItDoesNotDeployToThem() {
        String gate = Cli.run("gate", "--help").out().replaceAll("\\s+", " ");
        assertThat(gate).contains("--legacy[=BOOL] Judge the legacy side", "--kubernetes[=BOOL] Judge the Kubernetes side")
                .doesNotContain("Deploy to");
        assertThat(Cli.run("deploy", "--help").out().replaceAll("\\s+", " ")).contains("--legacy[=BOOL] Deploy to the legacy side");
    }

    /**
     * Issue 8 item 29 (found by the review): a bare % in a description ("default 20%") is a format conversion to
     * picocli, which then printed six WARN lines on stderr around {@code local --help}. picocli writes them to the
     * process's own stderr, so the help runs in a JVM of its own.
     */
    @Test
    void localHelpIsWrittenWithoutWarnings() throws Exception {
        for (List<String> args : List.of(List.of("local", "--help"), List.of("local", "break", "--help"))) {
            List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-cp", System.getProperty("java.class.path"), Main.class.getName()));
            command.addAll(args);
            Process process = new ProcessBuilder(command).start();
            String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            String err = new String(process.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
            assertThat(process.exitValue()).as("%s", args).isZero();
            assertThat(err).as("%s", args).isEmpty();
            assertThat(out.replaceAll("\\s+", " ")).contains(args.size() == 2 ? "default 20%: only the gate catches it" : "(default 20%)");
        }
    }
}
