package dev.dualdeploy.metrics;

/** Where RED metrics come from (Prometheus, CloudWatch). */
public interface MetricsProvider {

    /**
     * Measures a query over a window (idempotent: reading only). Never throws for a provider fault: an unreachable
     * provider, a refused query or an empty answer is a {@link Measurement} with an error or with no value, and the
     * gate's limits decide what that means.
     */
    Measurement measure(MetricQuery query, Window window);
}
