package dev.dualdeploy.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.dualdeploy.config.Side;
import dev.dualdeploy.journal.Event;
import dev.dualdeploy.journal.Journal;
import dev.dualdeploy.testing.Cli;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Issue 9 (the journal): {@code dualdeploy history} lists past runs and shows one run's events, escaped, from the journal only. */
class HistoryCommandTest {

    static final String A = "20261201T050000.000Z-aaaaaaaaaaaaaaaa";
    static final String B = "20261201T051000.000Z-bbbbbbbbbbbbbbbb";
    static final String C = "20261201T052000.000Z-cccccccccccccccc";
    static final String IMAGE = "registry.example.com/loan-api@sha256:" + "ab".repeat(32);
    static final String FORGED = "pod loan-api-1\nforged \u001b[2J line \u202e";

    @TempDir
    Path dir;
    Path journal;

    @BeforeEach
    void threeRuns() throws IOException {
        journal = dir.resolve("journal");
        Journal runs = new Journal(journal);
        Instant a = Instant.parse("2026-12-01T05:00:00Z");
        runs.append(new Event.RunStarted(A, a, Optional.empty(), Optional.empty(), "deploy", List.of("sandbox"), Optional.of(IMAGE),
                Optional.of("1.4.1"), Optional.of("jenkins-loan-api-main-41")));
        runs.append(new Event.RolloutEnded(A, a.plusSeconds(20), Optional.of("sandbox"), Optional.of(Side.LEGACY),
                Event.RolloutStatus.SUCCEEDED, "2/2 tasks running", Duration.ofSeconds(20)));
        runs.append(new Event.RunEnded(A, a.plusSeconds(21), Optional.of("sandbox"), Optional.empty(), "SUCCEEDED", 0, "all sides run 1.4.1"));

        Instant b = Instant.parse("2026-12-01T05:10:00Z");
        runs.append(new Event.RunStarted(B, b, Optional.empty(), Optional.empty(), "gate", List.of("preprod"), Optional.empty(),
                Optional.empty(), Optional.empty()));
        runs.append(new Event.CheckVerdict(B, b.plusSeconds(60), Optional.of("preprod"), Optional.of(Side.KUBERNETES), "gate",
                "slo error_rate [kubernetes]", "slo error_rate", Event.VerdictOutcome.FAIL, "error_rate 2.1% > 1% in 2 windows in a row",
                List.of("kubernetes")));
        runs.append(new Event.RunEnded(B, b.plusSeconds(61), Optional.of("preprod"), Optional.empty(), "FAIL", 1, "the gate FAILED"));

        Instant c = Instant.parse("2026-12-01T05:20:00Z");
        runs.append(new Event.RunStarted(C, c, Optional.empty(), Optional.empty(), "deploy", List.of("prod"), Optional.of(IMAGE),
                Optional.of("1.4.2"), Optional.empty()));
        runs.append(new Event.StageStarted(C, c.plusSeconds(1), Optional.of("prod"), Optional.empty(), "deploy", List.of(Side.KUBERNETES),
                Optional.of(IMAGE), Optional.of("1.4.2"), List.of()));
        runs.append(new Event.RolloutProgress(C, c.plusSeconds(2), Optional.of("prod"), Optional.of(Side.KUBERNETES), FORGED));
        // kill -9 while the next event was being written.
        Files.writeString(journal.resolve(C + ".jsonl"), "{\"type\":\"rollout-ended\",\"run\":\"" + C + "\",\"at\":\"2026-12",
                StandardOpenOption.APPEND);
    }

    @Test
    void listsRunsNewestFirstWithTheInterruptedOneSaidSo() {
        Cli.Run run = Cli.run("history", "--journal", journal.toString());

        assertThat(run.code()).as(run.err()).isZero();
        assertThat(run.out().lines()).containsExactly(
                C + "  2026-12-01T05:20:00Z  deploy  prod  interrupted",
                B + "  2026-12-01T05:10:00Z  gate  preprod  FAIL (exit 1)",
                A + "  2026-12-01T05:00:00Z  deploy  sandbox  SUCCEEDED (exit 0)  by jenkins-loan-api-main-41");
        assertThat(run.err()).isEmpty();
    }

    @Test
    void listsRunsAsJson() {
        Cli.Run run = Cli.run("history", "--journal", journal.toString(), "--output", "json");

        assertThat(run.code()).as(run.err()).isZero();
        JsonNode json = run.json();
        assertThat(json.path("command").asText()).isEqualTo("history");
        assertThat(json.path("exitCode").asInt(-1)).isZero();
        assertThat(json.path("journal").asText()).isEqualTo(journal.toString());
        JsonNode runs = json.path("runs");
        assertThat(runs).hasSize(3);
        assertThat(runs.get(0).path("run").asText()).isEqualTo(C);
        assertThat(runs.get(0).path("interrupted").asBoolean()).isTrue();
        assertThat(runs.get(0).path("outcome").isNull()).isTrue();
        assertThat(runs.get(0).path("exitCode").isNull()).isTrue();
        assertThat(runs.get(0).path("events").asInt()).isEqualTo(3);
        assertThat(runs.get(1).path("outcome").asText()).isEqualTo("FAIL");
        assertThat(runs.get(1).path("exitCode").asInt()).isEqualTo(1);
        assertThat(runs.get(2).path("started").asText()).isEqualTo("2026-12-01T05:00:00Z");
        assertThat(runs.get(2).path("command").asText()).isEqualTo("deploy");
        assertThat(runs.get(2).path("stages").get(0).asText()).isEqualTo("sandbox");
        assertThat(runs.get(2).path("by").asText()).isEqualTo("jenkins-loan-api-main-41");
        assertThat(runs.get(2).path("interrupted").asBoolean()).isFalse();
    }

    @Test
    void showsOneRunsEventsAsProgressLinesWithControlCharactersEscaped() {
        Cli.Run run = Cli.run("history", "--journal", journal.toString(), "--run", C);

        assertThat(run.code()).as(run.err()).isZero();
        assertThat(run.out().lines()).containsExactly(
                "2026-12-01T05:20:00Z [run] run started: deploy prod 1.4.2 (" + IMAGE + ")",
                "2026-12-01T05:20:01Z [prod] deploying 1.4.2 (" + IMAGE + ") to kubernetes",
                "2026-12-01T05:20:02Z [prod/kubernetes] pod loan-api-1\\nforged \\u001b[2J line \\u202e",
                "interrupted: the journal of " + C + " ends after 3 events and a line cut short, without the run's end");
        assertNoRawControl(run.out());
    }

    @Test
    void showsOneRunsEventsAsJsonWithEveryFieldAndNoRawControlCharacter() {
        Cli.Run run = Cli.run("history", "--journal", journal.toString(), "--run", C, "--output", "json");

        assertThat(run.code()).as(run.err()).isZero();
        assertNoRawControl(run.out());
        JsonNode json = run.json();
        assertThat(json.path("run").asText()).isEqualTo(C);
        assertThat(json.path("interrupted").asBoolean()).isTrue();
        assertThat(json.path("torn").asBoolean()).isTrue();
        JsonNode events = json.path("events");
        assertThat(events).hasSize(3);
        assertThat(events.get(0).path("type").asText()).isEqualTo("run-started");
        assertThat(events.get(1).path("type").asText()).isEqualTo("stage-started");
        assertThat(events.get(1).path("sides").get(0).asText()).isEqualTo("kubernetes");
        JsonNode progress = events.get(2);
        assertThat(progress.path("type").asText()).isEqualTo("rollout-progress");
        assertThat(progress.path("stage").asText()).isEqualTo("prod");
        assertThat(progress.path("side").asText()).isEqualTo("kubernetes");
        assertThat(progress.path("detail").asText()).as("escaped in the output, the same string once parsed").isEqualTo(FORGED);
    }

    @Test
    void filtersByStage() {
        Cli.Run runs = Cli.run("history", "--journal", journal.toString(), "--stage", "preprod");
        assertThat(runs.out().lines()).containsExactly(B + "  2026-12-01T05:10:00Z  gate  preprod  FAIL (exit 1)");

        Cli.Run events = Cli.run("history", "--journal", journal.toString(), "--run", A, "--stage", "sandbox");
        assertThat(events.out().lines()).containsExactly(
                "2026-12-01T05:00:20Z [sandbox/legacy] SUCCEEDED: 2/2 tasks running (20.0s)",
                "2026-12-01T05:00:21Z [sandbox] run ended: SUCCEEDED (exit 0): all sides run 1.4.1");

        Cli.Run none = Cli.run("history", "--journal", journal.toString(), "--stage", "be\nta");
        assertThat(none.code()).isZero();
        assertThat(none.out()).isEqualTo("no runs of stage 'be\\nta' recorded in " + journal + System.lineSeparator());
    }

    @Test
    void anEmptyOrMissingJournalHasNoRunsAndExits0() throws IOException {
        Path missing = dir.resolve("missing");
        Cli.Run run = Cli.run("history", "--journal", missing.toString());
        assertThat(run.code()).isZero();
        assertThat(run.out()).isEqualTo("no runs recorded in " + missing + System.lineSeparator());

        Path empty = Files.createDirectory(dir.resolve("empty"));
        Cli.Run json = Cli.run("history", "--journal", empty.toString(), "--output", "json");
        assertThat(json.code()).isZero();
        assertThat(json.json().path("runs")).isEmpty();
        assertThat(json.json().path("exitCode").asInt(-1)).isZero();
    }

    @Test
    void aBadOrUnknownRunIdIsExit2() {
        Cli.Run bad = Cli.run("history", "--journal", journal.toString(), "--run", "../x");
        assertThat(bad.code()).isEqualTo(2);
        assertThat(bad.err().lines()).containsExactly(
                "error: '../x' is not a run id: expected at most 128 letters, digits, '.', '_' and '-', such as "
                        + "20261201T052848.123Z-6f1c0e2a9b7d4c10",
                "hint: see 'dualdeploy history --help'");
        assertThat(bad.out()).isEmpty();

        Cli.Run newline = Cli.run("history", "--journal", journal.toString(), "--run", "x\ny", "--output", "json");
        assertThat(newline.code()).isEqualTo(2);
        assertThat(newline.err()).startsWith("error: 'x\\ny' is not a run id");
        assertThat(newline.json().path("exitCode").asInt()).isEqualTo(2);

        Cli.Run empty = Cli.run("history", "--journal", journal.toString(), "--run", "");
        assertThat(empty.code()).isEqualTo(2);
        assertThat(empty.err()).startsWith("error: '' is not a run id");

        String unknown = "20261201T060000.000Z-dddddddddddddddd";
        Cli.Run missing = Cli.run("history", "--journal", journal.toString(), "--run", unknown);
        assertThat(missing.code()).isEqualTo(2);
        assertThat(missing.err()).startsWith("error: no run '" + unknown + "' in " + journal + System.lineSeparator());
    }

    /** Review item 12: one corrupt file is flagged on one line naming it, and the other runs are still listed. */
    @Test
    void aCorruptJournalFileIsFlaggedNamingTheFileAndLineAndTheOthersAreListed() throws IOException {
        Path file = journal.resolve(B + ".jsonl");
        List<String> lines = Files.readAllLines(file);
        Files.write(file, List.of(lines.get(0), "{not json", lines.get(2)));

        Cli.Run run = Cli.run("history", "--journal", journal.toString());

        assertThat(run.code()).as(run.err()).isZero();
        assertThat(run.out().lines()).containsExactly(
                C + "  2026-12-01T05:20:00Z  deploy  prod  interrupted",
                B + "  unreadable: " + file + ": line 2: not a JSON object (a corrupt line)",
                A + "  2026-12-01T05:00:00Z  deploy  sandbox  SUCCEEDED (exit 0)  by jenkins-loan-api-main-41");

        Cli.Run one = Cli.run("history", "--journal", journal.toString(), "--run", B);
        assertThat(one.code()).as("the one run asked for cannot be shown").isEqualTo(2);
        assertThat(one.err()).startsWith("error: " + file + ": line 2: not a JSON object (a corrupt line)" + System.lineSeparator());
    }

    /**
     * Review item 12: a directory under a run's name, binary garbage (with control characters in the name's reach) and
     * a 2 GiB file are each flagged on their own line, in bounded time, and the readable runs are still listed, as text
     * and as JSON.
     */
    @Test
    void unreadableFilesOfEveryKindAreFlaggedInBoundedTimeAndTheRestListed() throws IOException {
        String dirRun = "20261201T053000.000Z-dddddddddddddddd";
        String garbage = "20261201T054000.000Z-eeeeeeeeeeeeeeee";
        String huge = "20261201T055000.000Z-ffffffffffffffff";
        Files.createDirectory(journal.resolve(dirRun + ".jsonl"));
        Files.write(journal.resolve(garbage + ".jsonl"), new byte[] {0, (byte) 0xff, 0x1b, '[', '2', 'J', '\n', 1, 2, 3});
        try (var channel = java.nio.channels.FileChannel.open(journal.resolve(huge + ".jsonl"), StandardOpenOption.CREATE_NEW,
                StandardOpenOption.WRITE)) {
            channel.write(java.nio.ByteBuffer.wrap(new byte[] {'\n'}), 2L * 1024 * 1024 * 1024);
        }

        Cli.Run run = org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(Duration.ofSeconds(20),
                () -> Cli.run("history", "--journal", journal.toString()));

        assertThat(run.code()).as(run.err()).isZero();
        List<String> out = run.out().lines().toList();
        assertThat(out).hasSize(6);
        assertThat(out.get(0)).startsWith(huge + "  unreadable: " + journal.resolve(huge + ".jsonl"));
        assertThat(out.get(1)).startsWith(garbage + "  unreadable: " + journal.resolve(garbage + ".jsonl"));
        assertThat(out.get(2)).isEqualTo(dirRun + "  unreadable: " + journal.resolve(dirRun + ".jsonl")
                + " is not a regular file; a journal holds one file per run");
        assertThat(out.subList(3, 6)).extracting(l -> l.substring(0, A.length())).containsExactly(C, B, A);
        assertNoRawControl(run.out());

        Cli.Run json = Cli.run("history", "--journal", journal.toString(), "--output", "json");
        assertThat(json.code()).isZero();
        JsonNode runs = json.json().path("runs");
        assertThat(runs).hasSize(6);
        assertThat(runs.get(2).path("run").asText()).isEqualTo(dirRun);
        assertThat(runs.get(2).path("unreadable").asText()).contains("is not a regular file");
        assertThat(runs.get(3).path("unreadable").isNull()).isTrue();
        assertThat(runs.get(3).path("cut").asBoolean()).isFalse();
    }

    private static void assertNoRawControl(String out) {
        for (char ch : out.toCharArray()) {
            assertThat(ch != '\n' && (ch < 0x20 || (ch >= 0x7f && ch <= 0x9f) || ch == '\u202e')).as("U+%04X", (int) ch).isFalse();
        }
    }
    /** Review: a file given as the journal directory listed "no runs recorded" and exit 0. */
    @Test
    void aFileGivenAsTheJournalDirectoryIsBadInput() throws IOException {
        Path file = Files.writeString(journal.resolveSibling("not-a-directory"), "root:x:0:0\n");

        Cli.Run run = Cli.run("history", "--journal", file.toString());

        assertThat(run.code()).isEqualTo(ExitCodes.BAD_INPUT);
        assertThat(run.err()).contains("is not a directory");
        assertThat(run.out()).isEmpty();
    }

    /** Review: a result that cannot be written (stdout to /dev/full, a closed pipe) was lost without a word. */
    @Test
    void aResultThatCannotBeWrittenIsSaidOnStderr() {
        StringWriter err = new StringWriter();
        PrintWriter broken = new PrintWriter(new Writer() {
            @Override
            public void write(char[] buffer, int offset, int length) throws IOException {
                throw new IOException("No space left on device");
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        }, true);

        int code = DualDeployCommand.run(new String[] {"history", "--journal", journal.toString()}, broken, new PrintWriter(err, true));

        assertThat(code).isZero();
        assertThat(err.toString()).contains("error: the result could not be written to standard output");
    }
}
