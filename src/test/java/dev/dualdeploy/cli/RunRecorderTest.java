package dev.dualdeploy.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.dualdeploy.config.Side;
import dev.dualdeploy.journal.Event;
import dev.dualdeploy.journal.Journal;
import dev.dualdeploy.journal.RunIds;
import dev.dualdeploy.time.SteppedClock;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The CLI's sink: journal first, then the progress line; a journal lost mid-run is said once and the run goes on. */
class RunRecorderTest {

    private final SteppedClock clock = new SteppedClock(Instant.parse("2026-12-01T05:28:48Z"));
    private final String run = RunIds.next(clock);
    private final StringWriter err = new StringWriter();

    private Event.RunStarted started() {
        return new Event.RunStarted(run, clock.instant(), Optional.empty(), Optional.empty(), "deploy", List.of("prod"),
                Optional.empty(), Optional.empty(), Optional.empty());
    }

    private Event.RolloutProgress progress(String detail) {
        return new Event.RolloutProgress(run, clock.instant(), Optional.of("prod"), Optional.of(Side.KUBERNETES), detail);
    }

    @Test
    void eachEventIsJournaledAndPrintedAfterTheRunIdWithTheInjectedClocksTime(@TempDir Path dir) {
        RunRecorder recorder = new RunRecorder(run, clock, new Journal(dir), new PrintWriter(err, true));

        recorder.begin(started());
        clock.sleep(Duration.ofSeconds(3));
        recorder.accept(progress("updated 1/2\u001b[2J"));
        recorder.end("SUCCEEDED", 0, "done");
        recorder.end("ERROR", 70, "a second end is not journaled");

        assertThat(err.toString().lines()).containsExactly("run " + run, "[run] run started: deploy prod",
                "[prod/kubernetes] updated 1/2\\u001b[2J", "[run] run ended: SUCCEEDED (exit 0): done");
        List<Event> journaled = new Journal(dir).read(run).events();
        assertThat(journaled).hasSize(3).isEqualTo(recorder.events());
        assertThat(journaled.get(1).at()).isEqualTo(Instant.parse("2026-12-01T05:28:51Z"));
    }

    @Test
    void aJournalThatCannotBeWrittenAtTheStartStopsTheRunNamingTheDirectory(@TempDir Path dir) throws Exception {
        Path file = Files.writeString(dir.resolve("journal"), "not a directory");
        RunRecorder recorder = new RunRecorder(run, clock, new Journal(file), new PrintWriter(err, true));

        assertThatThrownBy(() -> recorder.begin(started())).isInstanceOf(UsageException.class)
                .hasMessageContaining("the journal directory " + file + " cannot be written").hasMessageContaining("nothing was changed");
        assertThat(recorder.started()).isFalse();
        recorder.end("ERROR", 2, "not begun: nothing to end");
        assertThat(err.toString().lines()).containsExactly("run " + run);
    }

    @Test
    void aJournalLostMidRunIsSaidOnceAndTheProgressGoesOn(@TempDir Path dir) throws Exception {
        Path journal = dir.resolve("journal");
        RunRecorder recorder = new RunRecorder(run, clock, new Journal(journal), new PrintWriter(err, true));
        recorder.begin(started());
        Files.delete(journal.resolve(run + Journal.SUFFIX));
        Files.delete(journal);
        Files.writeString(journal, "the disk is gone");

        recorder.accept(progress("updated 1/2"));
        recorder.accept(progress("updated 2/2"));

        List<String> lines = err.toString().lines().toList();
        assertThat(lines).filteredOn(l -> l.startsWith("warning: ")).singleElement().asString()
                .contains("cannot write the journal").endsWith("; the run goes on without its journal");
        assertThat(lines).contains("[prod/kubernetes] updated 1/2", "[prod/kubernetes] updated 2/2");
        assertThat(recorder.events()).hasSize(3);
    }

    /** Review item 4: an event over the line limit is journaled cut; the journal stays on and says nothing is wrong. */
    @Test
    void anEventOverTheLineLimitIsJournaledCutAndTheJournalStaysOn(@TempDir Path dir) {
        RunRecorder recorder = new RunRecorder(run, clock, new Journal(dir), new PrintWriter(err, true));
        recorder.begin(started());

        recorder.accept(progress("a platform said: " + "x".repeat(200_000)));
        recorder.accept(progress("updated 2/2"));
        recorder.end("SUCCEEDED", 0, "done");

        assertThat(err.toString()).doesNotContain("warning:");
        List<Event> journaled = new Journal(dir).read(run).events();
        assertThat(journaled).hasSize(4);
        assertThat(((Event.RolloutProgress) journaled.get(1)).detail()).startsWith("a platform said: xxx").contains("(cut: ");
        assertThat(journaled.subList(2, 4)).isEqualTo(recorder.events().subList(2, 4));
    }

    /** Review item 4: who started a run comes from outside (BUILD_TAG, the user name): escaped and capped where it is read. */
    @Test
    void whoStartedTheRunIsEscapedAndCapped() {
        assertThat(BaseCommand.by(Map.of("BUILD_TAG", "jenkins-" + "j".repeat(100_000)), "alice"))
                .hasValueSatisfying(b -> assertThat(b).startsWith("jenkins-jjj").hasSizeLessThan(400));
        assertThat(BaseCommand.by(Map.of("BUILD_TAG", " "), "al\nice")).contains("al\\nice");
        assertThat(BaseCommand.by(Map.of(), "")).isEmpty();
    }

    /** Review items 4 and 14: a journal refused for a reason that is not the directory's says that reason, not "cannot be written". */
    @Test
    void aJournalRefusedThroughALinkSaysSoAndDoesNotBlameTheDirectory(@TempDir Path dir) throws Exception {
        Path real = dir.toRealPath();
        Path link = Files.createSymbolicLink(real.resolve(".dualdeploy"), Files.createDirectory(real.resolve("elsewhere")));
        RunRecorder recorder = new RunRecorder(run, clock, Journal.refusingLinks(link.resolve("journal")), new PrintWriter(err, true));

        assertThatThrownBy(() -> recorder.begin(started())).isInstanceOf(UsageException.class)
                .hasMessageContaining(link + " is a symbolic link").hasMessageContaining("nothing was changed")
                .hasMessageNotContaining("cannot be written");
    }
}
