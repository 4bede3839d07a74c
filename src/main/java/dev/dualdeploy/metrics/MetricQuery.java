package dev.dualdeploy.metrics;

/**
 * One metric to measure on one side.
 *
 * @param metric the metric's name in the config and in reasons, such as {@code error_rate}
 * @param side the side it is measured on, for reasons
 * @param expression the provider's query, with templates already filled in
 */
public record MetricQuery(String metric, String side, String expression) {
}
