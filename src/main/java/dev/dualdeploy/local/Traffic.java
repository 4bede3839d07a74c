package dev.dualdeploy.local;

import dev.dualdeploy.config.Side;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.function.Function;
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
 *
 * <p>A stage with a cutover also has live traffic: {@value #LIVE_REQUESTS_PER_SECOND} requests a second more, split
 * between its sides by the share its router holds at each moment ({@link #split}), on top of the base rate each side
 * serves whatever the split (its synthetic checks, so that a side at 0% can still be judged on deploy). A release can
 * be made to fail only under load ({@link #overload}): it serves errors while its side's rate is above a capacity,
 * which is how a release passes its gate at deploy and fails at 50% of live traffic. Counts of such a stage are
 * computed per stretch in which the release and the split are both constant, and rounded once at the end.
 */
public final class Traffic {

    /** The namespace of the metrics the local environment's CloudWatch answers. */
    public static final String NAMESPACE = "DualDeploy/Local";
    public static final String REQUESTS = "RequestCount";
    public static final String ERRORS = "ErrorCount";
    public static final int REQUESTS_PER_SECOND = 200;
    /** The live traffic of a stage with a cutover, split between its sides by the router. */
    public static final int LIVE_REQUESTS_PER_SECOND = 2000;
    /** The error share of a release that is not broken: 0.1%. */
    public static final double BASE_ERROR_RATE = 0.001;
    /** How many digest changes a side remembers; older ones merge into the oldest kept (a window that old is never asked). */
    static final int HISTORY = 64;

    private record Change(Instant at, String digest) {
    }

    private record SplitChange(Instant at, double kubernetes) {
    }

    /** A release that fails {@code share} of its requests while its side serves more than {@code capacity} a second. */
    private record Overload(double capacity, double share) {
    }

    private final Clock clock;
    private final Map<String, List<Change>> history = new ConcurrentHashMap<>();
    private final Map<String, Double> errorShare = new ConcurrentHashMap<>();
    private final Map<String, List<SplitChange>> splits = new ConcurrentHashMap<>();
    private final Map<String, Overload> overloads = new ConcurrentHashMap<>();

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

    /**
     * Records that {@code stage}'s router sends this share of its live traffic (0 to 100) to Kubernetes from now on
     * (nothing if it already did). The first share recorded holds since ever, as the first release does.
     */
    public void split(String stage, double kubernetesPercent) {
        List<SplitChange> changes = splits.computeIfAbsent(stage, k -> new ArrayList<>());
        synchronized (changes) {
            if (!changes.isEmpty() && changes.get(changes.size() - 1).kubernetes() == kubernetesPercent) {
                return;
            }
            changes.add(new SplitChange(changes.isEmpty() ? Instant.EPOCH : clock.instant(), kubernetesPercent));
            if (changes.size() > HISTORY) {
                changes.remove(0);
                changes.set(0, new SplitChange(Instant.EPOCH, changes.get(0).kubernetes()));
            }
        }
    }

    /** The share of {@code stage}'s live traffic on Kubernetes now, in percent; empty for a stage without a cutover. */
    public OptionalDouble share(String stage) {
        List<SplitChange> changes = splits.get(stage);
        if (changes == null) {
            return OptionalDouble.empty();
        }
        synchronized (changes) {
            return changes.isEmpty() ? OptionalDouble.empty() : OptionalDouble.of(changes.get(changes.size() - 1).kubernetes());
        }
    }

    /**
     * Makes {@code digest} fail this share of its requests (0 to 1) on {@code side} while the side serves more than
     * {@code capacity} requests a second, from now on and in windows asked later.
     */
    void overload(String digest, Side side, double capacity, double share) {
        overloads.put(side.label() + "/" + digest, new Overload(capacity, share));
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
        List<SplitChange> split = splits.get(stage);
        if (split != null) {
            List<SplitChange> shares;
            synchronized (split) {
                shares = List.copyOf(split);
            }
            return OptionalDouble.of(Math.round(live(metric, side, copy, shares, from, to)));
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

    /**
     * The counts of a side of a stage with a cutover over {@code [from, to)}: each stretch in which both its release and
     * the split are constant contributes its rate times its length, and its errors at the share its release fails at
     * that rate.
     */
    private double live(String metric, Side side, List<Change> releases, List<SplitChange> shares, Instant from, Instant to) {
        List<Instant> cuts = new ArrayList<>(List.of(from, to));
        releases.forEach(c -> cuts.add(c.at()));
        shares.forEach(c -> cuts.add(c.at()));
        List<Instant> points = cuts.stream().filter(t -> !t.isBefore(from) && !t.isAfter(to)).distinct().sorted().toList();
        double total = 0;
        for (int i = 0; i + 1 < points.size(); i++) {
            Instant start = points.get(i);
            double seconds = (points.get(i + 1).toEpochMilli() - start.toEpochMilli()) / 1000.0;
            String digest = at(releases, start, Change::at).map(Change::digest).orElse(null);
            if (digest == null || seconds <= 0) {
                continue;
            }
            double kubernetes = at(shares, start, SplitChange::at).map(SplitChange::kubernetes).orElse(0.0) / 100;
            double rate = REQUESTS_PER_SECOND + LIVE_REQUESTS_PER_SECOND * (side == Side.KUBERNETES ? kubernetes : 1 - kubernetes);
            double requests = rate * seconds;
            if (REQUESTS.equals(metric)) {
                total += requests;
            } else {
                Overload overload = overloads.get(side.label() + "/" + digest);
                double share = overload != null && rate > overload.capacity() ? overload.share() : errorShare(digest, side);
                total += requests * share;
            }
        }
        return total;
    }

    /** The change in force at {@code t}: the last one at or before it. */
    private static <T> Optional<T> at(List<T> changes, Instant t, Function<T, Instant> when) {
        T found = null;
        for (T change : changes) {
            if (!when.apply(change).isAfter(t)) {
                found = change;
            }
        }
        return Optional.ofNullable(found);
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
