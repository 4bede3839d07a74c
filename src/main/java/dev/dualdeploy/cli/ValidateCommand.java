package dev.dualdeploy.cli;

import dev.dualdeploy.config.ConfigException;
import dev.dualdeploy.config.ConfigProblem;
import dev.dualdeploy.config.DualDeploySpec;
import dev.dualdeploy.config.Side;
import dev.dualdeploy.config.StageSpec;
import dev.dualdeploy.report.JsonReport;
import dev.dualdeploy.target.kubernetes.Kubeconfig;
import java.nio.file.Path;
import java.util.List;
import picocli.CommandLine.Command;

/** {@code dualdeploy validate}: checks the config without touching the network. */
@Command(name = "validate", mixinStandardHelpOptions = true, footer = ExitCodes.HELP,
        description = "Check the config file (no network): unknown or missing keys, bad values, impossible combinations.")
final class ValidateCommand extends BaseCommand {

    @Override
    public Integer call() {
        DualDeploySpec config = config();
        // The kubeconfigs that can be read now are checked too (a local read, no network): a context they lack would
        // otherwise pass here and fail at deploy, or worse, silently become the current context.
        List<ConfigProblem> kubeconfig = Kubeconfig.validate(config, file, System.getenv(), Path.of(System.getProperty("user.home")));
        if (!kubeconfig.isEmpty()) {
            throw new ConfigException(kubeconfig);
        }
        if (json()) {
            out().println(JsonReport.write(JsonReport.validation(file.toString(), List.of(), config.stages().size())));
            return ExitCodes.OK;
        }
        out().println(file + " is valid: " + config.service() + ", " + config.stages().size() + " stages");
        for (StageSpec stage : config.stages()) {
            String sides = Side.labels(List.of(Side.values()).stream().filter(stage::enabled).toList());
            out().println("  " + stage.name() + ": " + (sides.isEmpty() ? "no side enabled" : sides));
        }
        return ExitCodes.OK;
    }
}
