package dev.dualdeploy.cli;

import dev.dualdeploy.config.Durations;
import dev.dualdeploy.local.LocalEnvironment;
import dev.dualdeploy.release.Release;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code dualdeploy local}: starts the embedded local environment and says how to point the CLI at it. */
@Command(name = "local", mixinStandardHelpOptions = true, footer = ExitCodes.HELP,
        description = "Start the embedded local environment (a simulated Kubernetes API and ECS API on loopback) with a"
                + " sample service in four stages, and print how to point the CLI at it.")
final class LocalCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--dir", defaultValue = "dualdeploy-local", paramLabel = "DIR",
            description = "Where to write kubeconfig and dualdeploy.yaml (default: ${DEFAULT-VALUE}).")
    Path dir;

    @Option(names = "--for", paramLabel = "DURATION", description = "Stop after this long, such as 10m (default: until Ctrl-C).")
    String duration;

    @Override
    public Integer call() throws InterruptedException {
        Duration limit = duration == null ? null : Durations.parse(duration)
                .orElseThrow(() -> new UsageException("--for: '" + duration + "' is not a duration such as 90s or 10m"));
        Release initial = LocalEnvironment.sampleRelease("0.9.0");
        CountDownLatch stop = new CountDownLatch(1);
        try (LocalEnvironment env = LocalEnvironment.start(dir, initial, 2)) {
            Thread hook = new Thread(stop::countDown, "local-shutdown");
            Runtime.getRuntime().addShutdownHook(hook);
            PrintWriter out = spec.commandLine().getOut();
            Path config = env.config().toAbsolutePath();
            out.println("The local environment is up: " + LocalEnvironment.SERVICE + " " + initial.version()
                    + " runs in " + LocalEnvironment.STAGES + " on both sides.");
            out.println("  Kubernetes API  " + env.kubernetes().url() + "  (kubeconfig " + env.kubeconfig().toAbsolutePath()
                    + ", one context per stage)");
            out.println("  ECS API         " + env.ecs().endpoint() + "  (region " + LocalEnvironment.REGION + ")");
            out.println("  config          " + config);
            out.println();
            out.println("In another shell (the simulators accept any credentials; these keep the AWS SDK off the network):");
            out.println("  export AWS_ACCESS_KEY_ID=" + LocalEnvironment.ACCESS_KEY + " AWS_SECRET_ACCESS_KEY="
                    + LocalEnvironment.ACCESS_KEY + " AWS_EC2_METADATA_DISABLED=true");
            out.println("  dualdeploy status -f " + config);
            out.println("  dualdeploy deploy -f " + config + " --stage sandbox --image " + LocalEnvironment.sampleRelease("1.0.0").image()
                    + " --release-version 1.0.0");
            out.println();
            out.println(limit == null ? "Press Ctrl-C to stop." : "Stopping in " + Durations.format(limit) + ".");
            out.flush();
            if (limit == null) {
                stop.await();
            } else {
                stop.await(limit.toMillis(), TimeUnit.MILLISECONDS);
                Runtime.getRuntime().removeShutdownHook(hook);
            }
        }
        return ExitCodes.OK;
    }
}
