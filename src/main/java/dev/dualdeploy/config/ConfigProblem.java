package dev.dualdeploy.config;

/**
 * One thing wrong with a config file: where it is, what was wrong, and a valid example.
 *
 * @param file the config file as the user named it
 * @param path the key path inside it, such as {@code stages[2].kubernetes.namespace}; empty for the whole file
 * @param problem what is wrong, in a few words
 * @param example a valid value or snippet a person can copy; may be empty
 */
public record ConfigProblem(String file, String path, String problem, String example) {

    /** The longest field kept; a longer one (a huge value quoted back) keeps its start and its end. */
    static final int MAX_FIELD = 400;

    /**
     * Every field is made safe to print here, once, for every message: control characters (a NUL, an escape
     * sequence, a newline that would forge a second line) are escaped, and a field longer than {@value #MAX_FIELD}
     * characters is shortened in the middle (issue 8 item 13).
     */
    public ConfigProblem {
        file = safe(file);
        path = safe(path);
        problem = safe(problem);
        example = safe(example);
    }

    /** The text with every control, format and separator character escaped as {@code \\uXXXX}, and bounded. */
    static String safe(String text) {
        if (text == null) {
            return "";
        }
        StringBuilder out = new StringBuilder(Math.min(text.length(), MAX_FIELD + 16));
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            int type = Character.getType(c);
            boolean unsafe = Character.isISOControl(c) || type == Character.FORMAT || type == Character.LINE_SEPARATOR
                    || type == Character.PARAGRAPH_SEPARATOR || type == Character.SURROGATE && !validSurrogate(text, i);
            switch (c) {
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                default -> {
                    if (unsafe) {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        if (out.length() <= MAX_FIELD) {
            return out.toString();
        }
        int half = MAX_FIELD / 2;
        return out.substring(0, half) + " … " + out.substring(out.length() - half);
    }

    private static boolean validSurrogate(String text, int i) {
        char c = text.charAt(i);
        return Character.isHighSurrogate(c) ? i + 1 < text.length() && Character.isLowSurrogate(text.charAt(i + 1))
                : i > 0 && Character.isHighSurrogate(text.charAt(i - 1));
    }

    /** Renders as one line: {@code file: path: problem (for example: ...)}. */
    public String render() {
        StringBuilder line = new StringBuilder(file).append(": ");
        if (!path.isEmpty()) {
            line.append(path).append(": ");
        }
        line.append(problem);
        if (!example.isEmpty()) {
            line.append(" (for example: ").append(example).append(')');
        }
        return line.toString();
    }
}
