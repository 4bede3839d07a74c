package dev.dualdeploy.traffic.nginx;

import dev.dualdeploy.text.Text;
import dev.dualdeploy.traffic.TrafficException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * Runs the nginx test or reload command: an argument list started directly (never through a shell, so no value in it
 * is ever parsed as shell syntax), bounded in time, its output kept up to {@value #MAX_OUTPUT} bytes for the message.
 */
final class Command {

    /** How much of a command's output is kept; nginx says what is wrong in a line or two. */
    static final int MAX_OUTPUT = 16 * 1024;
    /** The longest part of a command's output a message quotes. */
    static final int MAX_QUOTED = 1_000;

    private Command() {
    }

    /** How a command ended: its exit status and what it wrote (stdout and stderr together, at most {@link #MAX_OUTPUT}). */
    record Result(int exit, String output) {
    }

    /**
     * Runs the command and waits at most {@code limit} for it.
     *
     * @param what what the command is for, in messages: {@code test} or {@code reload}
     * @param limit how long it may run: what is left of {@code timeout}
     * @param timeout the router's timeout, which the test, the reload and the read-back share, for messages
     * @throws TrafficException if it cannot be started (not found, not executable) or does not end within the limit (it
     *                          is then killed with every process it started)
     */
    static Result run(String what, List<String> argv, Duration limit, Duration timeout) {
        if (argv.isEmpty()) {
            throw new TrafficException("the nginx router's " + what + " command is empty; give it as a list, such as [nginx, -t]");
        }
        if (limit.isNegative() || limit.isZero()) {
            throw new TrafficException("no time was left to run the nginx " + what + " command " + show(argv) + " within the router's"
                    + " timeout of " + seconds(timeout));
        }
        Process process;
        try {
            process = new ProcessBuilder(argv).redirectErrorStream(true).start();
        } catch (IOException e) {
            throw new TrafficException("cannot run the nginx " + what + " command " + show(argv) + ": " + Text.foreign(e.getMessage()));
        }
        try {
            // Nothing is typed into it: a command that asks a question reads end-of-file instead of hanging.
            process.getOutputStream().close();
        } catch (IOException ignored) {
            // It exited already.
        }
        ByteArrayOutputStream output = new ByteArrayOutputStream();
        Thread reader = new Thread(() -> drain(process.getInputStream(), output), "nginx-" + what + "-output");
        reader.setDaemon(true);
        reader.start();
        try {
            if (!process.waitFor(limit.toMillis(), TimeUnit.MILLISECONDS)) {
                kill(process);
                throw new TrafficException("the nginx " + what + " command " + show(argv) + " did not finish within the"
                        + " router's timeout of " + seconds(timeout) + " (the test, the reload and the read-back share it);"
                        + " it was stopped");
            }
            // A child that inherited the pipe could hold it open after the command ended; do not wait for it long.
            reader.join(1_000);
        } catch (InterruptedException e) {
            kill(process);
            Thread.currentThread().interrupt();
            throw new TrafficException("interrupted while the nginx " + what + " command " + show(argv) + " ran; it was stopped");
        }
        String text;
        synchronized (output) {
            text = output.toString(StandardCharsets.UTF_8);
        }
        return new Result(process.exitValue(), text);
    }

    /**
     * What a message quotes of a command's output: nginx's {@code [emerg]}, {@code [alert]}, {@code [crit]} and
     * {@code [error]} lines if it wrote any (the rest is "test failed" boilerplate), else every line; joined with
     * {@code ; }, escaped and bounded. Empty output is {@code (no output)}.
     */
    static String quote(String output) {
        List<String> lines = output.lines().map(String::strip).filter(l -> !l.isEmpty()).toList();
        List<String> problems = lines.stream().filter(l -> l.matches(".*\\[(emerg|alert|crit|error)].*")).toList();
        String joined = (problems.isEmpty() ? lines : problems).stream().collect(Collectors.joining("; "));
        return joined.isEmpty() ? "(no output)" : Text.line(joined, MAX_QUOTED);
    }

    /** The argument list as a message shows it: {@code [nginx, -t]}, escaped and bounded. */
    static String show(List<String> argv) {
        return Text.line(argv.toString(), Text.MAX_FOREIGN);
    }

    static String seconds(Duration duration) {
        long millis = duration.toMillis();
        return millis % 1000 == 0 ? millis / 1000 + "s" : millis + "ms";
    }

    private static void drain(InputStream in, ByteArrayOutputStream output) {
        byte[] buffer = new byte[4096];
        try (in) {
            int n;
            while ((n = in.read(buffer)) >= 0) {
                synchronized (output) {
                    int keep = Math.min(n, MAX_OUTPUT - output.size());
                    if (keep > 0) {
                        output.write(buffer, 0, keep);
                    }
                }
            }
        } catch (IOException closed) {
            // The process was killed or closed its output: what was read so far is what there is.
        }
    }

    /** Kills the command and everything it started: a test script that forked an nginx must not outlive the timeout. */
    private static void kill(Process process) {
        process.descendants().forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly();
        try {
            process.waitFor(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
