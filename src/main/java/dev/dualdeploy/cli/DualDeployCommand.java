package dev.dualdeploy.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.dualdeploy.config.ConfigException;
import dev.dualdeploy.config.ConfigProblem;
import dev.dualdeploy.report.JsonReport;
import dev.dualdeploy.journal.LeaseHeldException;
import dev.dualdeploy.targets.TargetException;
import dev.dualdeploy.traffic.TrafficException;
import dev.dualdeploy.text.Secrets;
import dev.dualdeploy.text.Text;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import java.util.Optional;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ScopeType;

/** The top-level {@code dualdeploy} command; it only holds the subcommands and the global options. */
@Command(name = "dualdeploy", mixinStandardHelpOptions = true, versionProvider = VersionProvider.class,
        description = "Release one image to a legacy orchestrator (ECS) and to Kubernetes, as the same digest on both.",
        subcommands = {ValidateCommand.class, StagesCommand.class, ReleaseCommand.class, PlanCommand.class, DeployCommand.class, GateCommand.class, CutoverCommand.class, StatusCommand.class, ApprovalCommand.class,
                HistoryCommand.class,
                RollbackCommand.class, LocalCommand.class, DemoCommand.class, BenchCommand.class, CommandLine.HelpCommand.class},
        footer = ExitCodes.HELP)
public final class DualDeployCommand {

    @Option(names = "--stacktrace", scope = ScopeType.INHERIT, description = "Print the stack trace of an error.")
    boolean stacktrace;

    /**
     * Parses and runs a command line; returns the exit code. Everything it writes on {@code stdout} and {@code stderr}
     * (results, progress lines, errors, help) passes through {@link Secrets#writer}: a platform's error may quote the
     * credentials it was sent, and no secret this process holds leaves it.
     */
    public static int run(String[] args, PrintWriter stdout, PrintWriter stderr) {
        PrintWriter out = Secrets.writer(stdout, true);
        PrintWriter err = Secrets.writer(stderr, true);
        try {
            int code = execute(args, out, err);
            out.flush();
            // A result that could not be written (a closed pipe, a full disk) is said, not lost in silence; the exit
            // code stays the command's, which a run that began has journaled already.
            if (out.checkError() || stdout.checkError()) {
                err.println("error: the result could not be written to standard output (a closed pipe or a full disk?);"
                        + " the command ended with exit code " + code);
            }
            return code;
        } finally {
            out.flush();
            err.flush();
        }
    }

    private static int execute(String[] args, PrintWriter out, PrintWriter err) {
        DualDeployCommand root = new DualDeployCommand();
        CommandLine line = new CommandLine(root);
        line.setOut(out).setErr(err);
        // issue 8 item 3: picocli replaces an argument '@FILE' by the file's words, so '--image @/proc/self/environ'
        // read the environment (secrets included) into the arguments and echoed it in the usage error. A value that
        // starts with '@' is a value like any other. Set after the subcommands are added, so it holds for all of them.
        line.setExpandAtFiles(false);
        line.setParameterExceptionHandler((e, given) -> rejected(e, json(given), out, err));
        line.setExecutionExceptionHandler((e, cmd, parsed) -> handle(e, cmd, root, err));
        try {
            return line.execute(args);
        } catch (StackOverflowError | OutOfMemoryError e) {
            // picocli hands only Exceptions to the handler above; an Error would end the JVM with a stack trace and,
            // under --output json, an empty stdout that the Jenkins step cannot read.
            String message = "internal error: " + e;
            err.println("error: " + Text.line(message));
            err.println("hint: rerun with --stacktrace and report it");
            err.flush();
            // A run that began ends in the journal with the exit code the process returns, even after an Error.
            executed(line).ifPresent(base -> base.end("ERROR", ExitCodes.INTERNAL, message));
            if (json(args)) {
                out.println(JsonReport.write(JsonReport.error(commandName(args), ExitCodes.INTERNAL, message)));
                out.flush();
            }
            return ExitCodes.INTERNAL;
        }
    }

    /**
     * A command line picocli rejected (an unknown option, a missing or malformed value): one line saying why and one
     * hint, never the whole usage block, and under {@code --output json} the error as JSON, so that a caller that reads
     * stdout (the Jenkins step) gets the reason.
     */
    private static int rejected(ParameterException e, boolean json, PrintWriter out, PrintWriter err) {
        CommandLine cmd = e.getCommandLine();
        String reason = Text.line(e.getMessage());
        err.println("error: " + reason);
        err.println("hint: see '" + cmd.getCommandSpec().qualifiedName() + " --help'");
        err.flush();
        if (json) {
            out.println(JsonReport.write(JsonReport.error(cmd.getCommandName(), ExitCodes.BAD_INPUT, reason)));
            out.flush();
        }
        return ExitCodes.BAD_INPUT;
    }

    /**
     * Whether the command line asks for {@code --output json}. Read from the arguments themselves, because when
     * parsing failed the option may never have been set; the last occurrence wins, as it would for picocli.
     */
    static boolean json(String[] args) {
        boolean json = false;
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--output") && i + 1 < args.length) {
                json = args[i + 1].equals("json");
            } else if (args[i].startsWith("--output=")) {
                json = args[i].equals("--output=json");
            }
        }
        return json;
    }

    /** The subcommand that ran, if parsing got that far and it is one that may begin a run. */
    private static Optional<BaseCommand> executed(CommandLine line) {
        CommandLine.ParseResult parsed = line.getParseResult();
        while (parsed != null && parsed.subcommand() != null) {
            parsed = parsed.subcommand();
        }
        return parsed != null && parsed.commandSpec().userObject() instanceof BaseCommand base ? Optional.of(base) : Optional.empty();
    }

    /** The subcommand a command line names, for the JSON of an error found before parsing ended. */
    private static String commandName(String[] args) {
        CommandLine probe = new CommandLine(new DualDeployCommand());
        for (String arg : args) {
            if (probe.getSubcommands().containsKey(arg)) {
                return arg;
            }
        }
        return probe.getCommandName();
    }

    private static int handle(Exception e, CommandLine cmd, DualDeployCommand root, PrintWriter err) {
        // The parse succeeded, so the command's own --output says whether stdout carries JSON (release has one too).
        OptionSpec outputOption = cmd.getCommandSpec().findOption("--output");
        boolean json = outputOption != null && "json".equals(String.valueOf((Object) outputOption.getValue()));
        int code;
        String message;
        if (e instanceof ConfigException config) {
            code = ExitCodes.BAD_INPUT;
            List<ConfigProblem> problems = config.problems();
            problems.stream().map(ConfigProblem::render).forEach(l -> err.println("error: " + Text.line(l)));
            if (json) {
                String file = cmd.getCommand() instanceof BaseCommand base ? base.file.toString()
                        : problems.isEmpty() ? "" : problems.get(0).file();
                ObjectNode invalid = JsonReport.invalid(cmd.getCommandName(), file, problems);
                if (cmd.getCommand() instanceof BaseCommand base) {
                    base.startedRun().ifPresent(id -> invalid.put("run", id));
                }
                cmd.getOut().println(JsonReport.write(invalid));
                cmd.getOut().flush();
            }
            if (root.stacktrace) {
                trace(e, err);
            }
            // A config problem found after the run began (manifests, a kubeconfig read when a side is reached) ends the
            // run too, with this exit code: every run that began says how it ended.
            if (cmd.getCommand() instanceof BaseCommand base) {
                base.end("ERROR", code, problems.isEmpty() ? "invalid config" : problems.get(0).render()
                        + (problems.size() > 1 ? " (and " + (problems.size() - 1) + " more problems)" : ""));
            }
            err.flush();
            return code;
        } else if (e instanceof UsageException || e instanceof IllegalArgumentException) {
            code = ExitCodes.BAD_INPUT;
            message = e.getMessage();
            err.println("error: " + Text.line(message));
            err.println("hint: see '" + cmd.getCommandSpec().qualifiedName() + " --help'");
        } else if (e instanceof LeaseHeldException) {
            code = ExitCodes.LEASED;
            message = "stage is leased by another run: " + e.getMessage();
            err.println("error: " + Text.line(message));
            err.println("hint: wait for it with --wait-lock DURATION longer than the stage's lease_duration: the lease of a run that"
                    + " died is taken over once a run has seen it unchanged that long; if its holder is surely dead, deleting the"
                    + " Lease (kubectl delete lease -n NAMESPACE NAME) frees the stage at once");
        } else if (e instanceof TargetException || e instanceof TrafficException) {
            code = ExitCodes.NEEDS_ATTENTION;
            message = e.getMessage();
            err.println("error: " + Text.line(message));
        } else {
            code = ExitCodes.INTERNAL;
            message = "internal error: " + e;
            err.println("error: " + Text.line(message));
            if (!root.stacktrace) {
                err.println("hint: rerun with --stacktrace and report it");
            }
        }
        if (root.stacktrace) {
            trace(e, err);
        }
        // A run that began journals how it ended, and its JSON names it, whatever stopped it.
        Optional<String> run = cmd.getCommand() instanceof BaseCommand base ? base.startedRun() : Optional.empty();
        if (cmd.getCommand() instanceof BaseCommand base) {
            // A refusal is no error: the run ended because another one holds the stage (exit 5), and says so.
            base.end(code == ExitCodes.LEASED ? "LEASED" : "ERROR", code, message);
        }
        if (json) {
            ObjectNode error = JsonReport.error(cmd.getCommandName(), code, message);
            run.ifPresent(id -> error.put("run", id));
            cmd.getOut().println(JsonReport.write(error));
            cmd.getOut().flush();
        }
        err.flush();
        return code;
    }

    private static void trace(Exception e, PrintWriter err) {
        StringWriter trace = new StringWriter();
        e.printStackTrace(new PrintWriter(trace));
        err.print(trace);
    }
}
