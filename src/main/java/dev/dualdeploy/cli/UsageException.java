package dev.dualdeploy.cli;

/** Bad input found by a command after parsing (an unknown stage, a flag that contradicts the config); exit code 2. */
final class UsageException extends RuntimeException {

    UsageException(String message) {
        super(message);
    }
}
