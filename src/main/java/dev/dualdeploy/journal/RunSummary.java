package dev.dualdeploy.journal;

import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * One run as {@code history} lists it.
 *
 * @param run the run id
 * @param started when it began (its first event), or empty if not one whole event was written
 * @param command the command it ran, or empty if its run-started event is missing
 * @param stages the stages it named or worked on, in order of first mention
 * @param by who or what started it, or empty
 * @param outcome how it ended, or empty if it was interrupted (or is still running)
 * @param exitCode the exit code it ended with, or empty with the outcome
 * @param events how many whole events it wrote (read)
 * @param cut whether its file is longer than {@link Journal#MAX_FILE} and was read only that far
 * @param unreadable why its file could not be read (naming the file), or empty; then the other fields are empty
 */
public record RunSummary(String run, Optional<Instant> started, Optional<String> command, List<String> stages, Optional<String> by,
                         Optional<String> outcome, Optional<Integer> exitCode, int events, boolean cut, Optional<String> unreadable) {

    public RunSummary {
        stages = List.copyOf(stages);
    }

    /** A run whose file could not be read, and why. */
    static RunSummary unreadable(String run, String why) {
        return new RunSummary(run, Optional.empty(), Optional.empty(), List.of(), Optional.empty(), Optional.empty(),
                Optional.empty(), 0, false, Optional.of(why));
    }

    /** Whether the run never said it ended (false for a file that could not be read: nobody knows). */
    public boolean interrupted() {
        return outcome.isEmpty() && unreadable.isEmpty();
    }
}
