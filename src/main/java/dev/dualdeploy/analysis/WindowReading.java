package dev.dualdeploy.analysis;

import dev.dualdeploy.config.Side;
import dev.dualdeploy.metrics.Measurement;
import java.util.Map;
import java.util.OptionalDouble;

/**
 * What one window of a gate measured, by side and metric, as the trackers read it; or a window lost to a provider
 * error, which no tracker judges.
 */
public final class WindowReading {

    private static final WindowReading LOST = new WindowReading(null, false, 0);

    private final Map<Side, Map<String, Measurement>> values;
    private final boolean countsRequests;
    private final long minRequests;

    /**
     * @param values the measurements, by side and metric
     * @param countsRequests whether the gate measures {@code requests}, so that a thin window can be told apart
     * @param minRequests the requests a side must have served in the window to be judged
     */
    public WindowReading(Map<Side, Map<String, Measurement>> values, boolean countsRequests, long minRequests) {
        this.values = values;
        this.countsRequests = countsRequests;
        this.minRequests = minRequests;
    }

    /** A window in which some metric could not be read. */
    public static WindowReading lost() {
        return LOST;
    }

    /** Whether the window was lost to a provider error. */
    public boolean isLost() {
        return values == null;
    }

    /** The side's value of the metric in this window; empty if it was not measured or had no data. */
    public OptionalDouble value(Side side, String metric) {
        Map<String, Measurement> measured = values.get(side);
        return measured == null || !measured.containsKey(metric) ? OptionalDouble.empty() : measured.get(metric).value();
    }

    /** The side's value of a counting metric, rounded and never negative; 0 without data. */
    public long count(Side side, String metric) {
        OptionalDouble v = value(side, metric);
        return v.isEmpty() ? 0 : Math.max(0, Math.round(v.getAsDouble()));
    }

    /** Whether the side served enough requests in this window to be judged (always, without a requests query). */
    public boolean full(Side side) {
        return !countsRequests || count(side, "requests") >= minRequests;
    }
}
