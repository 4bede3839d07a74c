package dev.dualdeploy.cli;

import dev.dualdeploy.bench.ChaosBench;
import dev.dualdeploy.bench.CutoverBench;
import dev.dualdeploy.bench.GateBench;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDate;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code dualdeploy bench gates}: the seeded gate-policy simulation, printed as a Markdown table; {@code dualdeploy
 * bench chaos}: kill -9 at many points of a 2-stage deploy in the local environment, and whether every re-run converged;
 * {@code dualdeploy bench cutover}: how fast each traffic router sets a step and points traffic back at legacy after a FAIL.
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = {"Run a benchmark. 'gates': canary analysis policies on the same seeded traffic traces.",
                "'chaos': a 2-stage deploy in the local environment killed with SIGKILL at --points points, each followed by"
                        + " the same deploy (or another release); prints the kills tried, the re-runs that converged, the sides"
                        + " left on a failed release (must be 0) and the median re-run time.",
                "'cutover': each traffic router (nginx: a real nginx; cloudflare, alb, route53: their simulators; all on loopback)"
                        + " timed --rounds times: set + read-back of the steps 10, 25, 50, 100%% (median, p90), and from 50%% a FAIL"
                        + " to a read-back of 0%% (median, max); and nginx's split measured with 10,000 real requests per setting."
                        + " Exit 0 only if every router read back 0%% within 2 s of every FAIL and every read-back equalled the"
                        + " split set; else 1 (also when nginx is not installed)."})
final class BenchCommand implements Callable<Integer> {

    /** The requests sent through nginx at each setting of the cutover bench: 3σ is 1.5 points at 50%. */
    private static final int REQUESTS_PER_STEP = 10_000;

    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "NAME", description = "The benchmark: gates, chaos or cutover.")
    String name;

    @Option(names = "--releases", defaultValue = "1000", description = "gates: traces per release profile (default: ${DEFAULT-VALUE}).")
    int releases;

    @Option(names = "--seed", defaultValue = "20261122", description = "gates: the random seed (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--points", defaultValue = "100", description = "chaos: kill points, 1 to 1000 (default: ${DEFAULT-VALUE}).")
    int points;

    @Option(names = "--parallel", defaultValue = "1", description = "chaos: points run at a time, 1 to 4 (default: ${DEFAULT-VALUE}).")
    int parallel;

    @Option(names = "--rounds", defaultValue = "4", description = "cutover: rounds per router, 1 to 50 (default: ${DEFAULT-VALUE};"
            + " about 20 s a round, the Route53 router's INSYNC polls being most of it).")
    int rounds;

    @Override
    public Integer call() {
        if ("chaos".equals(name)) {
            return chaos();
        }
        if ("cutover".equals(name)) {
            return cutover();
        }
        if (!"gates".equals(name)) {
            throw new UsageException("no benchmark '" + name + "'; benchmarks are [gates, chaos, cutover]");
        }
        if (releases < 10) {
            throw new UsageException("--releases must be at least 10");
        }
        PrintWriter out = spec.commandLine().getOut();
        long started = System.nanoTime();
        List<GateBench.Row> rows = GateBench.run(releases, seed);
        out.println("dualdeploy bench gates: " + releases + " releases per profile, seed " + seed + ", " + LocalDate.now()
                + ", " + Runtime.getRuntime().availableProcessors() + " cores, Java " + System.getProperty("java.version")
                + ", " + (System.nanoTime() - started) / 1_000_000 + " ms");
        out.println();
        out.print(GateBench.table(rows));
        out.flush();
        return ExitCodes.OK;
    }

    /** Exit 0 when every kill was followed by a converged re-run and no side was left on a failed release; else 1. */
    private int chaos() {
        if (points < 1 || points > 1000) {
            throw new UsageException("--points must be from 1 to 1000");
        }
        if (parallel < 1 || parallel > 4) {
            throw new UsageException("--parallel must be from 1 to 4");
        }
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        Path dir;
        try {
            dir = Files.createTempDirectory("dualdeploy-chaos");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create a directory for the chaos bench: " + e.getMessage(), e);
        }
        ChaosBench bench = new ChaosBench(dir, DualDeployCommand::run);
        List<ChaosBench.KillPoint> all = ChaosBench.points(points);
        AtomicInteger done = new AtomicInteger();
        long started = System.nanoTime();
        List<ChaosBench.Result> results = bench.runAll(all, parallel, result -> {
            err.println("point " + done.incrementAndGet() + "/" + all.size() + ": " + result.point() + ": "
                    + (result.killed() ? "killed after \"" + result.killedAfter().get() + "\"; re-run "
                    + (result.converged() ? "converged" : "did NOT converge: " + result.problems()) + " in " + seconds(result.rerun())
                    : "not killed (the run ended before the point)"));
            err.flush();
        });
        delete(dir);
        ChaosBench.Summary summary = ChaosBench.Summary.of(results);
        out.println("dualdeploy bench chaos: " + summary.points() + " kill points of a 2-stage deploy in the local environment, "
                + parallel + " at a time, "
                + LocalDate.now() + ", " + Runtime.getRuntime().availableProcessors() + " cores, Java " + System.getProperty("java.version")
                + ", " + seconds(Duration.ofNanos(System.nanoTime() - started)));
        out.println("kills tried:                      " + summary.killed());
        out.println("re-runs converged:                " + summary.converged());
        out.println("sides left on a failed release:   " + summary.onFailed());
        out.println("median re-run (both stages):      " + seconds(summary.medianRerun()));
        out.flush();
        return summary.converged() == summary.killed() && summary.onFailed() == 0 ? ExitCodes.OK : ExitCodes.FAILED;
    }

    /**
     * Exit 0 when every router read back 0% within {@link CutoverBench#GOAL} after every FAIL and every read-back equalled
     * the split set; else 1, also when nginx is not installed (the bench measures a real one).
     */
    private int cutover() {
        if (rounds < 1 || rounds > 50) {
            throw new UsageException("--rounds must be from 1 to 50");
        }
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        Optional<Path> nginx = CutoverBench.nginx();
        if (nginx.isEmpty()) {
            err.println("error: " + CutoverBench.noNginx());
            err.flush();
            return ExitCodes.FAILED;
        }
        if (System.getProperty(CutoverBench.NODELAY) == null) {
            // Before any simulator starts (the JDK reads it once): without it each simulator answer waits ~40 ms for a
            // delayed ACK, most of what a Cloudflare or ALB set would measure; -Dsun.net.httpserver.nodelay=false measures with it.
            System.setProperty(CutoverBench.NODELAY, "true");
        }
        Path dir;
        try {
            dir = Files.createTempDirectory("dualdeploy-cutover-bench");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create a directory for the cutover bench: " + e.getMessage(), e);
        }
        CutoverBench.Result result;
        try {
            result = CutoverBench.run(dir, nginx.get(), rounds, REQUESTS_PER_STEP, line -> {
                err.println(line);
                err.flush();
            });
        } finally {
            delete(dir);
        }
        out.println("dualdeploy bench cutover: " + rounds + " rounds per router, " + LocalDate.now() + ", " + CutoverBench.machine()
                + ", " + seconds(result.took()));
        out.println();
        out.print(result.table());
        out.flush();
        return result.metGoal() ? ExitCodes.OK : ExitCodes.FAILED;
    }

    /** Removes the bench's directory (the environments' kubeconfigs and configs); what cannot be removed is left. */
    private static void delete(Path dir) {
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        } catch (IOException | UncheckedIOException e) {
            // Left in the temporary directory: nothing in it is secret, and the system cleans it.
        }
    }

    private static String seconds(Duration duration) {
        return String.format(Locale.ROOT, "%.1f s", duration.toMillis() / 1000.0);
    }
}
