package dev.dualdeploy.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A TCP relay on loopback, on an ephemeral port, in front of a real peer, that can be told to go silent: from then on
 * it relays nothing in either direction and accepts new connections without answering, as a platform that hangs in
 * the middle of a run does. Connections stay open until {@link #close()}.
 */
public final class SilencingProxy implements AutoCloseable {

    private final ServerSocket server;
    private final int target;
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();
    private volatile boolean silent;

    /** @param target the loopback port of the peer to relay to */
    public SilencingProxy(int target) {
        this.target = target;
        try {
            server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        daemon(this::accept, "silencing-proxy");
    }

    private static void daemon(Runnable run, String name) {
        Thread thread = new Thread(run, name);
        thread.setDaemon(true);
        thread.start();
    }

    private void accept() {
        while (!server.isClosed()) {
            try {
                Socket client = server.accept();
                sockets.add(client);
                if (silent) {
                    continue;
                }
                Socket peer = new Socket(InetAddress.getLoopbackAddress(), target);
                sockets.add(peer);
                daemon(() -> relay(client, peer), "relay-out");
                daemon(() -> relay(peer, client), "relay-in");
            } catch (IOException closed) {
                return;
            }
        }
    }

    private void relay(Socket from, Socket to) {
        byte[] buffer = new byte[8192];
        // The streams are not closed here: closing one closes its socket, and a silent peer keeps connections open.
        try {
            InputStream in = from.getInputStream();
            OutputStream out = to.getOutputStream();
            int n;
            while ((n = in.read(buffer)) >= 0) {
                if (silent) {
                    return; // drop it, and everything after: the connection hangs, open
                }
                out.write(buffer, 0, n);
                out.flush();
            }
        } catch (IOException closed) {
            // one side went away
        }
    }

    /** From now on, nothing is relayed and no new connection is answered. */
    public void silence() {
        silent = true;
    }

    /** {@code http://127.0.0.1:<port>}. */
    public String url() {
        return "http://127.0.0.1:" + server.getLocalPort();
    }

    @Override
    public void close() throws IOException {
        server.close();
        for (Socket socket : sockets) {
            socket.close();
        }
    }
}
