package dev.dualdeploy.config;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * Reading a file that holds credentials (a kubeconfig, a Docker {@code config.json}): bounded in size, and with
 * errors that name the file and a line number but never its content. A parser's own message is never passed on,
 * because it quotes the offending line, and that line can be a token.
 */
public final class CredentialFile {

    /** The largest credential file read: 1 MiB, far above any real kubeconfig or Docker config. */
    public static final int MAX_BYTES = 1024 * 1024;

    private CredentialFile() {
    }

    /**
     * Reads at most {@link #MAX_BYTES} of the file through a bounded stream (so {@code /dev/zero} fails at once).
     *
     * @param what what the file is, for messages, such as {@code kubeconfig}
     * @throws ConfigException if the file is larger than the bound, or is not a regular file that can be read; the
     *                         message names the file and the reason only
     */
    public static byte[] read(Path file, String what) {
        if (Files.isDirectory(file)) {
            throw problem(file, "", "the " + what + " is a directory, not a file", "");
        }
        if (Files.exists(file) && !Files.isRegularFile(file)) {
            // Opening a FIFO blocks until something writes to it: validate hung for ever (issue 8 item 11).
            throw problem(file, "", "the " + what + " is not a regular file (a device, FIFO or socket); it is not a " + what, "");
        }
        byte[] bytes;
        try (InputStream in = Files.newInputStream(file)) {
            bytes = in.readNBytes(MAX_BYTES + 1);
        } catch (NoSuchFileException e) {
            throw problem(file, "", "the " + what + " does not exist", "");
        } catch (AccessDeniedException e) {
            throw problem(file, "", "the " + what + " cannot be read (permission denied)", "");
        } catch (IOException e) {
            throw problem(file, "", "the " + what + " cannot be read (" + e.getClass().getSimpleName() + ")", "");
        }
        if (bytes.length > MAX_BYTES) {
            throw problem(file, "", "the " + what + " is larger than 1 MiB; it is not a " + what, "");
        }
        return bytes;
    }

    /**
     * The problem for a file a parser refused: {@code line N} from the parser's location, never its message.
     *
     * @param expected what the file should have been, such as {@code YAML} or {@code JSON}
     */
    public static ConfigException unparseable(Path file, String what, String expected, JsonProcessingException e) {
        JsonLocation location = e.getLocation();
        String line = location != null && location.getLineNr() > 0 ? "line " + location.getLineNr() : "";
        return problem(file, line, "the " + what + " is not valid " + expected
                + " (the content is not shown, as it may hold credentials)", "");
    }

    /** One problem with a credential file, as a {@link ConfigException} without a cause that could carry content. */
    public static ConfigException problem(Path file, String path, String problem, String example) {
        return new ConfigException(new ConfigProblem(file.toString(), path, problem, example));
    }
}
