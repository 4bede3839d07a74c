package dev.dualdeploy.local;

import dev.dualdeploy.config.Side;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The simulated traffic of the local environment: each stage's side serves {@value #REQUESTS_PER_SECOND} requests a
 * second, and a share of them fail, set by the release that side was running at the time ({@value #BASE_ERROR_RATE}
 * for a healthy one, the share a release broken with {@code errors} was given otherwise). Counts are computed when
 * asked, from a short history of which digest each side was told to run when, so nothing ticks while nobody asks
 * (idle is idle), and they are exact: the same window always gets the same counts.
 *
 * <p>Requests are spread evenly: by time {@code t} (in epoch milliseconds) a side has served
 * {@code floor(t × rate / 1000)} requests since the epoch, and of those a release with error share {@code p} failed
 * {@code floor(p × n)}, summed over the stretches each release ran. A side serves its new release from the moment it
 * is told to run it (not when its pods or tasks are ready): what the gate judges starts then.
 */
public final class Traffic {

    /** The namespace of the metrics the local environment's CloudWatch answers. */
    public static final String NAMESPACE = "DualDeploy/Local";
    public static final String REQUESTS = "RequestCount";
    public static final String ERRORS = "ErrorCount";
    public static final int REQUESTS_PER_SECOND = 200;
    /** The error share of a release that is not broken: 0.1%. */
    public static final double BASE_ERROR_RATE = 0.001;
    /** How many digest changes a side remembers; older ones merge into the oldest kept (a window that old is never asked). */
    static final int HISTORY = 64;

    private record Change(Instant at, String digest) {
    }

    private final Clock clock;
    private final Map<String, List<Change>> history = new ConcurrentHashMap<>();
    private final Map<String, Double> errorShare = new ConcurrentHashMap<>();

    Traffic(Clock clock) {
        this.clock = clock;
    }

    private static String key(String stage, Side side) {
        return stage + "/" + side.label();
    }

    /** Records that {@code stage}'s {@code side} runs {@code digest} from now on (nothing if it already did). */
    void runs(String stage, Side side, String digest) {
        List<Change> changes = history.computeIfAbsent(key(stage, side), k -> new ArrayList<>());
        synchronized (changes) {
            if (!changes.isEmpty() && changes.get(changes.size() - 1).digest().equals(digest)) {
                return;
            }
            // The first release a side runs has run since ever: a before-deploy window may reach back before the start.
            changes.add(new Change(changes.isEmpty() ? Instant.EPOCH : clock.instant(), digest));
            if (changes.size() > HISTORY) {
                changes.remove(0);
                changes.set(0, new Change(Instant.EPOCH, changes.get(0).digest()));
            }
        }
    }

    /**
     * The digests {@code stage}'s {@code side} was told to run, oldest first (the last {@value #HISTORY} changes): what a
     * test or a benchmark reads to see every release a side went through, not only the one it ends on.
     */
    public List<String> served(String stage, Side side) {
        List<Change> changes = history.get(key(stage, side));
        if (changes == null) {
            return List.of();
        }
        synchronized (changes) {
            return changes.stream().map(Change::digest).toList();
        }
    }

    /** Makes {@code digest} fail this share of its requests (0 to 1) on {@code side}, from now on and in windows asked later. */
    void serveErrors(String digest, Side side, double share) {
        errorShare.put(side.label() + "/" + digest, share);
    }

    /** The share of requests that fail for {@code digest} on {@code side}. */
    double errorShare(String digest, Side side) {
        return errorShare.getOrDefault(side.label() + "/" + digest, BASE_ERROR_RATE);
    }

    /**
     * The {@code RequestCount} or {@code ErrorCount} of a stage's side in {@code [from, to)}, or empty if the metric,
     * stage or side is not one the environment serves (CloudWatch then has no data for it).
     */
    public OptionalDouble count(String metric, String stage, String sideLabel, Instant from, Instant to) {
        Side side;
        try {
            side = Side.fromLabel(sideLabel == null ? "" : sideLabel);
        } catch (IllegalArgumentException e) {
            return OptionalDouble.empty();
        }
        List<Change> changes = history.get(key(stage, side));
        if (changes == null || !(REQUESTS.equals(metric) || ERRORS.equals(metric))) {
            return OptionalDouble.empty();
        }
        List<Change> copy;
        synchronized (changes) {
            copy = List.copyOf(changes);
        }
        long total = 0;
        for (int i = 0; i < copy.size(); i++) {
            Instant start = max(copy.get(i).at(), from);
            Instant end = i + 1 < copy.size() ? min(copy.get(i + 1).at(), to) : to;
            if (!end.isAfter(start)) {
                continue;
            }
            long before = served(start);
            long after = served(end);
            if (REQUESTS.equals(metric)) {
                total += after - before;
            } else {
                double share = errorShare(copy.get(i).digest(), side);
                total += (long) Math.floor(share * after) - (long) Math.floor(share * before);
            }
        }
        return OptionalDouble.of(total);
    }

    /** Requests a side has served since the epoch by {@code at}. */
    private static long served(Instant at) {
        return Math.floorDiv(at.toEpochMilli() * REQUESTS_PER_SECOND, 1000);
    }

    private static Instant max(Instant a, Instant b) {
        return a.isAfter(b) ? a : b;
    }

    private static Instant min(Instant a, Instant b) {
        return a.isBefore(b) ? a : b;
    }
}
