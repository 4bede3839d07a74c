package dev.dualdeploy.journal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import dev.dualdeploy.config.Side;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Issue 9 (the journal): what goes into a run's file comes back, a kill -9 costs at most one event, and bad input is refused. */
class JournalTest {

    static final Instant T = Instant.parse("2026-12-01T05:28:48.123Z");
    static final String RUN = "20261201T052848.123Z-0123456789abcdef";

    @TempDir
    Path dir;

    @Test
    void everyKindOfEventComesBackEqualFromTheFile() {
        Journal journal = new Journal(dir.resolve("journal"));
        List<Event> events = Events.everyKind(RUN, T);
        Set<String> kinds = new HashSet<>();
        events.forEach(e -> kinds.add(e.type()));
        assertThat(kinds).as("the sample covers every event kind").containsExactlyInAnyOrderElementsOf(EventCodec.typeNames());
        events.forEach(journal::append);

        RunLog log = journal.read(RUN);

        assertThat(log.events()).containsExactlyElementsOf(events);
        assertThat(log.torn()).isFalse();
        assertThat(log.interrupted()).isFalse();
        assertThat(journal.list()).singleElement().satisfies(r -> {
            assertThat(r.run()).isEqualTo(RUN);
            assertThat(r.started()).contains(T);
            assertThat(r.command()).contains("deploy");
            assertThat(r.stages()).containsExactly("sandbox");
            assertThat(r.by()).contains("jenkins-loan-api-main-42");
            assertThat(r.outcome()).contains("ROLLED_BACK");
            assertThat(r.exitCode()).contains(1);
            assertThat(r.events()).isEqualTo(events.size());
        });
    }

    @Test
    void theTypeNamesArePinnedBecauseOldJournalsMustStayReadable() {
        // A rename here makes every journal written before it unreadable: add a name, never change one.
        assertThat(EventCodec.typeNames()).containsExactlyInAnyOrder("run-started", "run-ended", "stage-started", "stage-ended",
                "rollout-started", "rollout-progress", "rollout-ended", "read-back", "parity", "last-good-recorded", "rollback-started",
                "rollback-ended", "gate-started", "gate-skipped", "gate-window-measured", "check-verdict", "gate-decided",
                "approval-asked", "approval-answered", "lock-acquired", "lock-lost", "traffic-set", "traffic-read-back", "aborted", "notice");
    }

    @Test
    void theJsonOfALineIsStableKebabCaseTypedWithNullForAbsent() throws IOException {
        Journal journal = new Journal(dir);
        journal.append(new Event.RolloutEnded(RUN, T, Optional.of("prod"), Optional.of(Side.KUBERNETES), Event.RolloutStatus.FAILED,
                "pod loan-api-7f: ImagePullBackOff", Duration.ofMillis(1500)));
        journal.append(new Event.ReadBack(RUN, T, Optional.of("prod"), Optional.of(Side.LEGACY), "ecs prod/loan-api", Optional.empty(),
                Optional.empty(), Optional.empty(), Optional.empty(), Event.Health.ABSENT, "no service"));

        assertThat(Files.readAllLines(dir.resolve(RUN + ".jsonl"))).containsExactly(
                "{\"type\":\"rollout-ended\",\"run\":\"" + RUN + "\",\"at\":\"2026-12-01T05:28:48.123Z\",\"stage\":\"prod\","
                        + "\"side\":\"kubernetes\",\"status\":\"FAILED\",\"reason\":\"pod loan-api-7f: ImagePullBackOff\",\"took\":\"PT1.5S\","
                        + "\"supersededBy\":null}",
                "{\"type\":\"read-back\",\"run\":\"" + RUN + "\",\"at\":\"2026-12-01T05:28:48.123Z\",\"stage\":\"prod\","
                        + "\"side\":\"legacy\",\"target\":\"ecs prod/loan-api\",\"image\":null,\"digest\":null,\"version\":null,"
                        + "\"lastGood\":null,\"health\":\"ABSENT\",\"detail\":\"no service\",\"previousGood\":null,"
                        + "\"lastGoodSides\":[]}");
    }

    /**
     * Fields added to an event (a rollout's supersededBy, a read-back's previous good release and sides, a verdict's
     * samples, a rollback's error, a stage end's parity reason and sides) are optional on read: a journal written
     * before them reads back, each one empty.
     */
    @Test
    void linesWrittenBeforeTheLaterFieldsStillRead() throws IOException {
        String at = "\"run\":\"" + RUN + "\",\"at\":\"2026-12-01T05:28:48.123Z\",\"stage\":\"prod\"";
        Files.writeString(dir.resolve(RUN + ".jsonl"), String.join("\n",
                "{\"type\":\"rollout-ended\"," + at + ",\"side\":\"kubernetes\",\"status\":\"FAILED\",\"reason\":\"x\",\"took\":\"PT1S\"}",
                "{\"type\":\"rollback-ended\"," + at + ",\"side\":\"legacy\",\"status\":\"FAILED\",\"reason\":\"x\",\"took\":\"PT1S\"}",
                "{\"type\":\"read-back\"," + at + ",\"side\":\"legacy\",\"target\":\"ecs prod/loan-api\",\"image\":null,"
                        + "\"digest\":null,\"version\":null,\"lastGood\":null,\"health\":\"ABSENT\",\"detail\":\"no service\"}",
                "{\"type\":\"check-verdict\"," + at + ",\"side\":null,\"phase\":\"gate\",\"name\":\"n\",\"check\":\"slo\","
                        + "\"outcome\":\"PASS\",\"reason\":\"r\",\"series\":[\"legacy\"]}",
                "{\"type\":\"stage-ended\"," + at + ",\"side\":null,\"outcome\":\"SUCCEEDED\",\"reason\":\"r\",\"parity\":\"PARITY\"}")
                + "\n");

        List<Event> read = new Journal(dir).read(RUN).events();

        assertThat(read).hasSize(5);
        assertThat(((Event.RolloutEnded) read.get(0)).supersededBy()).isEmpty();
        assertThat(((Event.RollbackEnded) read.get(1)).error()).isEmpty();
        assertThat(((Event.ReadBack) read.get(2)).previousGood()).isEmpty();
        assertThat(((Event.ReadBack) read.get(2)).lastGoodSides()).isEmpty();
        assertThat(((Event.CheckVerdict) read.get(3)).samples()).isEmpty();
        assertThat(((Event.StageEnded) read.get(4)).parityReason()).isEmpty();
        assertThat(((Event.StageEnded) read.get(4)).sides()).isEmpty();
    }

    @Test
    void controlAndNonAsciiCharactersAreEscapedInTheFileAndComeBackUnchanged() throws IOException {
        Journal journal = new Journal(dir);
        String reason = "line\nforged \u001b[31mred\u001b[0m \u202eevil\u007f ü→漢字";
        Event event = new Event.Aborted(RUN, T, Optional.of("pro\rd"), Optional.empty(), reason);
        journal.append(event);

        String file = Files.readString(dir.resolve(RUN + ".jsonl"), StandardCharsets.UTF_8);
        assertThat(file).hasLineCount(1).contains("\\n", "\\u001B", "\\u202E", "\\u007F", "\\u00FC");
        assertThat(file.chars().filter(c -> c != '\n').allMatch(c -> c >= 0x20 && c < 0x7f)).as("printable ASCII only").isTrue();
        assertThat(journal.read(RUN).events()).containsExactly(event);
    }

    @Test
    void aTornLastLineIsLeftOutAndTheRunIsInterrupted() throws IOException {
        Journal journal = new Journal(dir);
        List<Event> events = Events.everyKind(RUN, T);
        events.forEach(journal::append);
        Path file = dir.resolve(RUN + ".jsonl");
        long size = Files.size(file);
        String last = Files.readAllLines(file).get(events.size() - 1);
        // As kill -9 during the last append would leave it: the run-ended line cut off halfway, no line break.
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
            channel.truncate(size - 1 - last.length() / 2);
        }

        RunLog log = journal.read(RUN);

        assertThat(log.events()).containsExactlyElementsOf(events.subList(0, events.size() - 1));
        assertThat(log.torn()).isTrue();
        assertThat(log.interrupted()).isTrue();
        assertThat(journal.list()).singleElement().satisfies(r -> {
            assertThat(r.interrupted()).isTrue();
            assertThat(r.outcome()).isEmpty();
            assertThat(r.events()).isEqualTo(events.size() - 1);
        });
    }

    @Test
    void aCorruptLineThatIsNotTheTornLastOneIsAnErrorNamingTheFileAndTheLine() throws IOException {
        Journal journal = new Journal(dir);
        Events.everyKind(RUN, T).subList(0, 4).forEach(journal::append);
        Path file = dir.resolve(RUN + ".jsonl");
        List<String> lines = new ArrayList<>(Files.readAllLines(file));
        lines.set(2, lines.get(2).substring(0, 40) + "SECRET-ish content}");
        Files.write(file, lines);

        assertThatThrownBy(() -> journal.read(RUN)).isInstanceOf(JournalException.class)
                .hasMessage(file + ": line 3: not a JSON object (a corrupt line)");
        // Review item 12: listing flags the one bad file instead of failing as a whole.
        assertThat(journal.list()).singleElement().satisfies(r -> {
            assertThat(r.run()).isEqualTo(RUN);
            assertThat(r.unreadable()).contains(file + ": line 3: not a JSON object (a corrupt line)");
        });
    }

    @Test
    void anUnknownEventTypeFromANewerVersionIsAnErrorNamingTheTypeAndTheLine() throws IOException {
        Path file = dir.resolve(RUN + ".jsonl");
        Files.writeString(file, EventCodec.encode(Events.everyKind(RUN, T).get(0)) + "\n"
                + "{\"type\":\"customer-moved\",\"run\":\"" + RUN + "\",\"at\":\"2026-12-01T05:28:48.123Z\",\"weight\":10}\n");

        assertThatThrownBy(() -> new Journal(dir).read(RUN)).isInstanceOf(JournalException.class)
                .hasMessageStartingWith(file + ": line 2: unknown event type 'customer-moved' (written by a newer dualdeploy?");
    }

    @Test
    void aMissingOrMistypedFieldIsAnErrorNamingTheField() throws IOException {
        Path file = dir.resolve(RUN + ".jsonl");
        Files.writeString(file, "{\"type\":\"aborted\",\"run\":\"" + RUN + "\",\"at\":\"2026-12-01T05:28:48.123Z\",\"stage\":null,\"side\":null}\n");
        assertThatThrownBy(() -> new Journal(dir).read(RUN))
                .hasMessage(file + ": line 1: a aborted event that cannot be read: the field 'reason' is missing");

        Files.writeString(file, "{\"type\":\"run-ended\",\"run\":\"" + RUN + "\",\"at\":\"2026-12-01T05:28:48.123Z\",\"stage\":null,"
                + "\"side\":\"sideways\",\"outcome\":\"SUCCEEDED\",\"exitCode\":0,\"reason\":\"ok\"}\n");
        assertThatThrownBy(() -> new Journal(dir).read(RUN))
                .hasMessageStartingWith(file + ": line 1: a run-ended event that cannot be read: the field 'side' is not");
    }

    @Test
    void runIdsThatCouldLeaveTheDirectoryOrForgeALineAreRefused() {
        Journal journal = new Journal(dir);
        for (String bad : List.of("../x", "..", "a/b", "a\\b", "x\ny", "", ".hidden", "a..b", "x".repeat(129), "ü")) {
            assertThatThrownBy(() -> journal.read(bad)).as(bad).isInstanceOf(JournalException.class)
                    .hasMessageContaining("is not a run id: expected at most 128 letters, digits, '.', '_' and '-'");
        }
        assertThatThrownBy(() -> journal.read("x\ny")).hasMessageStartingWith("'x\\ny' is not a run id");
        assertThatThrownBy(() -> new Event.Aborted("../x", T, Optional.empty(), Optional.empty(), "x"))
                .isInstanceOf(JournalException.class);
        assertThatThrownBy(() -> journal.read(RUN)).isInstanceOf(JournalException.class).hasMessage("no run '" + RUN + "' in " + dir);
        assertThat(RunIds.valid(RUN)).isTrue();
    }

    @Test
    void runIdsSortByTimeAndDoNotCollideWithinOneMillisecond() {
        Clock same = Clock.fixed(T, ZoneOffset.UTC);
        Set<String> ids = new HashSet<>();
        for (int i = 0; i < 10_000; i++) {
            String id = RunIds.next(same);
            assertThat(id).matches("20261201T052848\\.123Z-[0-9a-f]{16}");
            assertThat(RunIds.valid(id)).isTrue();
            ids.add(id);
        }
        assertThat(ids).hasSize(10_000);
        String earlier = RunIds.next(Clock.fixed(T, ZoneOffset.UTC));
        String later = RunIds.next(Clock.fixed(T.plusMillis(1), ZoneOffset.UTC));
        String nextDay = RunIds.next(Clock.fixed(T.plus(Duration.ofDays(1)).minusSeconds(7200), ZoneOffset.UTC));
        assertThat(List.of(nextDay, later, earlier)).isSortedAccordingTo((a, b) -> b.compareTo(a));
    }

    @Test
    void aHugeLineOrFileIsRefusedInBoundedTimeAndMemory() throws IOException {
        Path file = dir.resolve(RUN + ".jsonl");
        // 8 MiB of one line with no break: read whole, it would be a string of 16 MiB; the reader stops at 64 KiB.
        try (OutputStream out = Files.newOutputStream(file)) {
            byte[] block = new byte[1024 * 1024];
            Arrays.fill(block, (byte) 'x');
            for (int i = 0; i < 8; i++) {
                out.write(block);
            }
        }
        Journal journal = new Journal(dir);
        assertTimeoutPreemptively(Duration.ofSeconds(5), () -> assertThatThrownBy(() -> journal.read(RUN))
                .isInstanceOf(JournalException.class)
                .hasMessage(file + ": line 1 is longer than the 65536 bytes a journal line may hold (a corrupt file)"));

        // A file over the limit (2 GiB here, sparse) is read up to the limit, not refused and not read whole.
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
            channel.truncate(0);
            channel.write(ByteBuffer.wrap((EventCodec.encode(Events.everyKind(RUN, T).get(0)) + "\n").getBytes(StandardCharsets.UTF_8)));
            channel.write(ByteBuffer.wrap(new byte[] {'\n'}), 2L * 1024 * 1024 * 1024);
        }
        assertTimeoutPreemptively(Duration.ofSeconds(5), () -> assertThatThrownBy(() -> journal.read(RUN))
                .hasMessage(file + ": line 2 is longer than the 65536 bytes a journal line may hold (a corrupt file)"));
    }

    /** Review item 12: a file longer than the limit is read up to the limit and said to be cut. */
    @Test
    void aFileOverTheLimitIsReadUpToItAndSaidToBeCut() throws IOException {
        Path file = dir.resolve(RUN + ".jsonl");
        Journal small = new Journal(dir, false, 4 * Journal.MAX_LINE);
        StringBuilder lines = new StringBuilder();
        int written = 0;
        while (lines.length() <= 5 * Journal.MAX_LINE) {
            lines.append(EventCodec.encode(new Event.RolloutProgress(RUN, T, Optional.of("prod"), Optional.of(Side.LEGACY),
                    "updated " + written + " " + "z".repeat(1000)))).append('\n');
            written++;
        }
        Files.writeString(file, lines);

        RunLog log = small.read(RUN);

        assertThat(log.cut()).isTrue();
        assertThat(log.torn()).as("the line the limit cuts is not a torn append").isFalse();
        assertThat(log.events()).hasSizeBetween(1, written - 1);
        assertThat(small.list()).singleElement().satisfies(r -> assertThat(r.cut()).isTrue());
    }

    /**
     * Review item 4: an event over the line limit (a platform's message of megabytes) is journaled cut and marked, not
     * refused, so the journal goes on; only an event that cannot be cut small enough becomes a notice saying so.
     */
    @Test
    void anEventOverTheLineLimitIsJournaledCutAndMarked() throws IOException {
        Journal journal = new Journal(dir);
        String said = "a platform said: ";
        Event aborted = new Event.Aborted(RUN, T, Optional.of("prod"), Optional.empty(), said + "\u00e9".repeat(200_000));
        Event started = new Event.StageStarted(RUN, T, Optional.of("prod"), Optional.empty(), "deploy", List.of(Side.LEGACY),
                Optional.of(Events.IMAGE), Optional.of("v".repeat(100_000)), List.of("b".repeat(70_000)));
        Event stages = new Event.RunStarted(RUN, T, Optional.empty(), Optional.empty(), "deploy",
                java.util.stream.IntStream.range(0, 20_000).mapToObj(i -> "stage-" + i).toList(), Optional.empty(), Optional.empty(),
                Optional.of("u".repeat(100_000)));
        Event after = new Event.Notice(RUN, T, Optional.of("prod"), Optional.empty(), "the journal goes on");

        List.of(aborted, started, stages, after).forEach(journal::append);

        Path file = dir.resolve(RUN + ".jsonl");
        assertThat(Files.readAllLines(file)).hasSize(4).allSatisfy(l -> assertThat(l.length() + 1).isLessThanOrEqualTo(Journal.MAX_LINE))
                .first().asString().contains("\"cut\":true");
        List<Event> read = journal.read(RUN).events();
        assertThat(read).hasSize(4);
        assertThat(((Event.Aborted) read.get(0)).reason()).startsWith(said + "\u00e9\u00e9").contains("(cut: ");
        assertThat(((Event.StageStarted) read.get(1)).image()).contains(Events.IMAGE);
        assertThat(((Event.StageStarted) read.get(1)).version()).hasValueSatisfying(v -> assertThat(v).contains("(cut: "));
        assertThat(((Event.RunStarted) read.get(2)).stages()).startsWith("stage-0", "stage-1").hasSizeLessThan(20_000)
                .last().asString().contains("(cut: ");
        assertThat(read.get(3)).isEqualTo(after);
    }

    /** Review item 4: a run's file keeps room for the run's end, so a full file still says how the run ended. */
    @Test
    void aFullFileRefusesMoreEventsButKeepsRoomForTheRunsEnd() {
        Journal journal = new Journal(dir, false, 3 * Journal.MAX_LINE);
        Event progress = new Event.RolloutProgress(RUN, T, Optional.of("prod"), Optional.of(Side.LEGACY), "p".repeat(10_000));
        JournalException full = null;
        int appended = 0;
        while (full == null && appended < 100) {
            try {
                journal.append(progress);
                appended++;
            } catch (JournalException e) {
                full = e;
            }
        }
        assertThat(full).isInstanceOf(JournalFullException.class).hasMessageContaining(dir.resolve(RUN + ".jsonl").toString())
                .hasMessageContaining("holds at most " + 3 * Journal.MAX_LINE + " bytes");
        Event end = new Event.RunEnded(RUN, T, Optional.empty(), Optional.empty(), "SUCCEEDED", 0, "done");
        journal.append(end);
        assertThat(journal.read(RUN).events()).hasSize(appended + 1).last().isEqualTo(end);
    }

    /**
     * Review item 14: a symbolic link in the journal's directory chain (a planted {@code .dualdeploy}) or under a run's
     * name is refused naming it, and nothing is written where it leads; a directory the user named is theirs to choose.
     */
    @Test
    void aSymbolicLinkInTheChainOrUnderARunsNameIsRefusedNamingIt() throws IOException {
        Path real = dir.toRealPath();
        Path elsewhere = Files.createDirectory(real.resolve("elsewhere"));
        Path link = Files.createSymbolicLink(real.resolve(".dualdeploy"), elsewhere);
        Event event = Events.everyKind(RUN, T).get(0);

        assertThatThrownBy(() -> Journal.refusingLinks(link.resolve("journal")).append(event)).isInstanceOf(JournalException.class)
                .hasMessageContaining(link + " is a symbolic link");
        try (var left = Files.list(elsewhere)) {
            assertThat(left).as("nothing written where the link leads").isEmpty();
        }

        Path journalLink = Files.createSymbolicLink(Files.createDirectory(real.resolve("ws")).resolve("journal"), elsewhere);
        assertThatThrownBy(() -> Journal.refusingLinks(journalLink).append(event)).hasMessageContaining(journalLink + " is a symbolic link");

        // Named by the user (--journal): the directory is followed, but a run's file is never a link.
        new Journal(link.resolve("journal")).append(event);
        assertThat(elsewhere.resolve("journal").resolve(RUN + ".jsonl")).isRegularFile();
        String other = "20261201T052848.123Z-fedcba9876543210";
        Path target = Files.writeString(real.resolve("target"), "");
        Path fileLink = Files.createSymbolicLink(elsewhere.resolve("journal").resolve(other + ".jsonl"), target);
        Event second = new Event.Aborted(other, T, Optional.empty(), Optional.empty(), "x");
        assertThatThrownBy(() -> new Journal(link.resolve("journal")).append(second))
                .hasMessageContaining(link.resolve("journal").resolve(fileLink.getFileName()) + " is a symbolic link");
        assertThat(target).isEmptyFile();
    }

    /** Review item 14: the journal's files and the directories it creates are the owner's only, where POSIX allows. */
    @Test
    void theFilesAndDirectoriesTheJournalCreatesAreOwnerOnly() throws IOException {
        org.junit.jupiter.api.Assumptions.assumeTrue(dir.getFileSystem().supportedFileAttributeViews().contains("posix"));
        Path journalDir = dir.toRealPath().resolve(".dualdeploy").resolve("journal");
        Journal.refusingLinks(journalDir).append(Events.everyKind(RUN, T).get(0));

        assertThat(java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(journalDir.resolve(RUN + ".jsonl"))))
                .isEqualTo("rw-------");
        assertThat(java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(journalDir))).isEqualTo("rwx------");
        assertThat(java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(journalDir.getParent())))
                .isEqualTo("rwx------");
    }

    @Test
    void aFifoOrALinkUnderARunsNameIsNotRead() throws Exception {
        Path target = dir.resolve("elsewhere");
        Files.writeString(target, "x\n");
        Files.createSymbolicLink(dir.resolve(RUN + ".jsonl"), target);
        assertThatThrownBy(() -> new Journal(dir).read(RUN)).hasMessage(dir.resolve(RUN + ".jsonl")
                + " is not a regular file; a journal holds one file per run");
    }

    @Test
    void twoWritersAppendingToTwoRunsInOneNewDirectoryDoNotInterfere() throws Exception {
        Path shared = dir.resolve("not").resolve("yet").resolve("there");
        String other = "20261201T052848.123Z-fedcba9876543210";
        int each = 300;
        CyclicBarrier start = new CyclicBarrier(2);
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            List<Future<List<Event>>> writers = new ArrayList<>();
            for (String run : List.of(RUN, other)) {
                writers.add(pool.submit(() -> {
                    // Each writer has its own Journal, as two processes would; both create the directory at once.
                    Journal journal = new Journal(shared);
                    List<Event> written = new ArrayList<>();
                    start.await();
                    for (int i = 0; i < each; i++) {
                        Event e = new Event.RolloutProgress(run, T.plusMillis(i), Optional.of("sandbox"), Optional.of(Side.LEGACY),
                                run.substring(run.length() - 4) + " event " + i);
                        journal.append(e);
                        written.add(e);
                    }
                    return written;
                }));
            }
            List<Event> first = writers.get(0).get();
            List<Event> second = writers.get(1).get();
            Journal reader = new Journal(shared);
            assertThat(reader.read(RUN).events()).hasSize(each).containsExactlyElementsOf(first);
            assertThat(reader.read(other).events()).hasSize(each).containsExactlyElementsOf(second);
            assertThat(reader.list()).extracting(RunSummary::run).containsExactly(other, RUN);
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void listIgnoresFilesThatAreNotRunsAndAnEmptyOrMissingDirectoryHasNone() throws IOException {
        assertThat(new Journal(dir.resolve("missing")).list()).isEmpty();
        Files.writeString(dir.resolve("notes.txt"), "x");
        Files.writeString(dir.resolve("..jsonl"), "x");
        assertThat(new Journal(dir).list()).isEmpty();
    }

    @Test
    void theJournalDependsOnlyOnConfigReleaseTextAndTimeTypes() throws IOException {
        // Dependency direction (ARCHITECTURE.md): pipeline emits events, report reads them; the journal reaches back
        // into neither, nor into targets or analysis, so that its JSON does not change when they do. The lease keeper
        // takes the injected clock and sleeper (time).
        try (var files = Files.list(Path.of("src/main/java/dev/dualdeploy/journal"))) {
            for (Path file : files.toList()) {
                for (String line : Files.readAllLines(file)) {
                    if (line.startsWith("import dev.dualdeploy.")) {
                        assertThat(line).as(file.getFileName().toString())
                                .matches("import dev\\.dualdeploy\\.(config|release|text|time)\\.[A-Za-z]+;");
                    }
                }
            }
        }
    }

    @Test
    void eachLineOfAProgressStyleMessageReadsAsToday() {
        List<Event> events = Events.everyKind(RUN, T);
        List<String> messages = events.stream().map(Event::message).toList();
        assertThat(messages).contains(
                "deploying 1.4.2 (" + Events.IMAGE + ") to legacy + kubernetes",
                "SUCCEEDED: 3/3 ready (12.3s)",
                "runs 1.4.2 abababababab, HEALTHY (3/3 ready)",
                "gate canary: watching kubernetes for 15m in 30 windows of 30s; 1 checks",
                "gate canary window 1/30: kubernetes error_rate 0.210%",
                "gate canary window 2/30: legacy before-deploy error_rate could not be read: connection refused (1 in a row; error_limit 2)",
                "gate canary PASS → PASS: all 1 checks passed over 15m (30 windows)",
                "rollback TIMED_OUT: 1/2 tasks running after 10m (600.0s)",
                "recorded 1.4.2 as the last good release on legacy + kubernetes",
                "ROLLED_BACK: the gate FAILED [PARITY]");
    }
}
