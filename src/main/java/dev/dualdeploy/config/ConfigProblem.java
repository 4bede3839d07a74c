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
