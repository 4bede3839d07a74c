package dev.dualdeploy.journal;

import dev.dualdeploy.text.Secrets;
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
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
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
 * <p>Bounds: a line holds at most {@link #MAX_LINE} bytes and a run's file at most {@link #MAX_FILE}. An event whose
 * line would be longer is journaled cut (its long strings shortened, marked {@code "cut": true}), never refused; a file
 * that is full refuses more events but keeps room for the run's end. Reading stops at {@link #MAX_FILE} bytes and says
 * the file was cut; a longer line is an error. So no file makes a reader run out of memory or time.
 *
 * <p>Links: a run's file is never opened through a symbolic link. A journal made with {@link #refusingLinks} (the
 * default directory, which lies in a workspace a branch can fill) also refuses a link anywhere in its directory's
 * path as given; one made with the constructor (a directory the user named) follows links in that path. Files and the
 * directories the journal creates are the owner's only where the file system has POSIX permissions.
 */
public final class Journal {

    /** The longest line (one event, with its line break) a journal holds: 64 KiB. */
    public static final int MAX_LINE = 64 * 1024;
    /** The largest file (one run) a journal holds: 64 MiB, some 200,000 events. */
    public static final long MAX_FILE = 64L * 1024 * 1024;
    /** The file name suffix of a run's journal. */
    public static final String SUFFIX = ".jsonl";

    private static final Set<PosixFilePermission> OWNER_FILE = PosixFilePermissions.fromString("rw-------");
    private static final Set<PosixFilePermission> OWNER_DIRECTORY = PosixFilePermissions.fromString("rwx------");

    private final Path directory;
    private final boolean refuseLinks;
    private final long maxFile;

    /**
     * A journal in a directory the user named; it is created by the first append, not before. Links in the directory's
     * path are followed (the user chose it); a run's file is never a link.
     */
    public Journal(Path directory) {
        this(directory, false, MAX_FILE);
    }

    /** A journal whose file limit a test can make small. */
    Journal(Path directory, boolean refuseLinks, long maxFile) {
        this.directory = directory;
        this.refuseLinks = refuseLinks;
        this.maxFile = maxFile;
    }

    /**
     * A journal in a directory nobody named (the default {@code .dualdeploy/journal}, in a workspace whose content a
     * branch decides): appending refuses a symbolic link at any step of the directory's path as given, so that a planted
     * {@code .dualdeploy} link cannot make the run write elsewhere.
     */
    public static Journal refusingLinks(Path directory) {
        return new Journal(directory, true, MAX_FILE);
    }

    public Path directory() {
        return directory;
    }

    /**
     * Appends one event to its run's file and forces it to disk before returning. Not idempotent: each call adds a
     * line. Creates the directory and the file when they do not exist yet. An event longer than {@link #MAX_LINE} is
     * journaled cut and marked (see {@link EventCodec#cut}).
     *
     * @throws JournalFullException if the file would exceed its limit (the last {@link #MAX_LINE} bytes are kept for
     *                              the run's end)
     * @throws JournalException     if a link is in the way, or the file cannot be written (the message says why)
     */
    public void append(Event event) {
        Path file = file(event.run());
        // Redacted as a line, whatever field of whichever event quotes a secret (a platform's error echoing a token).
        byte[] line = (Secrets.redact(EventCodec.encode(event)) + "\n").getBytes(StandardCharsets.UTF_8);
        if (line.length > MAX_LINE) {
            line = (Secrets.redact(EventCodec.cut(event, MAX_LINE - 1)) + "\n").getBytes(StandardCharsets.UTF_8);
        }
        boolean posix = directory.getFileSystem().supportedFileAttributeViews().contains("posix");
        try {
            createDirectories(posix);
            if (Files.isSymbolicLink(file)) {
                throw new JournalException("cannot journal in " + directory + ": " + file + " is a symbolic link; a run's journal is"
                        + " never written through a link (it could lead anywhere)");
            }
            boolean created = !Files.exists(file, LinkOption.NOFOLLOW_LINKS);
            Set<OpenOption> options = Set.of(StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.APPEND,
                    LinkOption.NOFOLLOW_LINKS);
            // NOFOLLOW_LINKS: a link planted under a run's name between the check above and here is refused too.
            try (FileChannel channel = posix ? FileChannel.open(file, options, PosixFilePermissions.asFileAttribute(OWNER_FILE))
                    : FileChannel.open(file, options)) {
                // The last line's worth is kept for the run's end, so that a full file still says how the run ended.
                long room = event instanceof Event.RunEnded ? maxFile : maxFile - MAX_LINE;
                if (channel.size() + line.length > room) {
                    throw new JournalFullException("the journal " + file + " is full: a run's journal holds at most " + maxFile
                            + " bytes (the last " + MAX_LINE + " kept for the run's end)");
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
     * Creates the directory and any parent missing, owner-only where POSIX allows; refusing links, each step of the path
     * as given is checked without following links, the ones it creates included (something may race to put a link in).
     */
    private void createDirectories(boolean posix) throws IOException {
        if (!refuseLinks) {
            if (!Files.isDirectory(directory)) {
                if (posix) {
                    Files.createDirectories(directory, PosixFilePermissions.asFileAttribute(OWNER_DIRECTORY));
                } else {
                    Files.createDirectories(directory);
                }
            }
            return;
        }
        Path step = directory.getRoot();
        for (Path name : directory) {
            step = step == null ? name : step.resolve(name);
            if (!Files.exists(step, LinkOption.NOFOLLOW_LINKS)) {
                try {
                    if (posix) {
                        Files.createDirectory(step, PosixFilePermissions.asFileAttribute(OWNER_DIRECTORY));
                    } else {
                        Files.createDirectory(step);
                    }
                } catch (FileAlreadyExistsException e) {
                    // Another run created it meanwhile: checked below like any other.
                }
            }
            if (Files.isSymbolicLink(step)) {
                throw new JournalException("cannot journal in " + directory + ": " + step + " is a symbolic link; the journal is"
                        + " not written through a link in its default directory (a link a branch planted would make the run"
                        + " write elsewhere): remove it, or name the directory with --journal DIR");
            }
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
        int ended = read(file, events, maxFile);
        return new RunLog(run, events, ended == TORN, ended == CUT);
    }

    /**
     * Every run in the directory, newest first (run ids sort by the time they began). Files whose names are not
     * {@code <run id>.jsonl} are not runs and are left alone. A run whose file cannot be read (corrupt, not a file, not
     * readable) is listed as {@link RunSummary#unreadable}, so one bad file does not hide the others; each file is read
     * up to {@link #MAX_FILE} bytes. Empty when the directory does not exist.
     *
     * @throws JournalException if the directory cannot be listed
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
            try {
                summaries.add(summary(read(run)));
            } catch (JournalException e) {
                summaries.add(RunSummary.unreadable(run, e.getMessage()));
            }
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
                end.map(Event.RunEnded::exitCode), events.size(), log.cut(), Optional.empty());
    }

    /** The file of a run; the id is checked first, so that it can only name a file directly in the directory. */
    Path file(String run) {
        return directory.resolve(RunIds.check(run) + SUFFIX);
    }

    private static final int WHOLE = 0;
    private static final int TORN = 1;
    private static final int CUT = 2;

    /**
     * Reads a file's whole lines into {@code events}, at most {@code limit} bytes of it; returns whether it ended whole,
     * in a torn line, or was cut at the limit (the line the limit cuts is left out).
     */
    private static int read(Path file, List<Event> events, long limit) {
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
        try (InputStream in = new BufferedInputStream(Files.newInputStream(file, LinkOption.NOFOLLOW_LINKS), 64 * 1024)) {
            ByteArrayOutputStream line = new ByteArrayOutputStream(1024);
            long number = 1;
            long total = 0;
            int b;
            while ((b = in.read()) != -1) {
                if (++total > limit) {
                    // Larger than a run's journal may be (or it grew while it was read): what is past the limit is not read.
                    return CUT;
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
            return line.size() > 0 ? TORN : WHOLE;
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
