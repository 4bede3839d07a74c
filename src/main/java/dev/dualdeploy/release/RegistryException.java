package dev.dualdeploy.release;

/** A registry could not resolve a reference; {@link #notFound()} tells a missing tag from a fault. */
public final class RegistryException extends RuntimeException {

    private final boolean notFound;

    public RegistryException(String message, boolean notFound) {
        super(message);
        this.notFound = notFound;
    }

    public RegistryException(String message, Throwable cause) {
        super(message, cause);
        this.notFound = false;
    }

    /** Whether the registry answered that the repository or tag does not exist (bad input, not a fault). */
    public boolean notFound() {
        return notFound;
    }
}
