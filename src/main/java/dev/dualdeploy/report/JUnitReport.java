package dev.dualdeploy.report;

import dev.dualdeploy.analysis.Verdict;
import dev.dualdeploy.pipeline.GateReport;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Locale;

/**
 * Gate runs as JUnit XML, for Jenkins' test-result view: one testsuite per gate run and one testcase per check, with
 * the class name {@code gate.<stage>} and a name that stays the same from build to build, so each check has a
 * history. FAIL is a failure, ERROR an error, INCONCLUSIVE a skipped test; the reason is the message.
 */
public final class JUnitReport {

    private JUnitReport() {
    }

    /** The XML of the gate runs. */
    public static String xml(List<GateReport> gates) {
        StringBuilder out = new StringBuilder("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n");
        for (GateReport gate : gates) {
            long failures = count(gate, Verdict.Outcome.FAIL);
            long errors = count(gate, Verdict.Outcome.ERROR);
            long skipped = count(gate, Verdict.Outcome.INCONCLUSIVE);
            out.append("  <testsuite name=\"").append(escape("gate " + gate.stage() + (gate.phase().equals("gate") ? "" : " " + gate.phase()))).append("\" tests=\"")
                    .append(gate.checks().size()).append("\" failures=\"").append(failures).append("\" errors=\"").append(errors)
                    .append("\" skipped=\"").append(skipped).append("\" time=\"").append(seconds(gate.took().toMillis()))
                    .append("\" timestamp=\"").append(escape(gate.started().toString())).append("\">\n");
            for (GateReport.Check check : gate.checks()) {
                Verdict verdict = check.verdict();
                String name = (gate.phase().equals("gate") ? "" : gate.phase() + ": ") + check.name();
                out.append("    <testcase classname=\"").append(escape("gate." + gate.stage())).append("\" name=\"").append(escape(name))
                        .append("\" time=\"").append(seconds(gate.took().toMillis())).append('"');
                String message = escape(verdict.reason());
                switch (verdict.outcome()) {
                    case PASS -> out.append(">\n      <system-out>").append(message).append("</system-out>\n    </testcase>\n");
                    case FAIL -> out.append(">\n      <failure message=\"").append(message).append("\" type=\"FAIL\"/>\n    </testcase>\n");
                    case ERROR -> out.append(">\n      <error message=\"").append(message).append("\" type=\"ERROR\"/>\n    </testcase>\n");
                    default -> out.append(">\n      <skipped message=\"INCONCLUSIVE: ").append(message).append("\"/>\n    </testcase>\n");
                }
            }
            out.append("  </testsuite>\n");
        }
        return out.append("</testsuites>\n").toString();
    }

    /** Writes the XML to a file, whole or not at all (through a temporary file in the same directory). */
    public static void write(Path file, List<GateReport> gates) {
        try {
            Path parent = file.toAbsolutePath().getParent();
            Files.createDirectories(parent);
            Path part = Files.createTempFile(parent, file.getFileName().toString(), ".part");
            Files.writeString(part, xml(gates));
            Files.move(part, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the JUnit report " + file + ": " + e.getMessage(), e);
        }
    }

    private static long count(GateReport gate, Verdict.Outcome outcome) {
        return gate.checks().stream().filter(c -> c.verdict().outcome() == outcome).count();
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
