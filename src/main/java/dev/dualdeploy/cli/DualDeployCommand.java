package dev.dualdeploy.cli;

import dev.dualdeploy.config.ConfigException;
import dev.dualdeploy.config.ConfigProblem;
import dev.dualdeploy.report.JsonReport;
import dev.dualdeploy.target.TargetException;
import java.io.PrintWriter;
import java.io.StringWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;

/** The top-level {@code dualdeploy} command; it only holds the subcommands and the global options. */
@Command(name = "dualdeploy", mixinStandardHelpOptions = true, versionProvider = VersionProvider.class,
        description = "Release one image to a legacy orchestrator (ECS) and to Kubernetes, as the same digest on both.",
        subcommands = {ValidateCommand.class, StagesCommand.class, ReleaseCommand.class, PlanCommand.class, DeployCommand.class, GateCommand.class, StatusCommand.class,
                RollbackCommand.class, LocalCommand.class, DemoCommand.class, BenchCommand.class, CommandLine.HelpCommand.class},
        footer = ExitCodes.HELP)
public final class DualDeployCommand {

    @Option(names = "--stacktrace", scope = ScopeType.INHERIT, description = "Print the stack trace of an error.")
    boolean stacktrace;

    /** Parses and runs a command line; returns the exit code. */
    public static int run(String[] args, PrintWriter out, PrintWriter err) {
        DualDeployCommand root = new DualDeployCommand();
        CommandLine line = new CommandLine(root);
        line.setOut(out).setErr(err);
        // issue 8 item 3: picocli replaces an argument '@FILE' by the file's words, so '--image @/proc/self/environ'
        // read the environment (secrets included) into the arguments and echoed it in the usage error. A value that
        // starts with '@' is a value like any other. Set after the subcommands are added, so it holds for all of them.
        line.setExpandAtFiles(false);
        line.setExecutionExceptionHandler((e, cmd, parsed) -> handle(e, cmd, root, err));
        return line.execute(args);
    }

    private static int handle(Exception e, CommandLine cmd, DualDeployCommand root, PrintWriter err) {
        boolean json = cmd.getCommand() instanceof BaseCommand base && base.json();
        int code;
        String message;
        if (e instanceof ConfigException config) {
            code = ExitCodes.BAD_INPUT;
            message = config.getMessage();
            if (json && cmd.getCommand() instanceof BaseCommand base) {
                cmd.getOut().println(JsonReport.write(JsonReport.validation(base.file.toString(), config.problems(), 0)
                        .put("command", cmd.getCommandName())));
                config.problems().stream().map(ConfigProblem::render).forEach(l -> err.println("error: " + l));
                return code;
            }
            config.problems().stream().map(ConfigProblem::render).forEach(l -> err.println("error: " + l));
        } else if (e instanceof UsageException || e instanceof IllegalArgumentException) {
            code = ExitCodes.BAD_INPUT;
            message = e.getMessage();
            err.println("error: " + message);
            err.println("hint: see 'dualdeploy " + cmd.getCommandName() + " --help'");
        } else if (e instanceof TargetException) {
            code = ExitCodes.NEEDS_ATTENTION;
            message = e.getMessage();
            err.println("error: " + message);
        } else {
            code = ExitCodes.INTERNAL;
            message = "internal error: " + e;
            err.println("error: " + message);
            if (!root.stacktrace) {
                err.println("hint: rerun with --stacktrace and report it");
            }
        }
        if (root.stacktrace) {
            StringWriter trace = new StringWriter();
            e.printStackTrace(new PrintWriter(trace));
            err.print(trace);
        }
        if (json) {
            cmd.getOut().println(JsonReport.write(JsonReport.error(cmd.getCommandName(), code, message)));
        }
        err.flush();
        return code;
    }
}
