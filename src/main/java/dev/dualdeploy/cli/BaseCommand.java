package dev.dualdeploy.cli;

import dev.dualdeploy.config.ConfigException;
import dev.dualdeploy.config.ConfigLoader;
import dev.dualdeploy.config.ConfigProblem;
import dev.dualdeploy.config.DualDeploySpec;
import dev.dualdeploy.config.StageSpec;
import dev.dualdeploy.journal.RunIds;
import dev.dualdeploy.pipeline.Reporter;
import dev.dualdeploy.targets.kubernetes.Kubeconfig;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** What every config-reading subcommand shares: the config file, the output format, and how progress is printed. */
abstract class BaseCommand implements Callable<Integer> {

    /** The output formats. */
    enum Output { text, json }

    @Spec
    CommandSpec spec;

    @Option(names = {"-f", "--file"}, defaultValue = "dualdeploy.yaml", paramLabel = "FILE",
            description = "The config file (default: ${DEFAULT-VALUE}).")
    Path file;

    @Option(names = "--override", paramLabel = "JSON",
            description = "A JSON object of config keys merged over the file before validation (the Jenkins step's parameters).")
    String override;

    @Option(names = "--allow-outside-manifests",
            description = "Let the config's kubernetes.manifests be absolute or outside the config file's directory."
                    + " Only for configs from trusted branches.")
    boolean allowOutsideManifests;

    @Option(names = "--output", defaultValue = "text", paramLabel = "FORMAT",
            description = "text (for people) or json (a stable result on stdout; progress stays on stderr).")
    Output output;

    private String runId;

    /** This invocation's run id ({@code journal.RunIds}), made once, at first use. */
    String runId() {
        if (runId == null) {
            runId = RunIds.next(Clock.systemUTC());
        }
        return runId;
    }

    boolean json() {
        return output == Output.json;
    }

    /**
     * The config, validated as {@code validate} does before any network call: the file, and the kubeconfigs it names
     * that can be read now (a local read). So every command refuses with exit 2 what validate refuses, before it
     * reaches a platform (a context the kubeconfig lacks would otherwise surface only after another side was asked).
     */
    DualDeploySpec config() {
        DualDeploySpec config = new ConfigLoader(allowOutsideManifests).load(file, override);
        List<ConfigProblem> kubeconfig = Kubeconfig.validate(config, file, System.getenv(), Path.of(System.getProperty("user.home")));
        if (!kubeconfig.isEmpty()) {
            throw new ConfigException(kubeconfig);
        }
        return config;
    }

    StageSpec stage(DualDeploySpec config, String name) {
        return config.stage(name).orElseThrow(() -> new UsageException("no stage '" + name + "' in " + file + "; stages are "
                + config.stages().stream().map(StageSpec::name).toList()));
    }

    PrintWriter out() {
        return spec.commandLine().getOut();
    }

    /** Progress goes to stderr, so that stdout carries only the result (text or JSON). */
    Reporter reporter() {
        PrintWriter err = spec.commandLine().getErr();
        return (stage, side, message) -> {
            synchronized (err) {
                err.println(Reporter.line(stage, side, message));
                err.flush();
            }
        };
    }
}
