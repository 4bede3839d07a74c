package dev.dualdeploy.journal;

import dev.dualdeploy.text.Text;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.HexFormat;
import java.util.regex.Pattern;

/**
 * Run ids: {@code 20261201T052848.123Z-6f1c0e2a9b7d4c10}, the UTC instant the run began (so that ids sort by time, as
 * file names and as strings) and 64 random bits (so that two processes started in the same millisecond, on one agent
 * or two, never share one). A run id becomes a file name, so every id read from outside is checked first.
 */
public final class RunIds {

    /** The longest run id accepted. */
    public static final int MAX_LENGTH = 128;
    /** A run id as it appears in help and errors. */
    public static final String EXAMPLE = "20261201T052848.123Z-6f1c0e2a9b7d4c10";

    private static final DateTimeFormatter INSTANT = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss.SSS'Z'").withZone(ZoneOffset.UTC);
    // Letters, digits, '.', '_' and '-', starting with a letter or digit: no '/', no '\', no control character, no
    // leading dot (hidden files, '..'), so that '<dir>/<id>.jsonl' always names a file directly inside the journal.
    private static final Pattern SAFE = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]*");
    private static final SecureRandom RANDOM = new SecureRandom();

    private RunIds() {
    }

    /** A new run id for a run that begins now, by the given clock. */
    public static String next(Clock clock) {
        byte[] random = new byte[8];
        RANDOM.nextBytes(random);
        return INSTANT.format(clock.instant()) + "-" + HexFormat.of().formatHex(random);
    }

    /** Whether a string may be used as a run id. */
    public static boolean valid(String id) {
        return id != null && id.length() <= MAX_LENGTH && SAFE.matcher(id).matches() && !id.contains("..");
    }

    /**
     * Returns the id if it is a valid run id.
     *
     * @throws JournalException if it is empty, too long, or holds anything but letters, digits, '.', '_' and '-'
     */
    public static String check(String id) {
        if (!valid(id)) {
            throw new JournalException("'" + (id == null ? "" : Text.line(id, 80)) + "' is not a run id: expected at most "
                    + MAX_LENGTH + " letters, digits, '.', '_' and '-', such as " + EXAMPLE);
        }
        return id;
    }
}
