package dev.dualdeploy.config;

import dev.dualdeploy.text.Text;

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

    /** The text with every control, format and separator character escaped ({@link Text#escape}), and bounded. */
    static String safe(String text) {
        String out = text == null ? "" : Text.escape(text);
        if (out.length() <= MAX_FIELD) {
            return out;
        }
        int half = MAX_FIELD / 2;
        return out.substring(0, half) + " … " + out.substring(out.length() - half);
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
