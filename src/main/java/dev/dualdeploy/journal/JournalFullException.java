package dev.dualdeploy.journal;

/**
 * A run's journal file is full ({@link Journal#MAX_FILE}): the event was not journaled. Not an I/O error: the journal
 * still takes the run's end, for which the last line's worth of the file is kept.
 */
public final class JournalFullException extends JournalException {

    public JournalFullException(String message) {
        super(message);
    }
}
