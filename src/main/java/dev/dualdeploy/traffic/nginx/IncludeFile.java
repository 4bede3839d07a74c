package dev.dualdeploy.traffic.nginx;

import dev.dualdeploy.text.Text;
import dev.dualdeploy.time.Sleeper;
import dev.dualdeploy.traffic.TrafficException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The include file on disk: its lock, what it holds now, and replacing it by a rename so that nginx (and a person
 * reading it) only ever sees a whole file, the old or the new one.
 */
final class IncludeFile {

    /** The largest file read: ours is a few hundred bytes, and a bigger one is not ours. */
    static final int MAX_SIZE = 64 * 1024;
    private static final Duration FIRST_PAUSE = Duration.ofMillis(20);
    private static final Duration LONGEST_PAUSE = Duration.ofMillis(500);

    /**
     * The locks this JVM holds, by lock file. A file lock belongs to the whole process, so two routers of one JVM (two
     * threads) would not exclude each other by it alone: the JVM throws instead of waiting.
     */
    private static final Map<Path, ReentrantLock> HELD = new ConcurrentHashMap<>();

    private final Path file;

    IncludeFile(Path file) {
        this.file = file.toAbsolutePath().normalize();
    }

    /** The lock, held until closed. */
    interface Held extends AutoCloseable {
        @Override
        void close();
    }

    Path path() {
        return file;
    }

    /** The sibling {@code <file>.lock} that every writer of this file locks. It stays behind, empty. */
    Path lockFile() {
        return file.resolveSibling(file.getFileName() + ".lock");
    }

    /**
     * Takes the exclusive lock, waiting with backoff until {@code deadline}.
     *
     * @throws TrafficException if the directory does not exist or cannot be written, or another run holds the lock past the deadline
     */
    Held lock(Clock clock, Sleeper sleeper, Instant deadline) {
        Path lockFile = lockFile();
        if (!Files.isDirectory(file.getParent())) {
            throw new TrafficException("the directory of the nginx include " + shown(file) + " does not exist; create it, or point"
                    + " the router's file at a directory that does");
        }
        FileChannel channel;
        try {
            // The lock file is only locked, never written, and a link there is not followed.
            channel = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS);
        } catch (IOException e) {
            throw new TrafficException("cannot write next to the nginx include " + shown(file) + ": " + reason(e));
        }
        ReentrantLock jvm = HELD.computeIfAbsent(lockFile, k -> new ReentrantLock());
        Duration pause = FIRST_PAUSE;
        while (true) {
            if (jvm.tryLock()) {
                FileLock lock;
                try {
                    lock = tryLock(channel);
                } catch (TrafficException e) {
                    jvm.unlock();
                    close(channel);
                    throw e;
                }
                if (lock != null) {
                    return () -> {
                        // Closing the channel releases the lock with it; the process ending would too.
                        close(channel);
                        jvm.unlock();
                    };
                }
                jvm.unlock();
            }
            Instant now = clock.instant();
            if (!now.isBefore(deadline)) {
                close(channel);
                throw new TrafficException("another run is changing the nginx include " + shown(file) + ": it holds "
                        + shown(lockFile) + " and did not let go within the router's timeout");
            }
            Duration left = Duration.between(now, deadline);
            sleeper.sleep(pause.compareTo(left) < 0 ? pause : left);
            pause = pause.multipliedBy(2).compareTo(LONGEST_PAUSE) < 0 ? pause.multipliedBy(2) : LONGEST_PAUSE;
        }
    }

    private FileLock tryLock(FileChannel channel) {
        try {
            return channel.tryLock();
        } catch (OverlappingFileLockException heldHere) {
            return null; // this JVM holds it through another channel (not through a router): wait as for another process
        } catch (IOException e) {
            throw new TrafficException("cannot lock " + shown(lockFile()) + ": " + reason(e));
        }
    }

    /**
     * The file's bytes as they are, or null if there is none.
     *
     * @throws TrafficException if it is not a regular file, cannot be written, or was not written by dualdeploy (a
     *                          file someone wrote by hand is never replaced)
     */
    byte[] current() {
        if (!Files.exists(file, LinkOption.NOFOLLOW_LINKS)) {
            return null;
        }
        if (!Files.isRegularFile(file)) {
            throw new TrafficException("the nginx include " + shown(file) + " is not a regular file; point the router's file at"
                    + " a file of its own (dualdeploy writes it)");
        }
        if (!Files.isWritable(file)) {
            throw new TrafficException("the nginx include " + shown(file) + " is not writable by this user; dualdeploy must be able"
                    + " to replace it");
        }
        byte[] bytes;
        try {
            if (Files.size(file) > MAX_SIZE) {
                throw notOurs("it is " + Files.size(file) + " bytes, far more than dualdeploy writes");
            }
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new TrafficException("cannot read the nginx include " + shown(file) + ": " + reason(e));
        }
        if (generation(bytes).isEmpty()) {
            throw notOurs("its first line is not \"" + Include.MARK + "N …\"");
        }
        return bytes;
    }

    /** The generation a file of ours holds (its first line). */
    static OptionalLong generation(byte[] bytes) {
        String text = new String(bytes, StandardCharsets.UTF_8);
        int end = text.indexOf('\n');
        return Include.generation(end < 0 ? text : text.substring(0, end));
    }

    private TrafficException notOurs(String why) {
        return new TrafficException("the nginx include " + shown(file) + " exists and was not written by dualdeploy (" + why
                + "); dualdeploy does not overwrite a file it did not write: remove it, or point the router's file elsewhere");
    }

    /**
     * Puts {@code content} in place: written to a temporary sibling, flushed to disk, then renamed over the file, so that
     * nginx never reads half of it. A symbolic link at the path is followed: its target is replaced, the link stays.
     * The permissions of the file it replaces are kept.
     */
    void install(byte[] content) {
        Path target = target();
        Path temporary = target.resolveSibling("." + target.getFileName() + ".dualdeploy.tmp");
        try {
            // A fresh file, never one found at the temporary's name: whoever can write the directory could have left a
            // symbolic link there, and writing through it would overwrite any file this user may write.
            Files.deleteIfExists(temporary);
            try (FileChannel out = FileChannel.open(temporary, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE,
                    LinkOption.NOFOLLOW_LINKS)) {
                ByteBuffer buffer = ByteBuffer.wrap(content);
                while (buffer.hasRemaining()) {
                    out.write(buffer);
                }
                out.force(true);
            }
            if (Files.exists(target)) {
                try {
                    Files.setPosixFilePermissions(temporary, Files.getPosixFilePermissions(target));
                } catch (UnsupportedOperationException notPosix) {
                    // Not a POSIX file system: the new file has the default permissions.
                }
            }
            Files.move(temporary, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            deleteQuietly(temporary);
            throw new TrafficException("cannot write the nginx include " + shown(file) + ": " + reason(e));
        }
    }

    /** Puts the old content back as it was, byte for byte; null (there was no file) removes the file. */
    void restore(byte[] old) {
        if (old != null) {
            install(old);
            return;
        }
        try {
            Files.deleteIfExists(target());
        } catch (IOException e) {
            throw new TrafficException("cannot remove the nginx include " + shown(file) + ": " + reason(e));
        }
    }

    private Path target() {
        if (Files.isSymbolicLink(file)) {
            try {
                return file.toRealPath();
            } catch (IOException dangling) {
                return file; // a link to nothing: replace the link itself rather than write through it
            }
        }
        return file;
    }

    private static void deleteQuietly(Path path) {
        try {
            Files.deleteIfExists(path);
        } catch (IOException ignored) {
            // Left behind; the next write truncates it.
        }
    }

    private static void close(FileChannel channel) {
        try {
            channel.close();
        } catch (IOException ignored) {
            // Nothing was written through it.
        }
    }

    /** A path as a message shows it. */
    static String shown(Path path) {
        return Text.foreign(path.toString());
    }

    /** Why a file operation failed, in words rather than an exception's class name. */
    static String reason(IOException e) {
        String where = e instanceof FileSystemException fs && fs.getFile() != null ? " (" + Text.foreign(fs.getFile()) + ")" : "";
        if (e instanceof NoSuchFileException) {
            return "no such file or directory" + where;
        }
        if (e instanceof AccessDeniedException) {
            return "permission denied" + where;
        }
        if (e instanceof NotDirectoryException) {
            return "not a directory" + where;
        }
        if (e instanceof FileSystemException fs && fs.getReason() != null) {
            return Text.foreign(fs.getReason()) + where;
        }
        return Text.foreign(e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage());
    }
}
