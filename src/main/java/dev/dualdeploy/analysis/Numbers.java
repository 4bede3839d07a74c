package dev.dualdeploy.analysis;

import java.util.Locale;

/** How metric values read in reasons: rates as percentages, durations in ms, counts with separators. */
public final class Numbers {

    private Numbers() {
    }

    /** A value of the named metric: {@code error_rate} 0.021 → {@code 2.1%}, {@code latency_p95_ms} 212.4 → {@code 212ms}. */
    public static String metric(String metric, double value) {
        if (metric.endsWith("_rate") || metric.endsWith("_ratio")) {
            return percent(value);
        }
        if (metric.endsWith("_ms")) {
            return String.format(Locale.ROOT, "%.0fms", value);
        }
        return String.format(Locale.ROOT, "%.4g", value);
    }

    public static String percent(double fraction) {
        double p = fraction * 100;
        return String.format(Locale.ROOT, p >= 10 || p == 0 ? "%.1f%%" : p >= 1 ? "%.2f%%" : "%.3f%%", p);
    }

    public static String p(double p) {
        return p < 0.0001 ? String.format(Locale.ROOT, "p=%.1e", p) : String.format(Locale.ROOT, "p=%.4f", p);
    }

    public static String count(long n) {
        return String.format(Locale.ROOT, "%,d", n);
    }
}
