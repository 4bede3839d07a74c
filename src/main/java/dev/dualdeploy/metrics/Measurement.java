package dev.dualdeploy.metrics;

import java.util.List;
import java.util.Optional;
import java.util.OptionalDouble;

/**
 * What a provider measured: the samples in time order (one for a single-value window), or why it could not.
 * A fault is data here, not an exception.
 *
 * @param query what was asked
 * @param samples the values, in time order; empty if the provider had no data (or failed)
 * @param error why the provider could not answer, or empty
 */
public record Measurement(MetricQuery query, List<Double> samples, Optional<String> error) {

    public Measurement {
        samples = List.copyOf(samples);
    }

    public static Measurement of(MetricQuery query, List<Double> samples) {
        return new Measurement(query, samples, Optional.empty());
    }

    public static Measurement failed(MetricQuery query, String error) {
        return new Measurement(query, List.of(), Optional.of(error));
    }

    /** The last sample, or empty if there is none. */
    public OptionalDouble value() {
        return samples.isEmpty() ? OptionalDouble.empty() : OptionalDouble.of(samples.get(samples.size() - 1));
    }

    public double[] array() {
        return samples.stream().mapToDouble(Double::doubleValue).toArray();
    }
}
