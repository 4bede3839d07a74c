package dev.dualdeploy.journal;

import dev.dualdeploy.text.Text;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;

/**
 * The journal of runs: one JSON Lines file per run, {@code <run id>.jsonl}, in one directory. Append-only; every event
 * is written, flushed and fsynced before {@link #append} returns, so that the engine acts on a decision only once it
 * is on disk and a {@code kill -9} loses at most the event being written (which reading then tolerates as a torn last
 * line). Processes appending to different runs in one directory do not interfere: each run has its own file, and no
 * file is shared.
 *
 * <p>Bounds: a line holds at most {@link #MAX_LINE} bytes and a run's file at most {@link #MAX_FILE}; a longer line or
 * file is refused on append and on reading, so no file makes a reader run out of memory or time.
 */
public final class Journal {

    /** The longest line (one event, with its line break) a journal holds: 64 KiB. */
    public static final int MAX_LINE = 64 * 1024;
    /** The largest file (one run) a journal holds: 64 MiB, some 200,000 events. */
    public static final long MAX_FILE = 64L * 1024 * 1024;
    /** The file name suffix of a run's journal. */
    public static final String SUFFIX = ".jsonl";

    private final Path directory;

    /** A journal in this directory; it is created by the first append, not before. */
    public Journal(Path directory) {
        this.directory = directory;
    }

    public Path directory() {
        return directory;
    }

    /**
     * Appends one event to its run's file and forces it to disk before returning. Not idempotent: each call adds a
     * line. Creates the directory and the file when they do not exist yet.
     *
     * @throws JournalException if the event is larger than {@link #MAX_LINE}, the file would exceed {@link #MAX_FILE},
     *                          or the file cannot be written
     */
    public void append(Event event) {
        byte[] line = (EventCodec.encode(event) + "\n").getBytes(StandardCharsets.UTF_8);
        Path file = file(event.run());
        if (line.length > MAX_LINE) {
            throw new JournalException("cannot journal a " + event.type() + " event of " + line.length + " bytes in " + file
                    + ": a journal line holds at most " + MAX_LINE + " bytes");
        }
        try {
            Files.createDirectories(directory);
            boolean created = !Files.exists(file, LinkOption.NOFOLLOW_LINKS);
            // NOFOLLOW_LINKS: a link planted under a run's name must not make the journal append to another file.
            try (FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                    StandardOpenOption.APPEND, LinkOption.NOFOLLOW_LINKS)) {
                if (channel.size() + line.length > MAX_FILE) {
                    throw new JournalException("cannot journal more in " + file + ": a run's journal holds at most " + MAX_FILE + " bytes");
                }
                ByteBuffer buffer = ByteBuffer.wrap(line);
                while (buffer.hasRemaining()) {
                    channel.write(buffer);
                }
                channel.force(true);
            }
            if (created) {
                syncDirectory();
            }
        } catch (IOException e) {
            throw new JournalException("cannot write the journal " + file + ": " + describe(e), e);
        }
    }

    /**
     * Reads one run's events. A torn last line (the process died while writing it) is left out and said in
     * {@link RunLog#torn()}; any other line that cannot be read is an error.
     *
     * @throws JournalException if the id is not a run id, there is no such run, or its file is corrupt or too large
     */
    public RunLog read(String run) {
        Path file = file(run);
        if (!Files.exists(file, LinkOption.NOFOLLOW_LINKS)) {
            throw new JournalException("no run '" + run + "' in " + directory);
        }
        List<Event> events = new ArrayList<>();
        boolean torn = read(file, events);
        return new RunLog(run, events, torn);
    }

    /**
     * Every run in the directory, newest first (run ids sort by the time they began). Files whose names are not
     * {@code <run id>.jsonl} are not runs and are left alone. Empty when the directory does not exist.
     *
     * @throws JournalException if a run's file is corrupt or too large, or the directory cannot be listed
     */
    public List<RunSummary> list() {
        if (!Files.isDirectory(directory)) {
            return List.of();
        }
        List<String> runs = new ArrayList<>();
        try (DirectoryStream<Path> files = Files.newDirectoryStream(directory, "*" + SUFFIX)) {
            for (Path file : files) {
                String name = file.getFileName().toString();
                String run = name.substring(0, name.length() - SUFFIX.length());
                if (RunIds.valid(run)) {
                    runs.add(run);
                }
            }
        } catch (IOException e) {
            throw new JournalException("cannot list the journal " + directory + ": " + describe(e), e);
        }
        runs.sort(Comparator.reverseOrder());
        List<RunSummary> summaries = new ArrayList<>();
        for (String run : runs) {
            summaries.add(summary(read(run)));
        }
        return summaries;
    }

    /** What {@link #list} shows of a run. */
    public static RunSummary summary(RunLog log) {
        List<Event> events = log.events();
        Optional<Instant> started = events.isEmpty() ? Optional.empty() : Optional.of(events.get(0).at());
        Optional<Event.RunStarted> start = events.stream().filter(Event.RunStarted.class::isInstance).map(Event.RunStarted.class::cast)
                .findFirst();
        Optional<Event.RunEnded> end = events.stream().filter(Event.RunEnded.class::isInstance).map(Event.RunEnded.class::cast)
                .reduce((first, second) -> second);
        Set<String> stages = new LinkedHashSet<>();
        start.ifPresent(s -> stages.addAll(s.stages()));
        events.forEach(e -> e.stage().ifPresent(stages::add));
        return new RunSummary(log.run(), start.map(Event::at).or(() -> started), start.map(Event.RunStarted::command),
                List.copyOf(stages), start.flatMap(Event.RunStarted::by), end.map(Event.RunEnded::outcome),
                end.map(Event.RunEnded::exitCode), events.size());
    }

    /** The file of a run; the id is checked first, so that it can only name a file directly in the directory. */
    Path file(String run) {
        return directory.resolve(RunIds.check(run) + SUFFIX);
    }

    /** Reads a file's whole lines into {@code events}; returns whether it ended in a torn line. */
    private static boolean read(Path file, List<Event> events) {
        BasicFileAttributes attributes;
        try {
            attributes = Files.readAttributes(file, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        } catch (IOException e) {
            throw new JournalException("cannot read the journal " + file + ": " + describe(e), e);
        }
        // Opening a FIFO would block until a writer comes; a link could lead anywhere. A journal holds only files.
        if (!attributes.isRegularFile()) {
            throw new JournalException(file + " is not a regular file; a journal holds one file per run");
        }
        if (attributes.size() > MAX_FILE) {
            throw new JournalException(file + " is " + attributes.size() + " bytes, over the " + MAX_FILE + " a run's journal may hold");
        }
        try (InputStream in = new BufferedInputStream(Files.newInputStream(file, LinkOption.NOFOLLOW_LINKS), 64 * 1024)) {
            ByteArrayOutputStream line = new ByteArrayOutputStream(1024);
            long number = 1;
            long total = 0;
            int b;
            while ((b = in.read()) != -1) {
                if (++total > MAX_FILE) {
                    // It grew while it was read (a run still writing it, or something else).
                    throw new JournalException(file + " is over the " + MAX_FILE + " bytes a run's journal may hold");
                }
                if (b != '\n') {
                    if (line.size() >= MAX_LINE) {
                        throw new JournalException(file + ": line " + number + " is longer than the " + MAX_LINE
                                + " bytes a journal line may hold (a corrupt file)");
                    }
                    line.write(b);
                    continue;
                }
                String where = file + ": line " + number;
                if (line.size() == 0) {
                    throw new JournalException(where + " is empty (a corrupt file)");
                }
                events.add(EventCodec.decode(text(line, where), where));
                line.reset();
                number++;
            }
            // Every append ends its line; bytes after the last line break are an append cut short (kill -9, a full
            // disk), whatever they look like. They are the event being written when the process died: left out.
            return line.size() > 0;
        } catch (NoSuchFileException e) {
            throw new JournalException("no run file " + file, e);
        } catch (IOException e) {
            throw new JournalException("cannot read the journal " + file + ": " + describe(e), e);
        }
    }

    private static String text(ByteArrayOutputStream line, String where) {
        try {
            CharBuffer chars = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(line.toByteArray()));
            return chars.toString();
        } catch (CharacterCodingException e) {
            throw new JournalException(where + " is not UTF-8 text (a corrupt line)");
        }
    }

    /**
     * Forces the directory entry of a new run's file to disk, so that a crash of the machine (not only of the process)
     * cannot lose the file whose first event was already reported as written.
     */
    private void syncDirectory() {
        try (FileChannel dir = FileChannel.open(directory, StandardOpenOption.READ)) {
            dir.force(true);
        } catch (IOException e) {
            // Some platforms cannot open a directory as a channel; the file itself is on disk, which is what a kill -9
            // needs. Nothing to do.
        }
    }

    private static String describe(IOException e) {
        String kind = e.getClass().getSimpleName().replace("Exception", "").replaceAll("([a-z])([A-Z])", "$1 $2").toLowerCase(Locale.ROOT);
        return e.getMessage() == null ? kind : kind + " (" + Text.line(e.getMessage(), 200) + ")";
    }
}
