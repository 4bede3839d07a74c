package dev.dualdeploy.report;

import dev.dualdeploy.journal.Event;
import dev.dualdeploy.text.Secrets;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Gate runs as JUnit XML, for Jenkins' test-result view: a reader of a run's events. One testsuite per gate run (its
 * {@link Event.GateDecided}) and one testcase per check (its {@link Event.CheckVerdict}), with the class name
 * {@code gate.<stage>} and a name that stays the same from build to build, so each check has a history. FAIL is a
 * failure, ERROR an error, INCONCLUSIVE a skipped test; the reason is the message.
 */
public final class JUnitReport {

    private JUnitReport() {
    }

    /** Whether the events hold a gate run to report. */
    public static boolean hasGates(List<Event> events) {
        return events.stream().anyMatch(Event.GateDecided.class::isInstance);
    }

    /** The XML of the gate runs among a run's events, in the order they were decided. */
    public static String xml(List<Event> events) {
        StringBuilder out = new StringBuilder("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n");
        List<Event.CheckVerdict> checks = new ArrayList<>();
        for (Event event : events) {
            if (event instanceof Event.CheckVerdict check) {
                checks.add(check);
            } else if (event instanceof Event.GateDecided gate) {
                String stage = gate.stage().orElse("");
                List<Event.CheckVerdict> mine = checks.stream()
                        .filter(c -> c.phase().equals(gate.phase()) && c.stage().equals(gate.stage())).toList();
                checks.removeAll(mine);
                suite(out, stage, gate, mine);
            }
        }
        return out.append("</testsuites>\n").toString();
    }

    private static void suite(StringBuilder out, String stage, Event.GateDecided gate, List<Event.CheckVerdict> checks) {
        long failures = count(checks, Event.VerdictOutcome.FAIL);
        long errors = count(checks, Event.VerdictOutcome.ERROR);
        long skipped = count(checks, Event.VerdictOutcome.INCONCLUSIVE);
        out.append("  <testsuite name=\"").append(escape("gate " + stage + (gate.phase().equals("gate") ? "" : " " + gate.phase())))
                .append("\" tests=\"").append(checks.size()).append("\" failures=\"").append(failures).append("\" errors=\"")
                .append(errors).append("\" skipped=\"").append(skipped).append("\" time=\"").append(seconds(gate.took().toMillis()))
                .append("\" timestamp=\"").append(escape(gate.started().toString())).append("\">\n");
        for (Event.CheckVerdict check : checks) {
            String name = (gate.phase().equals("gate") ? "" : gate.phase() + ": ") + check.name();
            out.append("    <testcase classname=\"").append(escape("gate." + stage)).append("\" name=\"").append(escape(name))
                    .append("\" time=\"").append(seconds(gate.took().toMillis())).append('"');
            String message = escape(check.reason());
            switch (check.outcome()) {
                case PASS -> out.append(">\n      <system-out>").append(message).append("</system-out>\n    </testcase>\n");
                case FAIL -> out.append(">\n      <failure message=\"").append(message).append("\" type=\"FAIL\"/>\n    </testcase>\n");
                case ERROR -> out.append(">\n      <error message=\"").append(message).append("\" type=\"ERROR\"/>\n    </testcase>\n");
                default -> out.append(">\n      <skipped message=\"INCONCLUSIVE: ").append(message).append("\"/>\n    </testcase>\n");
            }
        }
        out.append("  </testsuite>\n");
    }

    /** Writes the XML of a run's gate runs to a file, whole or not at all (through a temporary file in the same directory). */
    public static void write(Path file, List<Event> events) {
        try {
            Path parent = file.toAbsolutePath().getParent();
            Files.createDirectories(parent);
            Path part = Files.createTempFile(parent, file.getFileName().toString(), ".part");
            Files.writeString(part, Secrets.redact(xml(events)));
            Files.move(part, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the JUnit report " + file + ": " + e.getMessage(), e);
        }
    }

    private static long count(List<Event.CheckVerdict> checks, Event.VerdictOutcome outcome) {
        return checks.stream().filter(c -> c.outcome() == outcome).count();
    }

    private static String seconds(long millis) {
        return String.format(Locale.ROOT, "%.3f", millis / 1000.0);
    }

    /** Escapes text for an XML attribute or element; drops characters XML 1.0 cannot hold. */
    static String escape(String text) {
        StringBuilder out = new StringBuilder(text.length());
        text.codePoints().forEach(c -> {
            switch (c) {
                case '<' -> out.append("&lt;");
                case '>' -> out.append("&gt;");
                case '&' -> out.append("&amp;");
                case '"' -> out.append("&quot;");
                case '\'' -> out.append("&apos;");
                case '\n' -> out.append("&#10;");
                default -> {
                    if (c == 0x9 || c == 0xD || c >= 0x20 && c <= 0xD7FF || c >= 0xE000 && c <= 0xFFFD || c >= 0x10000 && c <= 0x10FFFF) {
                        out.appendCodePoint(c);
                    }
                }
            }
        });
        return out.toString();
    }
}
