package dev.dualdeploy.net;

import dev.dualdeploy.text.Text;
import java.io.EOFException;
import java.io.InterruptedIOException;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpTimeoutException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.UnresolvedAddressException;
import java.time.Duration;
import java.util.Optional;
import javax.net.ssl.SSLException;

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
        Optional<Kind> kind = kind(fault);
        if (kind.isPresent()) {
            return switch (kind.get().name) {
                case "timeout" -> "no answer from " + where + " within " + seconds(read);
                case "connect-timeout" -> "no connection to " + where + " could be opened in time";
                case "refused" -> "connection refused by " + where;
                case "unknown-host" -> "unknown host in " + where;
                case "tls" -> "the TLS handshake with " + where + " failed" + kind.get().detail();
                default -> "the connection to " + where + " closed without an answer";
            };
        }
        return firstLine(fault);
    }

    /**
     * The same as {@link #describe} for a message that already names where, such as {@code cannot reach
     * registry.example.com:443: connection refused}.
     */
    public static String reason(Throwable fault, Duration read) {
        Optional<Kind> kind = kind(fault);
        if (kind.isPresent()) {
            return switch (kind.get().name) {
                case "timeout" -> "no answer within " + seconds(read);
                case "connect-timeout" -> "no connection could be opened in time";
                case "refused" -> "connection refused";
                case "unknown-host" -> "unknown host";
                case "tls" -> "the TLS handshake failed" + kind.get().detail();
                default -> "the connection closed without an answer";
            };
        }
        return firstLine(fault);
    }

    private static String firstLine(Throwable fault) {
        String message = Optional.ofNullable(fault.getMessage()).orElse(fault.getClass().getSimpleName());
        String first = message.lines().findFirst().orElse("").strip();
        return first.length() > 300 ? first.substring(0, 300) + "…" : first;
    }

    /** A kind of network fault, with the words of the exception that told it where they help (TLS). */
    private record Kind(String name, String detail) {
        Kind(String name) {
            this(name, "");
        }
    }

    private static Optional<Kind> kind(Throwable fault) {
        int depth = 0;
        for (Throwable t = fault; t != null && depth < 20; t = t.getCause(), depth++) {
            if (t instanceof HttpConnectTimeoutException) {
                return Optional.of(new Kind("connect-timeout"));
            }
            String name = t.getClass().getSimpleName();
            if (t instanceof SocketTimeoutException || t instanceof HttpTimeoutException
                    || name.equals("ApiCallTimeoutException") || name.equals("ApiCallAttemptTimeoutException")) {
                return Optional.of(new Kind("timeout"));
            }
            if (t instanceof SSLException) {
                String message = Optional.ofNullable(t.getMessage()).flatMap(m -> m.lines().findFirst()).orElse("").strip();
                return Optional.of(new Kind("tls", message.isEmpty() ? "" : " (" + Text.line(message, 200) + ")"));
            }
            // The JDK reports a refused connection as a ConnectException around a ClosedChannelException: refused wins.
            if (t instanceof ConnectException || t instanceof NoRouteToHostException) {
                return Optional.of(new Kind("refused"));
            }
            if (t instanceof UnknownHostException || t instanceof UnresolvedAddressException) {
                return Optional.of(new Kind("unknown-host"));
            }
            if (t instanceof ClosedChannelException || t instanceof InterruptedIOException || t instanceof EOFException) {
                return Optional.of(new Kind("closed"));
            }
        }
        return Optional.empty();
    }

    /** {@code 10s}, or {@code 500ms} below a whole second. */
    public static String seconds(Duration duration) {
        return duration.toMillis() % 1000 == 0 ? duration.toSeconds() + "s" : duration.toMillis() + "ms";
    }
}
