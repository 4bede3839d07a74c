package dev.dualdeploy.text;

/**
 * Makes text that may carry user-supplied values (flag values, stage names, image references, file names) safe to
 * print on one line of a terminal or a Jenkins log: control characters are shown escaped, never echoed raw.
 */
public final class Text {

    /** The longest error line printed; a longer one (a value of megabytes) is clipped, saying how much was left out. */
    public static final int MAX_LINE = 2_000;

    private Text() {
    }

    /**
     * Escapes control characters: {@code \n}, {@code \r} and {@code \t} as those two-character sequences, every other
     * C0 or C1 control (NUL included), DEL, format characters (the bidirectional overrides among them), the Unicode
     * line and paragraph separators and lone surrogates as {@code \\uXXXX}. A raw newline would forge a second log line, and an escape sequence or a bidi override would
     * rewrite what the terminal shows. Backslashes are left alone, so escaping twice changes nothing. Null stays null.
     */
    public static String escape(String text) {
        if (text == null) {
            return null;
        }
        int first = 0;
        while (first < text.length() && !unsafe(text, first)) {
            first++;
        }
        if (first == text.length()) {
            return text;
        }
        StringBuilder out = new StringBuilder(text.length() + 16).append(text, 0, first);
        for (int i = first; i < text.length(); i++) {
            char c = text.charAt(i);
            if (!unsafe(text, i)) {
                out.append(c);
            } else if (c == '\n') {
                out.append("\\n");
            } else if (c == '\r') {
                out.append("\\r");
            } else if (c == '\t') {
                out.append("\\t");
            } else {
                out.append(String.format("\\u%04x", (int) c));
            }
        }
        return out.toString();
    }

    /**
     * {@link Secrets#redact} and {@link #escape}, and then at most {@code max} characters, ending with how many were
     * left out. Redacted before it is cut, so that a cut through a secret does not leave its first half, which no sink
     * would recognize any more.
     */
    public static String line(String text, int max) {
        String escaped = escape(Secrets.redact(text));
        if (escaped == null || escaped.length() <= max) {
            return escaped;
        }
        String kept = cut(escaped, max);
        return kept + "… (" + (escaped.length() - kept.length()) + " more characters)";
    }

    /**
     * At most the first {@code max} characters of the text, one fewer where the cut would fall inside a surrogate pair:
     * half of one is no character, and a Lease or a terminal given it refuses or mangles the whole line. Null stays null.
     */
    public static String cut(String text, int max) {
        if (text == null || text.length() <= max) {
            return text;
        }
        int end = max > 0 && Character.isHighSurrogate(text.charAt(max - 1)) && Character.isLowSurrogate(text.charAt(max)) ? max - 1 : max;
        return text.substring(0, end);
    }

    /** {@link #line(String, int)} at {@link #MAX_LINE}. */
    public static String line(String text) {
        return line(text, MAX_LINE);
    }

    /** The longest value from another party that a reason quotes (see {@link #foreign}). */
    public static final int MAX_FOREIGN = 300;

    /**
     * A value that another party wrote, as a message quotes it: an image another writer set, a field read from a
     * platform. It is {@link #escape escaped} and cut to {@link #MAX_FOREIGN} characters, so a value of megabytes or one
     * carrying control characters cannot forge log lines or flood a reason. Null stays null.
     */
    public static String foreign(String value) {
        return line(value, MAX_FOREIGN);
    }

    /** What stands for a hidden credential in a URL. */
    public static final String REDACTED = "***";

    /**
     * A URL as it may be shown (printed, journaled, reported): its user information ({@code user:password@}), every
     * query value and the fragment replaced by {@link #REDACTED}, because any of them may carry a credential
     * ({@code https://user:token@host/health?access_token=…}). Query names, the scheme, the host, the port and the path
     * stay, so the URL is still recognizable. Works on templates ({@code {{side}}}) and on text that does not parse as a
     * URL. Null stays null.
     */
    public static String redactUrl(String url) {
        if (url == null) {
            return null;
        }
        int scheme = url.indexOf("://");
        int start = scheme < 0 ? 0 : scheme + 3;
        int end = start;
        while (end < url.length() && "/?#".indexOf(url.charAt(end)) < 0) {
            end++;
        }
        String authority = url.substring(start, end);
        int at = authority.lastIndexOf('@');
        StringBuilder out = new StringBuilder(url.length()).append(url, 0, start)
                .append(at < 0 ? authority : REDACTED + authority.substring(at));
        String rest = url.substring(end);
        int hash = rest.indexOf('#');
        String fragment = hash < 0 ? "" : "#" + REDACTED;
        rest = hash < 0 ? rest : rest.substring(0, hash);
        int question = rest.indexOf('?');
        if (question < 0) {
            return out.append(rest).append(fragment).toString();
        }
        out.append(rest, 0, question + 1);
        String[] parameters = rest.substring(question + 1).split("&", -1);
        for (int i = 0; i < parameters.length; i++) {
            String parameter = parameters[i];
            int eq = parameter.indexOf('=');
            out.append(i == 0 ? "" : "&").append(eq >= 0 ? parameter.substring(0, eq + 1) + REDACTED : parameter.isEmpty() ? "" : REDACTED);
        }
        return out.append(fragment).toString();
    }

    /** The first line of a message, at most 300 characters, as a table or a reason shows it ({@code null}: no reason given). */
    public static String oneLine(String message) {
        String first = message == null ? "no reason given" : message.lines().findFirst().orElse("").strip();
        return first.length() > 300 ? cut(first, 300) + "…" : first;
    }

    /**
     * Whether a character must not reach a terminal raw: a C0 or C1 control or DEL, a format character (the
     * bidirectional overrides and isolates, zero-width characters, a byte-order mark), a line or paragraph separator,
     * or half of a surrogate pair standing alone.
     */
    private static boolean unsafe(String text, int i) {
        char c = text.charAt(i);
        int type = Character.getType(c);
        return Character.isISOControl(c) || type == Character.FORMAT || type == Character.LINE_SEPARATOR
                || type == Character.PARAGRAPH_SEPARATOR || type == Character.SURROGATE && !pairedSurrogate(text, i);
    }

    private static boolean pairedSurrogate(String text, int i) {
        char c = text.charAt(i);
        return Character.isHighSurrogate(c) ? i + 1 < text.length() && Character.isLowSurrogate(text.charAt(i + 1))
                : i > 0 && Character.isHighSurrogate(text.charAt(i - 1));
    }
}
