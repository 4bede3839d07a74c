package dev.dualdeploy.net;

import java.io.InterruptedIOException;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpTimeoutException;
import java.nio.channels.ClosedChannelException;
import java.time.Duration;
import java.util.Optional;

/**
 * Says in one line why a platform could not be reached, from a client's exception chain: {@code no answer from
 * http://k8s.example.com:6443 within 10s}, {@code connection refused by …}. A client's own words for these are often a bare
 * class name ({@code ClosedChannelException}), {@code null}, or a paragraph.
 */
public final class Faults {

    private Faults() {
    }

    /** Whether the chain holds a network fault (no answer, refused, unknown host, closed): nothing was read. */
    public static boolean network(Throwable fault) {
        return kind(fault).isPresent();
    }

    /**
     * One line: the network fault and where, or else the first line of the outermost message (at most 300
     * characters), or the exception's class name if it has no message.
     *
     * @param where the endpoint, such as {@code https://k8s.example.com:6443}
     * @param read the read timeout that applied, for "no answer within"
     */
    public static String describe(Throwable fault, String where, Duration read) {
        Optional<String> kind = kind(fault);
        if (kind.isPresent()) {
            return switch (kind.get()) {
                case "timeout" -> "no answer from " + where + " within " + seconds(read);
                case "connect-timeout" -> "no connection to " + where + " could be opened in time";
                case "refused" -> "connection refused by " + where;
                case "unknown-host" -> "unknown host in " + where;
                default -> "the connection to " + where + " closed without an answer";
            };
        }
        String message = Optional.ofNullable(fault.getMessage()).orElse(fault.getClass().getSimpleName());
        String first = message.lines().findFirst().orElse("").strip();
        return first.length() > 300 ? first.substring(0, 300) + "…" : first;
    }

    private static Optional<String> kind(Throwable fault) {
        for (Throwable t = fault; t != null; t = t.getCause()) {
            if (t instanceof HttpConnectTimeoutException) {
                return Optional.of("connect-timeout");
            }
            String name = t.getClass().getSimpleName();
            if (t instanceof SocketTimeoutException || t instanceof HttpTimeoutException
                    || name.equals("ApiCallTimeoutException") || name.equals("ApiCallAttemptTimeoutException")) {
                return Optional.of("timeout");
            }
            if (t instanceof ConnectException || t instanceof NoRouteToHostException) {
                return Optional.of("refused");
            }
            if (t instanceof UnknownHostException) {
                return Optional.of("unknown-host");
            }
            if (t instanceof ClosedChannelException || t instanceof InterruptedIOException) {
                return Optional.of("closed");
            }
        }
        return Optional.empty();
    }

    /** {@code 10s}, or {@code 500ms} below a whole second. */
    public static String seconds(Duration duration) {
        return duration.toMillis() % 1000 == 0 ? duration.toSeconds() + "s" : duration.toMillis() + "ms";
    }
}
