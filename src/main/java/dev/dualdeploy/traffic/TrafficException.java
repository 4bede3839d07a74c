package dev.dualdeploy.traffic;

/** A router could not be read or written; the message says what and where, never a secret. */
public final class TrafficException extends RuntimeException {

    public TrafficException(String message) {
        super(message);
    }

    public TrafficException(String message, Throwable cause) {
        super(message, cause);
    }
}
