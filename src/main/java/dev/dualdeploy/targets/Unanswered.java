package dev.dualdeploy.targets;

import dev.dualdeploy.config.Side;
import dev.dualdeploy.net.Faults;
import dev.dualdeploy.net.Timeouts;
import dev.dualdeploy.release.Release;
import dev.dualdeploy.text.Text;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * The platforms that did not answer (or refused us) in this run, by endpoint, so that no later call of the same run
 * waits for them again. Without it a command pays a call's whole timeout with its retries once per call: a rollback
 * that cannot read a side then reads it back, and pays twice; a status reads every stage on the same platform. With
 * it, a command against a silent platform takes at most two calls' timeouts per endpoint ({@link Timeouts#call()}).
 * An endpoint is given up only after {@value #GIVE_UP_AFTER} network faults in a row, and any answer forgets them: one
 * timed-out read (a blip) must not leave a side unrecovered on a release that failed.
 */
public final class Unanswered {

    /** Network faults in a row after which an endpoint is not asked again in the run. */
    static final int GIVE_UP_AFTER = 2;

    private final Map<String, String> faults = new ConcurrentHashMap<>();
    private final Map<String, Integer> inARow = new ConcurrentHashMap<>();
    private final Duration read;

    /** @param read the read timeout a fault is described with, such as "no answer within 10s" */
    public Unanswered(Duration read) {
        this.read = read;
    }

    public Unanswered() {
        this(Timeouts.current().read());
    }

    /**
     * The target, whose calls fail at once with the remembered fault (saying "not asked again") once its endpoint did
     * not answer, and whose network faults are said in words with the endpoint.
     *
     * @param endpoint where the target's platform is reached, asked only when a fault is to be remembered
     */
    public DeployTarget guard(DeployTarget target, Supplier<String> endpoint) {
        return new Guarded(target, endpoint);
    }

    private final class Guarded implements DeployTarget, Preflight {
        private final DeployTarget target;
        private final Supplier<String> endpoint;

        Guarded(DeployTarget target, Supplier<String> endpoint) {
            this.target = target;
            this.endpoint = endpoint;
        }

        private <T> T call(Supplier<T> action) {
            String where = endpoint.get();
            String known = faults.get(where);
            if (known != null) {
                throw new TargetException(target.describe() + ": " + known + " (not asked again)");
            }
            try {
                T answer = action.get();
                inARow.remove(where);
                return answer;
            } catch (TargetException e) {
                if (e.getCause() == null || !Faults.network(e.getCause())) {
                    inARow.remove(where);
                    throw e; // the platform answered (with a refusal or an error): asking again may do better
                }
                // A client's own words for a hung or refused endpoint can be a bare class name; say what and where.
                String fault = Faults.describe(e.getCause(), where, read);
                if (inARow.merge(where, 1, Integer::sum) >= GIVE_UP_AFTER) {
                    faults.putIfAbsent(where, fault);
                }
                String message = Text.oneLine(e.getMessage());
                throw message.contains(fault) ? e : new TargetException(target.describe() + ": " + fault, e.getCause());
            }
        }

        @Override
        public TargetState current() {
            return call(target::current);
        }

        @Override
        public Rollout deploy(Release release) {
            return call(() -> target.deploy(release));
        }

        @Override
        public TargetState markGood(Release release, Set<Side> passedOn) {
            return call(() -> target.markGood(release, passedOn));
        }

        @Override
        public boolean creates() {
            return target.creates(); // a default method: a wrapper that did not pass it on would say false
        }

        @Override
        public Rollout rollback() {
            return call(target::rollback);
        }

        @Override
        public String describe() {
            return target.describe();
        }

        @Override
        public void preflight() {
            if (target instanceof Preflight preflight) {
                preflight.preflight(); // reads local files only: no platform to guard
            }
        }
    }
}
