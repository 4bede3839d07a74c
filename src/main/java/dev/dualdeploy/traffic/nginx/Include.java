package dev.dualdeploy.traffic.nginx;

import dev.dualdeploy.text.Text;
import dev.dualdeploy.traffic.Split;
import dev.dualdeploy.traffic.TrafficException;
import java.math.BigDecimal;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The text of the include file dualdeploy owns: a header line that marks it as ours and carries its generation, a
 * {@code split_clients} block that draws each request's upstream from its {@code $request_id}, and a variable holding
 * the split's state for the probe location to send back as a header. The names that go into it are checked here, so
 * that no value can write a directive of its own into nginx's configuration.
 */
final class Include {

    /** The start of the first line of every file dualdeploy writes; a file without it is not ours. */
    static final String MARK = "# dualdeploy split, generation ";
    /** The highest generation a file may hold, so that the next one still fits the header's 18 digits. */
    static final long LAST_GENERATION = 999_999_999_999_999_998L;

    private static final Pattern HEADER = Pattern.compile(Pattern.quote(MARK) + "([0-9]{1,18})(?: .*)?");
    /** An nginx upstream name as the router accepts it: nothing that could end a directive or open a block. */
    private static final Pattern UPSTREAM = Pattern.compile("[A-Za-z0-9_.-]{1,128}");
    /** An nginx variable name (without {@code $}); the state variable appends {@code _split} to it. */
    private static final Pattern VARIABLE = Pattern.compile("[A-Za-z0-9_]{1,64}");
    private static final Pattern STATE = Pattern.compile("generation=([0-9]{1,18}) kubernetes=([0-9]{1,3}(?:\\.[0-9]{1,2})?)"
            + " legacy-upstream=([A-Za-z0-9_.-]{1,128}) kubernetes-upstream=([A-Za-z0-9_.-]{1,128})");

    private Include() {
    }

    /**
     * What the running nginx applies, as its probe location reports it.
     *
     * @param basisPoints the Kubernetes share in hundredths of a percent, 0 to 10000
     */
    record State(long generation, int basisPoints, String legacy, String kubernetes) {

        Split split() {
            return new Split(basisPoints / 100.0, "generation " + generation);
        }

        /** {@code generation 7 (25% on kubernetes)}. */
        String describe() {
            return "generation " + generation + " (" + percent(basisPoints) + "% on kubernetes)";
        }
    }

    /**
     * Checks the names that go into the file.
     *
     * @throws TrafficException naming the value (escaped) and what an nginx name may hold
     */
    static void validate(String legacy, String kubernetes, String variable) {
        upstream("legacy", legacy);
        upstream("kubernetes", kubernetes);
        if (legacy.equals(kubernetes)) {
            throw new TrafficException("the nginx router's legacy and kubernetes upstreams are both " + legacy
                    + "; a split needs two different upstream blocks");
        }
        if (variable == null || !VARIABLE.matcher(variable).matches()) {
            throw new TrafficException("the nginx router's variable " + quoted(variable) + " is not an nginx variable name:"
                    + " letters, digits and _ only, at most 64, without the $ (such as dualdeploy_upstream)");
        }
    }

    private static void upstream(String side, String name) {
        if (name == null || !UPSTREAM.matcher(name).matches()) {
            throw new TrafficException("the nginx router's " + side + " upstream " + quoted(name) + " is not an nginx upstream"
                    + " name: letters, digits, '_', '.' and '-' only, at most 128 (such as " + side + "_pool); dualdeploy writes"
                    + " it into nginx's configuration and refuses anything that could end or open a directive");
        }
    }

    private static String quoted(String value) {
        return value == null ? "(none)" : "\"" + Text.foreign(value) + "\"";
    }

    /** The share in hundredths of a percent, the finest split_clients takes (two decimals). */
    static int basisPoints(Split split) {
        return (int) Math.round(split.kubernetes() * 100);
    }

    /** {@code 25}, {@code 12.5} or {@code 33.33}: as split_clients reads a percentage. */
    static String percent(int basisPoints) {
        return BigDecimal.valueOf(basisPoints, 2).stripTrailingZeros().toPlainString();
    }

    /** The variable the probe location sends back: the split's variable with {@code _split} appended. */
    static String stateVariable(String variable) {
        return variable + "_split";
    }

    /**
     * The header value that the state variable holds:
     * {@code generation=7 kubernetes=25 legacy-upstream=… kubernetes-upstream=…}.
     */
    static String state(long generation, int basisPoints, String legacy, String kubernetes) {
        return "generation=" + generation + " kubernetes=" + percent(basisPoints) + " legacy-upstream=" + legacy
                + " kubernetes-upstream=" + kubernetes;
    }

    /** The whole file; the names must have passed {@link #validate}. */
    static String text(String legacy, String kubernetes, String variable, int basisPoints, long generation) {
        StringBuilder out = new StringBuilder(600);
        out.append(MARK).append(generation).append(" (written by dualdeploy at each cutover step; do not edit: the next step")
                .append(" replaces this file)\n");
        out.append("# ").append(percent(basisPoints)).append("% of requests to upstream ").append(kubernetes).append(", the rest to ")
                .append(legacy).append(", drawn by $request_id; use it as proxy_pass http://$").append(variable).append(";\n");
        out.append("split_clients $request_id $").append(variable).append(" {\n");
        // 0% and 100% are a single catch-all line: split_clients refuses "0%", and a catch-all is exact where a
        // percentage of a hash range would still be one.
        if (basisPoints >= 10_000) {
            out.append("    * ").append(kubernetes).append(";\n");
        } else if (basisPoints <= 0) {
            out.append("    * ").append(legacy).append(";\n");
        } else {
            out.append("    ").append(percent(basisPoints)).append("% ").append(kubernetes).append(";\n");
            out.append("    * ").append(legacy).append(";\n");
        }
        out.append("}\n");
        out.append("# What this nginx applies, for dualdeploy to read back through the probe location:\n");
        out.append("# add_header X-Dualdeploy-Split $").append(stateVariable(variable)).append(" always;\n");
        out.append("map $request_id $").append(stateVariable(variable)).append(" {\n");
        out.append("    default \"").append(state(generation, basisPoints, legacy, kubernetes)).append("\";\n");
        out.append("}\n");
        return out.toString();
    }

    /** The generation in a file's first line, or empty if the line is not the one dualdeploy writes. */
    static OptionalLong generation(String firstLine) {
        Matcher matcher = HEADER.matcher(firstLine);
        return matcher.matches() ? OptionalLong.of(Long.parseLong(matcher.group(1))) : OptionalLong.empty();
    }

    /** The state a probe's header value carries, or empty if it is not one dualdeploy writes. */
    static Optional<State> parse(String value) {
        Matcher matcher = STATE.matcher(value.strip());
        if (!matcher.matches()) {
            return Optional.empty();
        }
        int basisPoints = new BigDecimal(matcher.group(2)).movePointRight(2).intValueExact();
        if (basisPoints > 10_000) {
            return Optional.empty();
        }
        return Optional.of(new State(Long.parseLong(matcher.group(1)), basisPoints, matcher.group(3), matcher.group(4)));
    }
}
