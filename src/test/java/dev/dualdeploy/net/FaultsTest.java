package dev.dualdeploy.net;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.EOFException;
import java.io.IOException;
import java.net.ConnectException;
import java.net.SocketTimeoutException;
import java.net.http.HttpConnectTimeoutException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.UnresolvedAddressException;
import java.time.Duration;
import javax.net.ssl.SSLHandshakeException;
import org.junit.jupiter.api.Test;

/**
 * The one place that says why a platform, a metrics source or a registry could not be reached: every client's
 * exception chain becomes the same words, wherever it came from (the registry client once had its own, different ones).
 */
class FaultsTest {

    private static final Duration READ = Duration.ofSeconds(10);

    private static Throwable wrapped(Throwable cause) {
        return new IOException(null, new IOException("wrapper", cause));
    }

    @Test
    void aRefusedConnectionIsRefusedEvenAroundTheClosedChannelTheJdkPutsInside() {
        Throwable refused = wrapped(new ConnectException(null).initCause(new ClosedChannelException()));
        assertThat(Faults.reason(refused, READ)).isEqualTo("connection refused");
        assertThat(Faults.describe(refused, "http://127.0.0.1:1", READ)).isEqualTo("connection refused by http://127.0.0.1:1");
    }

    @Test
    void eachNetworkFaultHasItsWords() {
        assertThat(Faults.reason(wrapped(new SocketTimeoutException("Read timed out")), READ)).isEqualTo("no answer within 10s");
        assertThat(Faults.reason(wrapped(new HttpConnectTimeoutException("x")), READ)).isEqualTo("no connection could be opened in time");
        assertThat(Faults.reason(wrapped(new UnresolvedAddressException()), READ)).isEqualTo("unknown host");
        assertThat(Faults.reason(wrapped(new EOFException()), READ)).isEqualTo("the connection closed without an answer");
        assertThat(Faults.reason(wrapped(new ClosedChannelException()), READ)).isEqualTo("the connection closed without an answer");
        assertThat(Faults.network(wrapped(new EOFException()))).isTrue();
    }

    @Test
    void aFailedTlsHandshakeSaysSoOnOneLineWithControlCharactersEscaped() {
        Throwable tls = wrapped(new SSLHandshakeException("PKIX path building failed\nsecond line\u001b[31m"));
        assertThat(Faults.reason(tls, READ)).isEqualTo("the TLS handshake failed (PKIX path building failed)");
        assertThat(Faults.describe(new SSLHandshakeException("bad\u001b[31m cert"), "https://r.example.com", READ))
                .isEqualTo("the TLS handshake with https://r.example.com failed (bad\\u001b[31m cert)");
    }

    @Test
    void anythingElseIsTheFirstLineOfItsMessageOrItsClassName() {
        assertThat(Faults.reason(new IllegalStateException("first\nsecond"), READ)).isEqualTo("first");
        assertThat(Faults.reason(new IllegalStateException(), READ)).isEqualTo("IllegalStateException");
        assertThat(Faults.network(new IllegalStateException())).isFalse();
    }

    @Test
    void aCauseChainThatLoopsEndsInBoundedTime() {
        IOException a = new IOException("a");
        IOException b = new IOException("b", a);
        a.initCause(b);
        assertThat(Faults.reason(a, READ)).isEqualTo("a");
    }
}
