package dev.dualdeploy.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A TCP listener on loopback, on an ephemeral port, for tests about peers that are not there: either it counts each
 * connection and closes it at once (to assert that nothing connected), or it accepts connections and never answers, as
 * a hung API server or a black-holing proxy does (to assert timeouts). It speaks no protocol at all.
 */
public final class LoopbackListener implements AutoCloseable {

    private final ServerSocket server;
    private final boolean hold;
    private final AtomicInteger connections = new AtomicInteger();
    private final List<Socket> held = new CopyOnWriteArrayList<>();

    private LoopbackListener(boolean hold) {
        this.hold = hold;
        try {
            server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Thread acceptor = new Thread(this::accept, hold ? "silent-peer" : "counting-listener");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    /** Counts every connection and closes it without a byte. */
    public static LoopbackListener counting() {
        return new LoopbackListener(false);
    }

    /** Accepts every connection and never answers; the connections stay open until {@link #close()}. */
    public static LoopbackListener silent() {
        return new LoopbackListener(true);
    }

    private void accept() {
        while (!server.isClosed()) {
            try {
                Socket socket = server.accept();
                connections.incrementAndGet();
                if (hold) {
                    held.add(socket);
                } else {
                    socket.close();
                }
            } catch (IOException closed) {
                return;
            }
        }
    }

    public int port() {
        return server.getLocalPort();
    }

    /** {@code http://127.0.0.1:<port>}. */
    public String url() {
        return "http://127.0.0.1:" + port();
    }

    /** How many connections were accepted so far. */
    public int connections() {
        return connections.get();
    }

    @Override
    public void close() throws IOException {
        server.close();
        for (Socket socket : held) {
            socket.close();
        }
    }
}
