package dev.dualdeploy.cli;

import dev.dualdeploy.time.Abort;
import java.io.PrintWriter;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import sun.misc.Signal;
import sun.misc.SignalHandler;

/**
 * Turns SIGTERM and SIGINT (what a Jenkins abort and Ctrl-C send) into the command's {@link Abort} while the command
 * runs, and gives the JVM its own handlers back afterwards.
 *
 * <p>Why {@code sun.misc.Signal} and not a shutdown hook: a hook runs only once the JVM has begun to exit. By then the
 * exit status is the signal's (143), other hooks run concurrently (clients close under the put-back), and setting our
 * own status would take {@code Runtime.halt} from inside the hook. A signal handler instead leaves the JVM running: the
 * command notices the abort where it checks, puts the stage back on its own thread, and returns its exit code to
 * {@code Main} like any other. picocli installs no handlers of its own, so nothing competes for the signals.
 * {@code sun.misc.Signal} is in the {@code jdk.unsupported} module, which every JDK 17 ships and exports; a JVM that
 * refuses a handler (run with {@code -Xrs}) keeps its default, and the command is then only as abortable as kill -9.
 */
final class AbortSignals implements AutoCloseable {

    private static final List<String> NAMES = List.of("TERM", "INT");

    private final Map<Signal, SignalHandler> previous = new LinkedHashMap<>();

    /**
     * @param stage the stage the command works on, for the progress prefix
     * @param err where the command's progress goes
     * @param stopping what the command does on the first signal, such as {@code putting back what this run changed}
     */
    AbortSignals(Abort abort, String stage, PrintWriter err, String stopping) {
        for (String name : NAMES) {
            Signal signal = new Signal(name);
            try {
                previous.put(signal, Signal.handle(signal, s -> received(abort, "SIG" + s.getName(), stage, err, stopping)));
            } catch (IllegalArgumentException refused) {
                // -Xrs, or a signal the JVM keeps for itself: its default stays (the process ends without a put-back).
            }
        }
    }

    private static void received(Abort abort, String signal, String stage, PrintWriter err, String stopping) {
        String message = abort.request(signal)
                ? signal + " received: aborting; nothing new starts; " + stopping
                : signal + " received again: still " + stopping + "; stopping half-way would leave the stage in no defined"
                + " state, so this goes on (kill -9 ends it at once; a re-run of the same command converges)";
        RunRecorder.say(err, "[" + stage + "] " + message);
    }

    /** Gives the signals their handlers from before back. */
    @Override
    public void close() {
        previous.forEach(Signal::handle);
        previous.clear();
    }
}
