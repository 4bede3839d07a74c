package dev.dualdeploy.metrics;

/** Where RED metrics come from (Prometheus, CloudWatch). */
public interface MetricsProvider extends AutoCloseable {

    /**
     * Measures a query over a window (idempotent: reading only). Never throws for a provider fault: an unreachable
     * provider, a refused query or an empty answer is a {@link Measurement} with an error or with no value, and the
     * gate's limits decide what that means.
     */
    Measurement measure(MetricQuery query, Window window);

    /** Releases the provider's client, if it holds one. */
    @Override
    default void close() {
    }
}
