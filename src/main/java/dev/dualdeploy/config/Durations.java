package dev.dualdeploy.config;

import java.time.Duration;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Parses and prints the durations used in config files: {@code 500ms}, {@code 30s}, {@code 10m}, {@code 1h30m}. */
public final class Durations {

    private static final Pattern WHOLE = Pattern.compile("(?:\\d+(?:ms|s|m|h))+");
    private static final Pattern PART = Pattern.compile("(\\d+)(ms|s|m|h)");

    private Durations() {
    }

    /** The longest duration text read; far longer than any sensible duration, short enough to parse in no time. */
    static final int MAX_LENGTH = 32;

    /** Returns the duration, or empty if the text is not of the form above or is zero. */
    public static Optional<Duration> parse(String text) {
        return parseAllowingZero(text).filter(d -> !d.isZero());
    }

    /**
     * Returns the duration, zero included, or empty if the text is not of the form above, is longer than
     * {@value #MAX_LENGTH} characters, or does not fit a {@link Duration}.
     */
    public static Optional<Duration> parseAllowingZero(String text) {
        if (text == null || text.length() > MAX_LENGTH || !WHOLE.matcher(text).matches()) {
            return Optional.empty();
        }
        Duration total = Duration.ZERO;
        Matcher part = PART.matcher(text);
        try {
            while (part.find()) {
                long amount = Long.parseLong(part.group(1));
                total = total.plus(switch (part.group(2)) {
                    case "ms" -> Duration.ofMillis(amount);
                    case "s" -> Duration.ofSeconds(amount);
                    case "m" -> Duration.ofMinutes(amount);
                    default -> Duration.ofHours(amount);
                });
            }
        } catch (ArithmeticException | NumberFormatException tooLarge) {
            return Optional.empty();
        }
        return Optional.of(total);
    }

    /** Prints a duration the way a config file would say it, such as {@code 1m30s}. */
    public static String format(Duration duration) {
        if (duration.toMillis() % 1000 != 0) {
            return duration.toMillis() + "ms";
        }
        long seconds = duration.toSeconds();
        StringBuilder out = new StringBuilder();
        if (seconds >= 3600) {
            out.append(seconds / 3600).append('h');
            seconds %= 3600;
        }
        if (seconds >= 60) {
            out.append(seconds / 60).append('m');
            seconds %= 60;
        }
        if (seconds > 0 || out.length() == 0) {
            out.append(seconds).append('s');
        }
        return out.toString();
    }
}
