package dev.dualdeploy;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The layout rules of issue 9 ("the house, put in order") that a scan of the sources can check cheaply, so that a
 * later change cannot quietly undo a move.
 */
class HouseRulesTest {

    private static final Path MAIN = Path.of("src/main/java/dev/dualdeploy");
    private static final Path TEST = Path.of("src/test/java/dev/dualdeploy");
    private static final int MAX_LINES = 300;

    /** The Java files under {@code root}, as paths relative to it with forward slashes, such as {@code cli/Main.java}. */
    private static List<String> sources(Path root) throws IOException {
        try (Stream<Path> files = Files.walk(root)) {
            return files.filter(f -> f.toString().endsWith(".java"))
                    .map(f -> root.relativize(f).toString().replace('\\', '/')).sorted().toList();
        }
    }

    /** The files under {@code root} (outside the packages {@code allowed}) with a line that begins with {@code needle}. */
    private static List<String> offenders(Path root, String needle, String... allowed) throws IOException {
        List<String> found = new ArrayList<>();
        for (String file : sources(root)) {
            if (Stream.of(allowed).noneMatch(file::startsWith) && Files.readAllLines(root.resolve(file)).stream().anyMatch(line -> line.strip().startsWith(needle))) {
                found.add(file);
            }
        }
        return found;
    }

    /** Issue 9 move 4: exit codes belong to the CLI alone; the engine says how a stage ended, never with a number. */
    @Test
    void exitCodesAreTheCliAlone() throws IOException {
        assertThat(offenders(MAIN, "public int exitCode()", "cli/")).as("engine types that carry a CLI exit code").isEmpty();
        assertThat(offenders(MAIN, "import dev.dualdeploy.cli.", "cli/")).as("main code outside cli/ importing cli").isEmpty();
    }

    /**
     * Issue 9 move 6: {@code bench} and the local environment (with its demo) are leaves. Only the CLI starts them;
     * the engine never imports them, and test helpers do not import a benchmark (the random draws they share with it
     * live in {@code local/Sampling}).
     */
    @Test
    void benchAndLocalAreLeaves() throws IOException {
        assertThat(offenders(MAIN, "import dev.dualdeploy.bench.", "bench/", "cli/")).as("main code importing bench").isEmpty();
        assertThat(offenders(MAIN, "import dev.dualdeploy.local.", "local/", "bench/", "cli/"))
                .as("engine code importing the local environment").isEmpty();
        assertThat(offenders(TEST, "import dev.dualdeploy.bench.", "bench/")).as("tests outside bench/ importing bench").isEmpty();
    }

    /**
     * Issue 9 move 3: the gate is split by concept. {@code pipeline/Gate} is the soak loop; measuring a window (queries,
     * templates, HTTP probes) and each check's state live in {@code analysis}, which knows nothing of the pipeline.
     * No class of either grows past {@value #MAX_LINES} lines.
     */
    @Test
    void theGateIsSplitByConcept() throws IOException {
        assertThat(offenders(MAIN.resolve("pipeline"), "import java.net.http.")).as("pipeline code sending HTTP itself").isEmpty();
        assertThat(offenders(MAIN.resolve("analysis"), "import dev.dualdeploy.pipeline.")).as("analysis importing pipeline").isEmpty();
        List<String> tooLong = new ArrayList<>();
        for (String file : sources(MAIN.resolve("analysis"))) {
            if (Files.readAllLines(MAIN.resolve("analysis").resolve(file)).size() > MAX_LINES) {
                tooLong.add("analysis/" + file);
            }
        }
        if (Files.readAllLines(MAIN.resolve("pipeline/Gate.java")).size() > MAX_LINES) {
            tooLong.add("pipeline/Gate.java");
        }
        assertThat(tooLong).as("gate classes over " + MAX_LINES + " lines").isEmpty();
    }

    /**
     * Issue 9 move 1: the platform factory lives in {@code targets}, beside the targets it picks; the pipeline composes
     * targets and never chooses a platform. Dependencies flow {@code pipeline → targets}, never back.
     */
    @Test
    void thePlatformFactoryLivesInTargets() throws IOException {
        assertThat(offenders(MAIN.resolve("targets"), "import dev.dualdeploy.pipeline.")).as("targets importing pipeline").isEmpty();
        assertThat(offenders(MAIN.resolve("pipeline"), "import dev.dualdeploy.targets.ecs.")).as("pipeline naming a platform").isEmpty();
        assertThat(offenders(MAIN.resolve("pipeline"), "import dev.dualdeploy.targets.kubernetes.")).as("pipeline naming a platform").isEmpty();
        assertThat(Files.exists(MAIN.resolve("targets/PlatformTargets.java"))).as("the factory in targets").isTrue();
    }

    /**
     * Issue 9, the journal: the engine says what it did once, as events, and the reports are readers. {@code report/}
     * reads the journal's events (and the parts of a result), never the engine's types; the pipeline emits typed
     * events and keeps no string reporter of its own.
     */
    @Test
    void reportsReadEventsNotThePipeline() throws IOException {
        assertThat(offenders(MAIN.resolve("report"), "import dev.dualdeploy.pipeline.")).as("report importing pipeline").isEmpty();
        assertThat(offenders(MAIN.resolve("journal"), "import dev.dualdeploy.pipeline.")).as("journal importing pipeline").isEmpty();
        assertThat(Files.exists(MAIN.resolve("pipeline/Reporter.java"))).as("a string reporter in the pipeline").isFalse();
    }

    /** What reads or waits on the real time; only the CLI, the local environment and the benchmarks may. */
    private static final List<String> REAL_TIME = List.of("System.nanoTime", "System.currentTimeMillis", "Sleeper.SYSTEM",
            "Thread.sleep", "Clock.systemUTC", "Clock.systemDefaultZone", "Instant.now()");

    /**
     * Issue 9 move 2: time is injected. The engine takes the {@code Clock} and {@code Sleeper} it is given, so a test
     * steps a rollout's timeout or a soak instead of waiting it out; the real time is chosen in {@code cli/} (and the
     * local environment and the benchmarks, which are leaves).
     */
    @Test
    void theEngineTakesTheTimeItIsGiven() throws IOException {
        List<String> found = new ArrayList<>();
        for (String engine : List.of("pipeline", "targets", "analysis", "metrics", "journal")) {
            Path root = MAIN.resolve(engine);
            if (!Files.isDirectory(root)) {
                continue;
            }
            for (String file : sources(root)) {
                List<String> lines = Files.readAllLines(root.resolve(file));
                for (int i = 0; i < lines.size(); i++) {
                    String code = lines.get(i).strip();
                    if (code.startsWith("*") || code.startsWith("//") || code.startsWith("/*")) {
                        continue; // a comment may name what it avoids
                    }
                    for (String needle : REAL_TIME) {
                        if (code.contains(needle)) {
                            found.add(engine + "/" + file + ":" + (i + 1) + " " + needle);
                        }
                    }
                }
            }
        }
        assertThat(found).as("engine code reading or waiting on the real time").isEmpty();
    }
}
