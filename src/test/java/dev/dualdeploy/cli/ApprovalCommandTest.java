package dev.dualdeploy.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.dualdeploy.journal.Event;
import dev.dualdeploy.journal.Journal;
import dev.dualdeploy.journal.RunLog;
import dev.dualdeploy.testing.Cli;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code dualdeploy approval}: the approval the Jenkins step asks before a stage, and its answer, journaled as runs of
 * their own, so that {@code history} says who was asked, who answered and how.
 */
class ApprovalCommandTest {

    @TempDir
    Path dir;

    private String file;
    private Path journal;

    @BeforeEach
    void write() throws IOException {
        Path config = dir.resolve("dualdeploy.yaml");
        Files.writeString(config, """
                service: loan-api
                image: registry.example.com/loan-api
                stages:
                  - name: prod
                    kubernetes: { namespace: loan, deployment: loan-api, container: app }
                    approval: { submitter: sre, timeout: 24h }
                """);
        file = config.toString();
        journal = dir.resolve("journal");
    }

    @Test
    void anApprovalAskedAndAnsweredAreJournaledAndListed() {
        Cli.Run asked = Cli.run("approval", "-f", file, "--stage", "prod", "--asked", "--submitters", "sre, alice", "--timeout", "24h",
                "--plan", "legacy: 1.0.0 -> 1.2.0; kubernetes: 1.0.0 -> 1.2.0", "--journal", journal.toString(), "--output", "json");
        Cli.Run answered = Cli.run("approval", "-f", file, "--stage", "prod", "--approved", "--by", "alice", "--journal",
                journal.toString(), "--output", "json");

        assertThat(asked.code()).as(asked.err()).isZero();
        assertThat(answered.code()).as(answered.err()).isZero();
        JsonNode json = answered.json();
        assertThat(json.get("approval").asText()).isEqualTo("approved");
        RunLog askedRun = new Journal(journal).read(asked.json().get("run").asText());
        assertThat(askedRun.events()).filteredOn(Event.ApprovalAsked.class::isInstance).singleElement().satisfies(e -> {
            Event.ApprovalAsked a = (Event.ApprovalAsked) e;
            assertThat(a.submitters()).containsExactly("sre", "alice");
            assertThat(a.timeout()).isEqualTo(Duration.ofHours(24));
            assertThat(a.plan()).isEqualTo("legacy: 1.0.0 -> 1.2.0; kubernetes: 1.0.0 -> 1.2.0");
            assertThat(a.stage()).contains("prod");
        });
        RunLog answeredRun = new Journal(journal).read(json.get("run").asText());
        assertThat(answeredRun.events()).filteredOn(Event.ApprovalAnswered.class::isInstance).singleElement().satisfies(e -> {
            Event.ApprovalAnswered a = (Event.ApprovalAnswered) e;
            assertThat(a.approved()).isTrue();
            assertThat(a.by()).contains("alice");
        });
        assertThat(answered.err()).contains("[prod] approved by alice");
        assertThat(Cli.run("history", "--journal", journal.toString()).out().lines())
                .anyMatch(l -> l.contains("approval  prod  SUCCEEDED (exit 0)"));
    }

    @Test
    void aRejectionWithoutAnAnswererIsJournaledAsNotApproved() {
        Cli.Run rejected = Cli.run("approval", "-f", file, "--stage", "prod", "--rejected", "--reason", "timed out after 24h",
                "--journal", journal.toString(), "--output", "json");

        assertThat(rejected.code()).as(rejected.err()).isZero();
        assertThat(rejected.err()).contains("[prod] not approved: timed out after 24h");
        RunLog run = new Journal(journal).read(rejected.json().get("run").asText());
        assertThat(run.events()).filteredOn(Event.ApprovalAnswered.class::isInstance).singleElement()
                .satisfies(e -> assertThat(((Event.ApprovalAnswered) e).by()).isEqualTo(Optional.empty()));
    }

    @Test
    void badInputIsExit2AndJournalsNothing() {
        for (List<String> args : List.of(
                List.of("--stage", "prod", "--asked", "--timeout", "1h"),
                List.of("--stage", "prod", "--asked", "--submitters", "sre"),
                List.of("--stage", "prod", "--asked", "--submitters", "sre", "--timeout", "soon"),
                List.of("--stage", "prod", "--approved", "--timeout", "1h"),
                List.of("--stage", "prod", "--asked", "--approved", "--submitters", "sre", "--timeout", "1h"),
                List.of("--stage", "qa", "--approved"),
                List.of("--stage", "prod"))) {
            String[] command = new String[args.size() + 5];
            command[0] = "approval";
            command[1] = "-f";
            command[2] = file;
            command[3] = "--journal";
            command[4] = journal.toString();
            for (int i = 0; i < args.size(); i++) {
                command[5 + i] = args.get(i);
            }
            Cli.Run run = Cli.run(command);
            assertThat(run.code()).as(String.join(" ", args) + ": " + run.err()).isEqualTo(ExitCodes.BAD_INPUT);
        }
        assertThat(journal).doesNotExist();
    }

    @Test
    void controlCharactersFromThePersonAreEscaped() {
        Cli.Run run = Cli.run("approval", "-f", file, "--stage", "prod", "--rejected", "--by", "mallory\u001b[2J\nfake line",
                "--journal", journal.toString());

        assertThat(run.code()).as(run.err()).isZero();
        assertThat(run.err()).doesNotContain("\u001b").doesNotContain("\nfake line");
    }
}
