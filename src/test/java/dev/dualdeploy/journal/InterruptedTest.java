package dev.dualdeploy.journal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dualdeploy.config.Side;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Issue 9 (kill -9): the next run of a stage finds the run a kill stopped in it, and says which and where, in one line. */
class InterruptedTest {

    private static final Instant T = Instant.parse("2026-12-01T05:28:48.123Z");
    private static final String OLD = "20261201T052848.123Z-0000000000000001";
    private static final String KILLED = "20261201T060000.000Z-0000000000000002";
    private static final String NOW = "20261201T070000.000Z-0000000000000003";
    private static final Optional<String> PREPROD = Optional.of("preprod");
    private static final Optional<String> SANDBOX = Optional.of("sandbox");
    private static final List<Side> BOTH = List.of(Side.LEGACY, Side.KUBERNETES);

    @TempDir
    Path dir;

    private Journal journal() {
        return new Journal(dir.resolve("journal"));
    }

    /** A run that started {@code stages} in order and, unless cut, ended each and itself. */
    private void run(String run, Instant at, boolean cutInLast, String... stages) {
        Journal journal = journal();
        journal.append(new Event.RunStarted(run, at, Optional.empty(), Optional.empty(), "deploy", List.of(stages),
                Optional.of(Events.IMAGE), Optional.of("1.4.2"), Optional.of("jenkins-loan-api-main-42")));
        for (int i = 0; i < stages.length; i++) {
            Optional<String> stage = Optional.of(stages[i]);
            journal.append(new Event.StageStarted(run, at.plusSeconds(1), stage, Optional.empty(), "deploy", BOTH,
                    Optional.of(Events.IMAGE), Optional.of("1.4.2"), List.of()));
            journal.append(new Event.RolloutStarted(run, at.plusSeconds(2), stage, Optional.of(Side.KUBERNETES),
                    "kubernetes " + stages[i] + "/loan-api", Events.IMAGE, "1.4.2", Optional.of(Events.OLD)));
            if (cutInLast && i == stages.length - 1) {
                journal.append(new Event.RolloutProgress(run, at.plusSeconds(3), stage, Optional.of(Side.KUBERNETES),
                        "updated 1/2, ready 0/2"));
                return;
            }
            journal.append(new Event.StageEnded(run, at.plusSeconds(4), stage, Optional.empty(), "SUCCEEDED", "every enabled side runs 1.4.2",
                    Optional.of(Event.ParityStatus.PARITY)));
        }
        journal.append(new Event.RunEnded(run, at.plusSeconds(5), Optional.empty(), Optional.empty(), "SUCCEEDED", 0, "done"));
    }

    @Test
    void aRunKilledMidRolloutIsNamedWithWhoStartedItWhenAndItsLastEvent() {
        run(OLD, T, false, "sandbox", "preprod");
        run(KILLED, T.plus(Duration.ofHours(1)), true, "sandbox", "preprod");

        Optional<String> line = Interrupted.line(journal().directory(), "preprod", NOW);

        assertThat(line).contains("run " + KILLED + " (jenkins-loan-api-main-42, 2026-12-01T06:28:48Z) did not journal its end"
                + " (killed, or its journal could not be written); its last event: [preprod/kubernetes] updated 1/2, ready 0/2");
        // The stage it finished before the kill is not interrupted.
        assertThat(Interrupted.line(journal().directory(), "sandbox", NOW)).isEmpty();
    }

    @Test
    void aStageWhoseLastRunEndedItOrThatNoRunStartedHasNothingInterrupted() {
        run(KILLED, T, true, "preprod");
        run(NOW, T.plus(Duration.ofHours(1)), false, "preprod");

        assertThat(Interrupted.find(journal(), "preprod", "none")).as("a newer run ended the stage").isEmpty();
        assertThat(Interrupted.find(journal(), "prod", "none")).as("no run started prod").isEmpty();
        assertThat(Interrupted.line(dir.resolve("missing"), "preprod", NOW)).as("no journal at all").isEmpty();
    }

    @Test
    void theAskingRunIsLeftOutSoItDoesNotFindItself() {
        run(KILLED, T, true, "preprod");
        // The asking run has already journaled that it started the stage, and has not ended it.
        journal().append(new Event.StageStarted(NOW, T.plus(Duration.ofHours(1)), PREPROD, Optional.empty(), "deploy", BOTH,
                Optional.of(Events.IMAGE), Optional.of("1.4.2"), List.of()));

        Optional<Interrupted.Run> found = Interrupted.find(journal(), "preprod", NOW);

        assertThat(found).hasValueSatisfying(r -> {
            assertThat(r.run()).isEqualTo(KILLED);
            assertThat(r.last()).isInstanceOf(Event.RolloutProgress.class);
            assertThat(r.torn()).isFalse();
        });
    }

    @Test
    void aRunThatEndedWithoutEndingTheStageSaidHowItEndedAndIsNotInterrupted() {
        Journal journal = journal();
        journal.append(new Event.StageStarted(OLD, T, SANDBOX, Optional.empty(), "deploy", BOTH, Optional.of(Events.IMAGE),
                Optional.of("1.4.2"), List.of()));
        journal.append(new Event.RunEnded(OLD, T.plusSeconds(1), Optional.empty(), Optional.empty(), "ERROR", 70, "internal error"));

        assertThat(Interrupted.find(journal, "sandbox", NOW)).isEmpty();
    }

    @Test
    void aTornLastLineIsLeftOutAndSaidAndAnUnknownStarterIsSaidToo() throws IOException {
        Journal journal = journal();
        journal.append(new Event.StageStarted(KILLED, T, SANDBOX, Optional.empty(), "deploy", BOTH, Optional.of(Events.IMAGE),
                Optional.of("1.4.2"), List.of()));
        journal.append(new Event.RollbackStarted(KILLED, T.plusSeconds(9), SANDBOX, Optional.empty(), List.of(Side.LEGACY),
                "the gate FAILED", Optional.empty()));
        Files.write(journal.file(KILLED), "{\"type\":\"rollback-ended\",\"run\":".getBytes(StandardCharsets.UTF_8),
                StandardOpenOption.APPEND);

        Optional<Interrupted.Run> found = Interrupted.find(journal, "sandbox", NOW);

        assertThat(found).hasValueSatisfying(r -> {
            assertThat(r.torn()).isTrue();
            assertThat(r.line()).startsWith("run " + KILLED + " (unknown, 2026-12-01T05:28:48Z) did not journal its end (killed, or its"
                    + " journal could not be written); its last event: [sandbox] ")
                    .contains("legacy");
        });
    }

    @Test
    void aCorruptRunFileIsSkippedAndAnOlderInterruptedRunStillFound() throws IOException {
        run(OLD, T, true, "preprod");
        Files.writeString(journal().directory().resolve(NOW + Journal.SUFFIX), "not json\n");

        assertThat(Interrupted.find(journal(), "preprod", "none")).hasValueSatisfying(r -> assertThat(r.run()).isEqualTo(OLD));
    }

    /**
     * Review item 2: with a thousand runs of other stages (15 MB) in the directory, finding the stage's last run reads
     * the first line of each, not every file whole: it stays well under the seconds it took.
     */
    @Test
    void aThousandRunsOfOtherStagesAreReadOnlyAsFarAsTheirFirstLine() throws IOException {
        run(OLD, T, true, "preprod");
        Journal journal = journal();
        for (int i = 0; i < Interrupted.MAX_RUNS - 1; i++) {
            String id = String.format("20261201T07%02d%02d.000Z-%016x", i / 60, i % 60, i + 10);
            StringBuilder file = new StringBuilder(EventCodec.encode(new Event.RunStarted(id, T.plusSeconds(3600 + i), Optional.empty(),
                    Optional.empty(), "deploy", List.of("sandbox"), Optional.of(Events.IMAGE), Optional.of("1.4.2"), Optional.empty())))
                    .append('\n');
            for (int line = 0; line < 100; line++) {
                file.append(EventCodec.encode(new Event.Notice(id, T.plusSeconds(3600 + i), SANDBOX, Optional.empty(), "x".repeat(120))))
                        .append('\n');
            }
            Files.writeString(journal.file(id), file);
        }
        long start = System.nanoTime();
        Optional<Interrupted.Run> found = Interrupted.find(journal, "preprod", NOW);
        Duration took = Duration.ofNanos(System.nanoTime() - start);
        System.out.println("Interrupted.find over " + (Interrupted.MAX_RUNS - 1) + " other runs: " + took.toMillis() + " ms");

        assertThat(found).hasValueSatisfying(r -> assertThat(r.run()).isEqualTo(OLD));
        assertThat(took).isLessThan(Duration.ofSeconds(3));
    }
}
