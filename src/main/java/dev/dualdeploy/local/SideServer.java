package dev.dualdeploy.local;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * One side behind a loopback nginx (the bench's, and the nginx router's tests'): a small HTTP/1.1 server on loopback that
 * answers every request {@code 200} with its side's name as the body, on kept-alive connections.
 *
 * <p>Not the JDK's {@code HttpServer}: it writes a response's headers and its body as two TCP segments without
 * {@code TCP_NODELAY} (settable only JVM-wide), so on a kept-alive connection each answer waits some 40 ms for nginx's
 * delayed acknowledgement, and 10,000 requests would take 15 s. This one writes each answer in one segment.
 */
public final class SideServer implements AutoCloseable {

    private static final int MAX_HEAD = 16 * 1024;

    private final ServerSocket socket;
    private final byte[] answer;
    private final ExecutorService threads = Executors.newCachedThreadPool(r -> {
        Thread thread = new Thread(r, "bench-side-server");
        thread.setDaemon(true);
        return thread;
    });
    private final Set<Socket> open = ConcurrentHashMap.newKeySet();

    private SideServer(ServerSocket socket, String side) {
        this.socket = socket;
        byte[] body = side.getBytes(StandardCharsets.UTF_8);
        this.answer = ("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: " + body.length + "\r\n\r\n" + side)
                .getBytes(StandardCharsets.UTF_8);
    }

    /** Starts the side on a free loopback port. */
    public static SideServer start(String side) throws IOException {
        SideServer server = new SideServer(new ServerSocket(0, 128, InetAddress.getLoopbackAddress()), side);
        server.threads.execute(server::accept);
        return server;
    }

    public int port() {
        return socket.getLocalPort();
    }

    private void accept() {
        while (!socket.isClosed()) {
            try {
                Socket connection = socket.accept();
                connection.setTcpNoDelay(true);
                open.add(connection);
                threads.execute(() -> serve(connection));
            } catch (IOException closed) {
                return;
            }
        }
    }

    private void serve(Socket connection) {
        try (connection; InputStream in = new BufferedInputStream(connection.getInputStream());
             OutputStream out = connection.getOutputStream()) {
            while (true) {
                String head = head(in);
                if (head == null) {
                    return;
                }
                String lower = head.toLowerCase(Locale.ROOT);
                int length = lower.indexOf("\ncontent-length:");
                if (length >= 0) {
                    int end = lower.indexOf('\r', length + 1);
                    in.skipNBytes(Long.parseLong(lower.substring(length + 16, end).strip()));
                }
                out.write(answer);
                out.flush();
                if (lower.contains("\nconnection: close") || head.startsWith("HTTP/1.0", head.indexOf('\r') - 8)) {
                    return;
                }
            }
        } catch (IOException | RuntimeException gone) {
            // nginx closed the connection (or sent something this stand-in does not read): nothing to answer.
        } finally {
            open.remove(connection);
        }
    }

    /** A request's head up to its blank line, or null at the end of the connection. */
    private static String head(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        int matched = 0;
        while (matched < 4) {
            int b = in.read();
            if (b < 0) {
                return null;
            }
            if (head.size() >= MAX_HEAD) {
                throw new IOException("request head too long");
            }
            head.write(b);
            matched = b == "\r\n\r\n".charAt(matched) ? matched + 1 : b == '\r' ? 1 : 0;
        }
        return head.toString(StandardCharsets.US_ASCII);
    }

    @Override
    public void close() {
        try {
            socket.close();
        } catch (IOException ignored) {
            // Closed already.
        }
        open.forEach(connection -> {
            try {
                connection.close();
            } catch (IOException ignored) {
                // Closed already.
            }
        });
        threads.shutdownNow();
    }
}
