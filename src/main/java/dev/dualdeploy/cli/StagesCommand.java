package dev.dualdeploy.cli;

import dev.dualdeploy.config.BranchSpec;
import dev.dualdeploy.config.DualDeploySpec;
import dev.dualdeploy.config.StageSpec;
import dev.dualdeploy.report.JsonReport;
import dev.dualdeploy.text.Text;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code dualdeploy stages}: the stage chain a branch deploys to, in order, with the approval asked before each stage
 * deploys. The Jenkins step asks this instead of matching branches itself, so the rule lives (and is tested) in one
 * place.
 */
@Command(name = "stages", mixinStandardHelpOptions = true, footer = ExitCodes.HELP,
        description = "Show the stages a branch deploys to, in order, with the approval asked before each one deploys"
                + " (reads the config only).")
final class StagesCommand extends BaseCommand {

    @Option(names = "--branch", paramLabel = "NAME", defaultValue = "", description = "The branch (Jenkins: BRANCH_NAME).")
    String branch;

    @Option(names = "--change-id", paramLabel = "ID", defaultValue = "",
            description = "The change request (Jenkins: CHANGE_ID); also tried as PR-<ID> when the branch does not match.")
    String changeId;

    @Option(names = "--only", split = ",", paramLabel = "STAGE", description = "Use these stages instead of the branch's chain.")
    List<String> only;

    @Option(names = "--stop-after", paramLabel = "STAGE", description = "End the chain after this stage.")
    String stopAfter;

    @Override
    public Integer call() {
        DualDeploySpec config = config();
        String pattern;
        List<String> names;
        String message;
        if (only != null && !only.isEmpty()) {
            only.forEach(name -> stage(config, name));
            pattern = null;
            names = new ArrayList<>(only);
            message = "stages given explicitly: " + only;
        } else {
            Optional<BranchSpec> chain = config.chain(branch);
            if (chain.isEmpty() && !changeId.isEmpty()) {
                chain = config.chain("PR-" + changeId);
            }
            pattern = chain.map(BranchSpec::pattern).orElse(null);
            names = new ArrayList<>(chain.map(BranchSpec::stages).orElse(List.of()));
            // The branch and change come from the build, so a control character in them is shown escaped (issue 8 item 13).
            String shown = Text.escape(branch);
            message = chain.isEmpty()
                    ? "branch '" + shown + "'" + (changeId.isEmpty() ? "" : " (change " + Text.escape(changeId) + ")")
                            + " matches no entry of branches: in " + file + "; nothing to deploy"
                    : "branch '" + shown + "' matches '" + pattern + "': " + (names.isEmpty() ? "no stages" : String.join(" → ", names));
        }
        if (stopAfter != null) {
            int at = names.indexOf(stopAfter);
            if (at < 0) {
                throw new UsageException("--stop-after: '" + stopAfter + "' is not in the chain " + names);
            }
            names = new ArrayList<>(names.subList(0, at + 1));
            message += "; stopping after " + stopAfter;
        }
        List<StageSpec> stages = names.stream().map(name -> stage(config, name)).toList();
        if (json()) {
            out().println(JsonReport.write(JsonReport.stages(config.service(), config.image(), branch, changeId, pattern, stages, message)));
        } else {
            out().println(message);
            for (StageSpec stage : stages) {
                out().println("  " + stage.name() + stage.approval()
                        .map(a -> ": approval by " + String.join(",", a.submitters()) + " within " + a.timeout().toMinutes()
                                + "m, before it deploys")
                        .orElse(""));
            }
        }
        return ExitCodes.OK;
    }
}
