package dev.dualdeploy.journal;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/**
 * Finds the run that a {@code kill -9} (or a lost agent) stopped in the middle of a stage, so that the next run of the
 * stage can say which run it was and where it stopped before it reads the platforms and converges. The platforms stay
 * the truth: this only tells a person what happened; nothing is decided from it.
 *
 * <p>A stage's last run is the newest run (run ids sort by the time they began) that started work on the stage. It was
 * interrupted when it wrote neither a {@link Event.StageEnded} for the stage nor a {@link Event.RunEnded}: it never said
 * how the stage ended. A run that ended the stage, or a newer run that did, means nothing is left interrupted.
 *
 * <p>The search is bounded, since it runs before every deploy and rollback: runs are read newest first, and of each only
 * its first line (the run-started event, which names the run's stages) until one names this stage; only that run's file
 * is read whole, and the search stops at the newest run that started the stage.
 */
public final class Interrupted {

    /**
     * An interrupted run.
     *
     * @param run its id
     * @param by who or what started it, or empty if unknown
     * @param started when it began (its run-started event, else its first event)
     * @param last the last whole event it wrote
     * @param torn whether a line was cut short after that event (the kill landed while it was written)
     */
    public record Run(String run, Optional<String> by, Instant started, Event last, boolean torn) {

        /**
         * One line for a person: {@code run <id> (<by>, <when>) did not journal its end (killed, or its journal could not
         * be written); its last event: <last event>}. Not "was interrupted": a run whose journal filled a disk may have
         * ended well; the journal cannot tell the two apart, so the line says only what it knows.
         */
        public String line() {
            String where = last.stage().map(s -> "[" + s + last.side().map(side -> "/" + side.label()).orElse("") + "] ").orElse("");
            return "run " + run + " (" + by.orElse("unknown") + ", " + started.truncatedTo(ChronoUnit.SECONDS) + ") " + DID_NOT_END
                    + "; its last event: " + where + last.message();
        }
    }

    /** What the line says of the run: what the journal knows, not why. */
    public static final String DID_NOT_END = "did not journal its end (killed, or its journal could not be written)";

    /** How many runs, newest first, are read at most to find a stage's last run: the search stays bounded. */
    static final int MAX_RUNS = 1_000;

    private Interrupted() {
    }

    /**
     * The stage's last run, if it was interrupted (see the class comment).
     *
     * @param except the run asking (it may have started the stage already), left out
     * @return empty when the stage's last run ended the stage, no run started it, or the directory does not exist
     * @throws JournalException if the directory cannot be listed
     */
    public static Optional<Run> find(Journal journal, String stage, String except) {
        for (String id : newestFirst(journal.directory())) {
            if (id.equals(except)) {
                continue;
            }
            RunLog log;
            try {
                if (!names(journal, id, stage)) {
                    continue;
                }
                log = journal.read(id);
            } catch (JournalException unreadable) {
                continue; // a corrupt file is history's to report; it says nothing about this stage's last run
            }
            List<Event> events = log.events();
            int started = -1;
            for (int i = 0; i < events.size(); i++) {
                if (events.get(i) instanceof Event.StageStarted && events.get(i).stage().equals(Optional.of(stage))) {
                    started = i;
                }
            }
            if (started < 0) {
                continue;
            }
            boolean ended = events.stream().anyMatch(Event.RunEnded.class::isInstance) || events.subList(started, events.size()).stream()
                    .anyMatch(e -> e instanceof Event.StageEnded && e.stage().equals(Optional.of(stage)));
            if (ended) {
                return Optional.empty();
            }
            Optional<String> by = events.stream().filter(Event.RunStarted.class::isInstance).map(Event.RunStarted.class::cast)
                    .findFirst().flatMap(Event.RunStarted::by);
            Instant begun = events.stream().filter(Event.RunStarted.class::isInstance).map(Event::at).findFirst()
                    .orElse(events.get(0).at());
            return Optional.of(new Run(id, by, begun, events.get(events.size() - 1), log.torn()));
        }
        return Optional.empty();
    }

    /**
     * Whether the run may have worked on the stage, from its first line alone: a run-started event that does not name
     * the stage says no; anything else (a run-started that names it, another first event, an empty file) says maybe,
     * and the whole file is read.
     */
    static boolean names(Journal journal, String run, String stage) {
        Path file = journal.file(run);
        if (!Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) {
            return false; // a journal holds only files; Journal.read would refuse it too
        }
        ByteArrayOutputStream line = new ByteArrayOutputStream(1024);
        try (InputStream in = new BufferedInputStream(Files.newInputStream(file, LinkOption.NOFOLLOW_LINKS), 8 * 1024)) {
            for (int b = in.read(); b != '\n'; b = in.read()) {
                if (b == -1 || line.size() >= Journal.MAX_LINE) {
                    return true; // torn or too long: the whole read decides
                }
                line.write(b);
            }
        } catch (IOException e) {
            return true; // the whole read says what is wrong
        }
        Event first;
        try {
            first = EventCodec.decode(line.toString(StandardCharsets.UTF_8), file + ": line 1");
        } catch (RuntimeException corrupt) {
            return true;
        }
        return !(first instanceof Event.RunStarted started) || started.stages().contains(stage);
    }

    /**
     * What the deploy command prints on stderr when it starts a stage: the line of the stage's interrupted last run, or
     * empty. It never fails the caller: a journal that cannot be read gives a line saying so instead.
     *
     * @param directory the journal directory ({@code --journal})
     * @param except the calling run's id
     */
    public static Optional<String> line(Path directory, String stage, String except) {
        try {
            return find(new Journal(directory), stage, except).map(Run::line);
        } catch (JournalException e) {
            return Optional.of("cannot tell whether the last run of " + stage + " was interrupted: " + e.getMessage());
        }
    }

    /** The run ids in the directory, newest first, at most {@link #MAX_RUNS}; empty if it does not exist. */
    static List<String> newestFirst(Path directory) {
        if (!Files.isDirectory(directory)) {
            return List.of();
        }
        List<String> runs = new ArrayList<>();
        try (DirectoryStream<Path> files = Files.newDirectoryStream(directory, "*" + Journal.SUFFIX)) {
            for (Path file : files) {
                String name = file.getFileName().toString();
                String run = name.substring(0, name.length() - Journal.SUFFIX.length());
                if (RunIds.valid(run)) {
                    runs.add(run);
                }
            }
        } catch (IOException e) {
            throw new JournalException("cannot list the journal " + directory + ": " + e.getMessage(), e);
        }
        runs.sort(Comparator.reverseOrder());
        return runs.size() > MAX_RUNS ? runs.subList(0, MAX_RUNS) : runs;
    }
}
