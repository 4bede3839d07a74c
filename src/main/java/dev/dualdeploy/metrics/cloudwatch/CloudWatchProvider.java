package dev.dualdeploy.metrics.cloudwatch;

import dev.dualdeploy.metrics.Measurement;
import dev.dualdeploy.metrics.MetricQuery;
import dev.dualdeploy.metrics.MetricsProvider;
import dev.dualdeploy.metrics.Window;
import dev.dualdeploy.net.AwsClients;
import dev.dualdeploy.net.Timeouts;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.TreeMap;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.cloudwatch.CloudWatchClient;
import software.amazon.awssdk.services.cloudwatch.CloudWatchClientBuilder;
import software.amazon.awssdk.services.cloudwatch.model.Dimension;
import software.amazon.awssdk.services.cloudwatch.model.MetricDataQuery;
import software.amazon.awssdk.services.cloudwatch.model.MetricDataResult;
import software.amazon.awssdk.services.cloudwatch.model.ScanBy;

/**
 * CloudWatch through {@code GetMetricData} (AWS SDK v2, which speaks the AWS Query protocol to CloudWatch). A query
 * is written as metric definitions and, last, what to return, separated by {@code ;}:
 *
 * <pre>
 *   errors = AWS/ApplicationELB HTTPCode_Target_5XX_Count Sum TargetGroup=targetgroup/k8s/1 LoadBalancer=app/web/2;
 *   total = AWS/ApplicationELB RequestCount Sum TargetGroup=targetgroup/k8s/1 LoadBalancer=app/web/2;
 *   errors / total
 * </pre>
 *
 * A definition is {@code id = Namespace MetricName Stat [Dimension=Value …]} (Stat: Sum, Average, Minimum, Maximum,
 * SampleCount or a percentile such as p95); the last part is a metric-math expression over the ids, or a single
 * definition without an id ({@code AWS/ApplicationELB TargetResponseTime p95 TargetGroup=…}). The period is the
 * window's step. A fault is a {@link Measurement} with an error.
 */
public final class CloudWatchProvider implements MetricsProvider {

    private final CloudWatchClient client;

    public CloudWatchProvider(CloudWatchClient client) {
        this.client = client;
    }

    /**
     * A client for the region with the default credential chain and the URL-connection HTTP client, set explicitly,
     * with the connect timeout of {@link Timeouts#current()}, bounded retries and errors of one line
     * ({@link AwsClients}).
     *
     * @param timeout how long one query may wait for its answer (the gate's {@code metrics.timeout})
     */
    public static CloudWatchClient connect(String region, Optional<URI> endpoint, Duration timeout) {
        Timeouts defaults = Timeouts.current();
        Timeouts timeouts = new Timeouts(defaults.connect().compareTo(timeout) < 0 ? defaults.connect() : timeout, timeout,
                defaults.retries());
        CloudWatchClientBuilder builder = CloudWatchClient.builder().region(Region.of(region))
                .credentialsProvider(AwsClients.credentials())
                .overrideConfiguration(AwsClients.override(timeouts, endpoint.map(Object::toString).orElse("CloudWatch in " + region)))
                .httpClientBuilder(AwsClients.http(timeouts));
        endpoint.ifPresent(builder::endpointOverride);
        return builder.build();
    }

    @Override
    public Measurement measure(MetricQuery query, Window window) {
        List<MetricDataQuery> queries;
        int period = (int) Math.max(1, window.step().toSeconds());
        try {
            queries = parse(query.expression(), period);
        } catch (IllegalArgumentException e) {
            return Measurement.failed(query, "the CloudWatch query for " + query.metric() + " is not valid: " + e.getMessage());
        }
        String returned = queries.get(queries.size() - 1).id();
        TreeMap<Instant, Double> points = new TreeMap<>();
        try {
            client.getMetricDataPaginator(r -> r.metricDataQueries(queries).startTime(window.start()).endTime(window.end())
                    .scanBy(ScanBy.TIMESTAMP_ASCENDING)).forEach(page -> {
                        for (MetricDataResult result : page.metricDataResults()) {
                            if (result.id().equals(returned)) {
                                for (int i = 0; i < result.timestamps().size(); i++) {
                                    points.put(result.timestamps().get(i), result.values().get(i));
                                }
                            }
                        }
                    });
        } catch (SdkException e) {
            return Measurement.failed(query, "CloudWatch GetMetricData for " + query.metric() + " failed: " + e.getMessage());
        }
        List<Double> samples = new ArrayList<>(points.values());
        samples.removeIf(v -> v.isNaN() || v.isInfinite());
        return Measurement.of(query, samples);
    }

    /** The GetMetricData queries of a query string; only the last one returns data. */
    static List<MetricDataQuery> parse(String text, int period) {
        String[] parts = text.split(";");
        List<MetricDataQuery> queries = new ArrayList<>();
        for (int i = 0; i < parts.length; i++) {
            String part = parts[i].strip();
            if (part.isEmpty()) {
                throw new IllegalArgumentException("an empty part between ';'");
            }
            boolean last = i == parts.length - 1;
            int eq = part.indexOf('=');
            String[] words = part.split("\\s+");
            boolean definition = eq > 0 && part.substring(0, eq).strip().matches("[a-z][a-zA-Z0-9_]*")
                    && part.substring(eq + 1).strip().split("\\s+").length >= 3;
            if (definition) {
                String id = part.substring(0, eq).strip();
                queries.add(metricStat(id, part.substring(eq + 1).strip().split("\\s+"), period, last));
            } else if (last && words.length >= 3 && words[0].contains("/") && !part.contains("(")) {
                queries.add(metricStat("result", words, period, true));
            } else if (last) {
                queries.add(MetricDataQuery.builder().id("result").expression(part).period(period).returnData(true).build());
            } else {
                throw new IllegalArgumentException("'" + part + "' is neither 'id = Namespace MetricName Stat [Dim=Value …]' nor the last part");
            }
        }
        return queries;
    }

    private static MetricDataQuery metricStat(String id, String[] words, int period, boolean returned) {
        if (words.length < 3) {
            throw new IllegalArgumentException("a metric needs Namespace MetricName Stat");
        }
        List<Dimension> dimensions = new ArrayList<>();
        for (int i = 3; i < words.length; i++) {
            int eq = words[i].indexOf('=');
            if (eq <= 0) {
                throw new IllegalArgumentException("'" + words[i] + "' is not Dimension=Value");
            }
            dimensions.add(Dimension.builder().name(words[i].substring(0, eq)).value(words[i].substring(eq + 1)).build());
        }
        return MetricDataQuery.builder().id(id).returnData(returned).metricStat(s -> s.period(period).stat(words[2])
                .metric(m -> m.namespace(words[0]).metricName(words[1]).dimensions(dimensions))).build();
    }

    /** Closes the CloudWatch client. */
    @Override
    public void close() {
        client.close();
    }
}
