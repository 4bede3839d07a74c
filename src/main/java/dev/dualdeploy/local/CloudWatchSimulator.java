package dev.dualdeploy.local;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.DoubleBinaryOperator;
import java.util.zip.GZIPInputStream;

/**
 * A CloudWatch API on loopback that speaks the protocol AWS SDK v2 2.40.2 uses for CloudWatch: AWS Query
 * ({@code POST /}, form-encoded {@code Action=…&Version=2010-08-01}, gzip-compressed when the SDK compresses a large
 * {@code PutMetricData}, XML answers and {@code ErrorResponse} errors),
 * so the real SDK client drives it. It stores what {@code PutMetricData} sends and answers {@code GetMetricData}
 * with per-period statistics (Sum, Average, Minimum, Maximum, SampleCount, pNN) over metrics matched by namespace,
 * name and exact dimensions, and with metric math of the form {@code a op b} ({@code + - * /}, ids or numbers).
 *
 * <p>Not modelled: request signatures (any credentials work); other actions; Metrics Insights and SEARCH
 * expressions; math beyond one binary operator; {@code MaxDatapoints} and paging (every result fits one page);
 * units; storage resolution and retention (every datapoint is kept at full resolution); labels beyond the id.
 * A {@link Computed} source's metric is one value per period, whatever the statistic asked.
 */
public final class CloudWatchSimulator implements AutoCloseable {

    private record Datapoint(String namespace, String name, Map<String, String> dimensions, Instant timestamp, double value) {
    }

    private final HttpServer server;
    private final List<Datapoint> datapoints = new CopyOnWriteArrayList<>();
    private final AtomicInteger throttle = new AtomicInteger();
    private final AtomicInteger requests = new AtomicInteger();
    private volatile Computed computed;

    /**
     * Metrics computed when asked rather than stored: the local environment's request and error counts, which it knows
     * from what runs where, so nothing has to publish datapoints on a timer.
     */
    @FunctionalInterface
    public interface Computed {
        /** The sum of the metric over {@code [from, to)}, or empty if this source does not have that metric. */
        OptionalDouble sum(String namespace, String name, Map<String, String> dimensions, Instant from, Instant to);
    }

    private CloudWatchSimulator() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", this::handle);
        server.setExecutor(Executors.newFixedThreadPool(2, r -> {
            Thread t = new Thread(r, "cloudwatch-sim");
            t.setDaemon(true);
            return t;
        }));
        server.start();
    }

    /** Starts the simulator on a free loopback port. */
    public static CloudWatchSimulator start() {
        try {
            return new CloudWatchSimulator();
        } catch (IOException e) {
            throw new IllegalStateException("cannot start the CloudWatch simulator: " + e.getMessage(), e);
        }
    }

    public URI endpoint() {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort());
    }

    /**
     * Answers {@code GetMetricData} for the metrics {@code source} has from it: one datapoint per period, its sum,
     * ahead of anything {@code PutMetricData} stored for the same metric.
     */
    public void compute(Computed source) {
        this.computed = source;
    }

    /** Answers the next {@code count} requests with a Throttling error. */
    public void throttle(int count) {
        throttle.set(count);
    }

    /** How many requests arrived, throttled ones included. */
    public int requests() {
        return requests.get();
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            requests.incrementAndGet();
            if (throttle.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
                respond(exchange, 400, error("Throttling", "Rate exceeded"));
                return;
            }
            try {
                // The SDK gzips large PutMetricData bodies (CloudWatch's request compression), as CloudWatch accepts.
                byte[] raw = exchange.getRequestBody().readAllBytes();
                if ("gzip".equalsIgnoreCase(exchange.getRequestHeaders().getFirst("Content-Encoding"))) {
                    try (GZIPInputStream in = new GZIPInputStream(new ByteArrayInputStream(raw))) {
                        raw = in.readAllBytes();
                    }
                }
                Map<String, String> form = decode(new String(raw, StandardCharsets.UTF_8));
                String action = form.getOrDefault("Action", "");
                String body = switch (action) {
                    case "PutMetricData" -> put(form);
                    case "GetMetricData" -> get(form);
                    default -> throw new QueryError("InvalidAction", "The action " + action + " is not simulated");
                };
                respond(exchange, 200, body);
            } catch (QueryError e) {
                respond(exchange, 400, error(e.code, e.getMessage()));
            } catch (RuntimeException e) {
                respond(exchange, 500, error("InternalServiceError", String.valueOf(e)));
            }
        }
    }

    private String put(Map<String, String> form) {
        String namespace = required(form, "Namespace");
        for (int i = 1; form.containsKey("MetricData.member." + i + ".MetricName"); i++) {
            String p = "MetricData.member." + i + ".";
            Instant timestamp = form.containsKey(p + "Timestamp") ? Instant.parse(form.get(p + "Timestamp")) : Instant.now();
            Map<String, String> dimensions = dimensions(form, p + "Dimensions.member.");
            List<Double> values = new ArrayList<>();
            if (form.containsKey(p + "Value")) {
                values.add(Double.parseDouble(form.get(p + "Value")));
            }
            for (int k = 1; form.containsKey(p + "Values.member." + k); k++) {
                int count = (int) Double.parseDouble(form.getOrDefault(p + "Counts.member." + k, "1"));
                for (int c = 0; c < count; c++) {
                    values.add(Double.parseDouble(form.get(p + "Values.member." + k)));
                }
            }
            for (double value : values) {
                datapoints.add(new Datapoint(namespace, form.get(p + "MetricName"), dimensions, timestamp, value));
            }
        }
        return "<PutMetricDataResponse xmlns=\"http://monitoring.amazonaws.com/doc/2010-08-01/\"><ResponseMetadata><RequestId>"
                + java.util.UUID.randomUUID() + "</RequestId></ResponseMetadata></PutMetricDataResponse>";
    }

    private String get(Map<String, String> form) {
        Instant start = Instant.parse(required(form, "StartTime"));
        Instant end = Instant.parse(required(form, "EndTime"));
        Map<String, TreeMap<Instant, Double>> results = new LinkedHashMap<>();
        Map<String, Boolean> returned = new LinkedHashMap<>();
        for (int i = 1; form.containsKey("MetricDataQueries.member." + i + ".Id"); i++) {
            String p = "MetricDataQueries.member." + i + ".";
            String id = form.get(p + "Id");
            returned.put(id, !"false".equals(form.get(p + "ReturnData")));
            if (form.containsKey(p + "Expression")) {
                results.put(id, math(form.get(p + "Expression"), results, p));
            } else {
                String m = p + "MetricStat.";
                int period = Integer.parseInt(required(form, m + "Period"));
                results.put(id, stat(form.get(m + "Metric.Namespace"), form.get(m + "Metric.MetricName"),
                        dimensions(form, m + "Metric.Dimensions.member."), required(form, m + "Stat"), start, end, period));
            }
        }
        StringBuilder xml = new StringBuilder("<GetMetricDataResponse xmlns=\"http://monitoring.amazonaws.com/doc/2010-08-01/\">"
                + "<GetMetricDataResult><MetricDataResults>");
        results.forEach((id, series) -> {
            if (!returned.get(id)) {
                return;
            }
            xml.append("<member><Id>").append(id).append("</Id><Label>").append(id).append("</Label><Timestamps>");
            series.keySet().forEach(t -> xml.append("<member>").append(t).append("</member>"));
            xml.append("</Timestamps><Values>");
            series.values().forEach(v -> xml.append("<member>").append(v).append("</member>"));
            xml.append("</Values><StatusCode>Complete</StatusCode></member>");
        });
        return xml.append("</MetricDataResults><Messages/></GetMetricDataResult><ResponseMetadata><RequestId>")
                .append(java.util.UUID.randomUUID()).append("</RequestId></ResponseMetadata></GetMetricDataResponse>").toString();
    }

    private TreeMap<Instant, Double> stat(String namespace, String name, Map<String, String> dimensions, String stat,
                                          Instant start, Instant end, int period) {
        TreeMap<Instant, Double> series = new TreeMap<>();
        for (Instant bucket = start; bucket.isBefore(end); bucket = bucket.plusSeconds(period)) {
            Instant from = bucket;
            Instant to = bucket.plusSeconds(period);
            Computed source = computed;
            OptionalDouble value = source == null ? OptionalDouble.empty() : source.sum(namespace, name, dimensions, from,
                    to.isAfter(end) ? end : to);
            if (value.isPresent()) {
                series.put(bucket, aggregate(stat, new double[] {value.getAsDouble()}));
                continue;
            }
            double[] values = datapoints.stream().filter(d -> d.namespace().equals(namespace) && d.name().equals(name)
                            && d.dimensions().equals(dimensions) && !d.timestamp().isBefore(from) && d.timestamp().isBefore(to))
                    .mapToDouble(Datapoint::value).sorted().toArray();
            if (values.length > 0) {
                series.put(bucket, aggregate(stat, values));
            }
        }
        return series;
    }

    private static double aggregate(String stat, double[] sorted) {
        return switch (stat) {
            case "Sum" -> Arrays.stream(sorted).sum();
            case "Average" -> Arrays.stream(sorted).average().orElse(Double.NaN);
            case "Minimum" -> sorted[0];
            case "Maximum" -> sorted[sorted.length - 1];
            case "SampleCount" -> sorted.length;
            default -> {
                if (!stat.matches("p\\d{1,2}(\\.\\d+)?")) {
                    throw new QueryError("InvalidParameterValue", "The statistic " + stat + " is not valid");
                }
                double rank = Double.parseDouble(stat.substring(1)) / 100 * sorted.length;
                yield sorted[Math.max(0, Math.min(sorted.length - 1, (int) Math.ceil(rank) - 1))];
            }
        };
    }

    private static TreeMap<Instant, Double> math(String expression, Map<String, TreeMap<Instant, Double>> results, String at) {
        String[] tokens = expression.strip().split("\\s+");
        Map<String, DoubleBinaryOperator> operators = Map.of("+", Double::sum, "-", (a, b) -> a - b, "*", (a, b) -> a * b, "/", (a, b) -> a / b);
        if (tokens.length != 3 || !operators.containsKey(tokens[1])) {
            throw new QueryError("ValidationError", at + "Expression: the simulator evaluates only 'a op b', not '" + expression + "'");
        }
        TreeMap<Instant, Double> left = operand(tokens[0], results, at);
        TreeMap<Instant, Double> right = operand(tokens[2], results, at);
        TreeMap<Instant, Double> series = new TreeMap<>();
        TreeMap<Instant, Double> times = left != null ? left : right;
        for (Instant t : times == null ? List.<Instant>of() : times.keySet()) {
            Double a = left == null ? Double.valueOf(tokens[0]) : left.get(t);
            Double b = right == null ? Double.valueOf(tokens[2]) : right.get(t);
            if (a != null && b != null) {
                series.put(t, operators.get(tokens[1]).applyAsDouble(a, b));
            }
        }
        return series;
    }

    /** A referenced series, or null for a number. */
    private static TreeMap<Instant, Double> operand(String token, Map<String, TreeMap<Instant, Double>> results, String at) {
        if (token.matches("-?\\d+(\\.\\d+)?")) {
            return null;
        }
        TreeMap<Instant, Double> series = results.get(token);
        if (series == null) {
            throw new QueryError("ValidationError", at + "Expression: unknown id '" + token + "'");
        }
        return series;
    }

    private static Map<String, String> dimensions(Map<String, String> form, String prefix) {
        Map<String, String> dimensions = new HashMap<>();
        for (int k = 1; form.containsKey(prefix + k + ".Name"); k++) {
            dimensions.put(form.get(prefix + k + ".Name"), form.get(prefix + k + ".Value"));
        }
        return dimensions;
    }

    private static Map<String, String> decode(String body) {
        Map<String, String> form = new LinkedHashMap<>();
        for (String pair : body.split("&")) {
            int eq = pair.indexOf('=');
            if (eq > 0) {
                form.put(URLDecoder.decode(pair.substring(0, eq), StandardCharsets.UTF_8),
                        URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8));
            }
        }
        return form;
    }

    private static String required(Map<String, String> form, String key) {
        String value = form.get(key);
        if (value == null) {
            throw new QueryError("MissingParameter", "The parameter " + key + " is required.");
        }
        return value;
    }

    private static String error(String code, String message) {
        String escaped = message.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
        return "<ErrorResponse xmlns=\"http://monitoring.amazonaws.com/doc/2010-08-01/\"><Error><Type>Sender</Type><Code>" + code
                + "</Code><Message>" + escaped + "</Message></Error><RequestId>" + java.util.UUID.randomUUID() + "</RequestId></ErrorResponse>";
    }

    private static void respond(HttpExchange exchange, int status, String xml) throws IOException {
        byte[] bytes = xml.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", "text/xml");
        exchange.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(bytes);
        }
    }

    @Override
    public void close() {
        server.stop(0);
        ((java.util.concurrent.ExecutorService) server.getExecutor()).shutdownNow();
    }

    /** A CloudWatch error answer: its code and message. */
    private static final class QueryError extends RuntimeException {
        private final String code;

        QueryError(String code, String message) {
            super(message);
            this.code = code;
        }
    }
}
