package dev.dualdeploy.cli;

import dev.dualdeploy.config.Durations;
import dev.dualdeploy.config.StageSpec;
import dev.dualdeploy.journal.Event;
import dev.dualdeploy.journal.EventSink;
import dev.dualdeploy.journal.LeaseKeeper;
import dev.dualdeploy.journal.StageLease;
import dev.dualdeploy.targets.PlatformTargets;
import dev.dualdeploy.targets.TargetException;
import dev.dualdeploy.text.Text;
import dev.dualdeploy.time.Abort;
import dev.dualdeploy.time.Sleeper;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Option;
import picocli.CommandLine.TypeConversionException;

/**
 * {@code --wait-lock}, and taking the stage's lease for a command that changes the stage ({@code deploy},
 * {@code rollback}). Read-only commands take none.
 */
final class LeaseOptions {

    /** The longest --wait-lock: a Jenkins build waiting longer for another should be queued by Jenkins instead. */
    static final Duration MAX_WAIT = Duration.ofHours(1);
    /** The longest part of {@code BUILD_TAG} written into a lease's holder. */
    static final int MAX_BUILD_TAG = 120;

    @Option(names = "--wait-lock", paramLabel = "DURATION", defaultValue = "0s", converter = WaitLock.class,
            description = "How long to wait for the stage's lease while another run holds it, such as 10m (0s to 1h;"
                    + " default: ${DEFAULT-VALUE}, fail at once with exit code 5).")
    Duration waitLock;

    /** Reads --wait-lock when the command line is parsed, so that a bad value is bad input before anything is read. */
    static final class WaitLock implements ITypeConverter<Duration> {
        @Override
        public Duration convert(String value) {
            Optional<Duration> wait = Durations.parseAllowingZero(value);
            if (wait.isEmpty() || wait.get().compareTo(MAX_WAIT) > 0) {
                throw new TypeConversionException("'" + Text.line(value, 80) + "' is not a duration from 0s to "
                        + Durations.format(MAX_WAIT) + " (for example --wait-lock 10m)");
            }
            return wait.get();
        }
    }

    /**
     * The holder written into the lease: the run id, and the Jenkins {@code BUILD_TAG} when set (control characters
     * escaped, then cut to {@value #MAX_BUILD_TAG} characters, never inside a surrogate pair), so that the run a second
     * one names can be found in a Jenkins log or a terminal. Always a valid holder identity for the lease: one line of
     * printable characters: the run id, a space and at most {@value #MAX_BUILD_TAG} more.
     */
    static String holder(String runId, Map<String, String> env) {
        String tag = Optional.ofNullable(env.get("BUILD_TAG")).map(Text::escape).map(t -> Text.cut(t, MAX_BUILD_TAG))
                .map(String::strip).orElse("");
        return tag.isEmpty() ? runId : runId + " " + tag;
    }

    /**
     * Takes the stage's lease, waiting up to --wait-lock, and keeps it until the result is closed. A stage without a
     * Kubernetes side has no lease (said on stderr). A Kubernetes side this run does not change (toggled off, or not a
     * side to roll back) whose cluster cannot be reached: the run goes on without a lease, and says so.
     *
     * @param kubernetesChanged whether this run writes to the stage's Kubernetes side
     * @param events where the lease's events and notices go (the journal), and the run id
     * @param abort ends the wait for the lease at once: the keeper returned then holds nothing
     *              ({@link LeaseKeeper#stoppedWaiting()}), and the caller ends the run aborted
     * @throws dev.dualdeploy.journal.LeaseHeldException if another run holds the lease after --wait-lock (exit 5)
     * @throws TargetException if the Kubernetes side this run changes cannot be reached (exit 4)
     */
    LeaseKeeper hold(PlatformTargets platforms, String service, StageSpec stage, boolean kubernetesChanged, EventSink events,
                     Abort abort) {
        Duration wait = waitLock;
        String runId = events.run();
        Consumer<String> say = line -> events.accept(new Event.Notice(runId, events.now(), Optional.of(stage.name()),
                Optional.empty(), line));
        if (stage.kubernetes().isEmpty()) {
            say.accept("no stage lease: the stage has no Kubernetes side (see \"The stage lease\" in the README)");
            return LeaseKeeper.none(runId, stage.name());
        }
        LeaseKeeper keeper = null;
        try {
            Optional<StageLease> lease = platforms.lease(stage, service, holder(runId, System.getenv()));
            keeper = new LeaseKeeper(lease.orElseThrow(), runId, stage.name(), events.clock(), Sleeper.SYSTEM, events, say);
            keeper.acquire(wait, abort);
            return keeper;
        } catch (TargetException unreachable) {
            if (kubernetesChanged) {
                throw new TargetException("cannot take the lease of stage " + stage.name()
                        + (wait.isZero() ? "" : " (tried for " + Durations.format(wait) + " of --wait-lock)") + ": " + unreachable.getMessage(),
                        unreachable);
            }
            say.accept("going on without the stage lease: the Kubernetes side, which this run does not change, cannot be"
                    + " reached (" + Text.oneLine(unreachable.getMessage()) + "); another run may change the stage meanwhile");
            return LeaseKeeper.none(runId, stage.name());
        }
    }
}
