package dev.dualdeploy.journal;

import dev.dualdeploy.text.Text;

/**
 * A journal that cannot be written or read: a bad run id, an unknown run, a corrupt file, a link in the way, an I/O
 * error (then the cause is the {@link java.io.IOException}). The message is
 * one line, names the file and the line where there is one, and never quotes a file's content.
 */
public class JournalException extends RuntimeException {

    public JournalException(String message) {
        super(Text.line(message));
    }

    public JournalException(String message, Throwable cause) {
        super(Text.line(message), cause);
    }
}
