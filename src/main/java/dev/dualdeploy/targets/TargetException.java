package dev.dualdeploy.targets;

/** A target could not read or write the platform; the message says what and where. */
public final class TargetException extends RuntimeException {

    public TargetException(String message) {
        super(message);
    }

    public TargetException(String message, Throwable cause) {
        super(message, cause);
    }
}
