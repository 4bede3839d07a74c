package dev.dualdeploy.cli;

import dev.dualdeploy.bench.GateBench;
import java.io.PrintWriter;
import java.time.LocalDate;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code dualdeploy bench gates}: the seeded gate-policy simulation, printed as a Markdown table. */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Run a benchmark. 'gates': canary analysis policies on the same seeded traffic traces.")
final class BenchCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "NAME", description = "The benchmark: gates.")
    String name;

    @Option(names = "--releases", defaultValue = "1000", description = "Traces per release profile (default: ${DEFAULT-VALUE}).")
    int releases;

    @Option(names = "--seed", defaultValue = "20261122", description = "The random seed (default: ${DEFAULT-VALUE}).")
    long seed;

    @Override
    public Integer call() {
        if (!"gates".equals(name)) {
            throw new UsageException("no benchmark '" + name + "'; benchmarks are [gates]");
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
}
