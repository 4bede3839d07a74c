package dev.dualdeploy.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import dev.dualdeploy.time.Abort;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import sun.misc.Signal;
import sun.misc.SignalHandler;

/**
 * The signals a Jenkins abort and Ctrl-C send, raised in this JVM while a command's handlers are installed: the first
 * requests the abort, a second says the put-back goes on (nothing stops it), and closing gives the JVM its handlers
 * back. The whole path, a real process signalled mid-rollout and mid-gate, is {@link AbortTest}'s.
 */
class AbortSignalsTest {

    @Test
    void theFirstSignalAbortsAndASecondSaysThePutBackGoesOn() {
        // A JVM started with a signal ignored (a background job of a shell without job control ignores SIGINT) cannot
        // handle it; the CLI then behaves as the OS does, and this test has nothing to show.
        assumeFalse(handler(new Signal("TERM")).equals("SIG_IGN") || handler(new Signal("INT")).equals("SIG_IGN"),
                "this JVM was started with SIGTERM or SIGINT ignored");
        Abort abort = Abort.create();
        StringWriter err = new StringWriter();
        try (AbortSignals signals = new AbortSignals(abort, "prod", new PrintWriter(err, true), "putting back what this run changed")) {
            Signal.raise(new Signal("TERM"));
            await().atMost(Duration.ofSeconds(30)).until(() -> err.toString().lines().count() == 1);
            Signal.raise(new Signal("INT"));
            await().atMost(Duration.ofSeconds(30)).until(() -> err.toString().lines().count() == 2);
        }

        assertThat(abort.requested()).isTrue();
        assertThat(abort.reason()).contains("SIGTERM");
        assertThat(err.toString().lines()).containsExactly(
                "[prod] SIGTERM received: aborting; nothing new starts; putting back what this run changed",
                "[prod] SIGINT received again: still putting back what this run changed; stopping half-way would leave the"
                        + " stage in no defined state, so this goes on (kill -9 ends it at once; a re-run of the same command"
                        + " converges)");
    }

    @Test
    void afterTheCommandTheJvmHasItsOwnHandlersBack() {
        Signal term = new Signal("TERM");
        // sun.misc wraps the JVM's handlers anew on every call: they are told apart by what they wrap (their string).
        String before = handler(term);
        try (AbortSignals signals = new AbortSignals(Abort.create(), "prod", new PrintWriter(new StringWriter()), "stopping")) {
            assertThat(handler(term)).isNotEqualTo(before);
        }
        assertThat(handler(term)).isEqualTo(before);
    }

    /**
     * The handler installed now, as a string, put back as it was. Never by way of SIG_IGN: the JVM refuses to handle a
     * signal it finds ignored, so the signal would stay ignored here and in every process started from here.
     */
    private static String handler(Signal signal) {
        SignalHandler now = Signal.handle(signal, s -> { });
        Signal.handle(signal, now);
        return String.valueOf(now);
    }
}
