package dev.dualdeploy.cli;

import dev.dualdeploy.config.DualDeploySpec;
import dev.dualdeploy.config.Side;
import dev.dualdeploy.config.StageSpec;
import dev.dualdeploy.report.JsonReport;
import java.util.List;
import picocli.CommandLine.Command;

/** {@code dualdeploy validate}: checks the config without touching the network. */
@Command(name = "validate", mixinStandardHelpOptions = true, footer = ExitCodes.HELP,
        description = "Check the config file (no network): unknown or missing keys, bad values, impossible combinations.")
final class ValidateCommand extends BaseCommand {

    @Override
    public Integer call() {
        // config() checks the kubeconfigs the config names too (a local read, no network), as every command does.
        DualDeploySpec config = config();
        if (json()) {
            out().println(JsonReport.write(JsonReport.validation(file.toString(), List.of(), config.stages().size())));
            return ExitCodes.OK;
        }
        out().println(file + " is valid: " + config.service() + ", " + config.stages().size() + " stages");
        for (StageSpec stage : config.stages()) {
            String sides = Side.labels(List.of(Side.values()).stream().filter(stage::toggledOn).toList());
            out().println("  " + stage.name() + ": " + (sides.isEmpty() ? "no side enabled" : sides));
        }
        return ExitCodes.OK;
    }
}
