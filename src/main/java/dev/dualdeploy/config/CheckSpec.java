package dev.dualdeploy.config;

import java.time.Duration;
import java.util.Optional;

/** One check of a gate, as written under {@code gate.checks}. */
public sealed interface CheckSpec permits CheckSpec.Http, CheckSpec.Slo, CheckSpec.Compare, CheckSpec.Sequential {

    /**
     * What a comparison measures against: another side (which, in a canary gate, still runs the previous release),
     * or the same side in the soak-long window that ended when the deploy started.
     *
     * @param side the side compared with, or empty for before-deploy
     */
    record Baseline(Optional<Side> side) {

        public static final Baseline BEFORE_DEPLOY = new Baseline(Optional.empty());

        /** {@code legacy}, {@code kubernetes} or {@code before-deploy}, as in the config. */
        public String label() {
            return side.map(Side::label).orElse("before-deploy");
        }
    }

    /**
     * A probe of an HTTP endpoint at the end of every window.
     *
     * @param url the URL; may use {@code {{side}}}, then each judged side is probed
     * @param expect the status code a healthy answer has
     * @param failures how many bad answers in a row FAIL the gate
     * @param timeout how long one probe may take
     */
    record Http(String url, int expect, int failures, Duration timeout) implements CheckSpec {
    }

    /**
     * A service-level objective: the metric must not exceed {@code max}, on every judged side.
     *
     * @param metric a query name under {@code metrics.queries}
     * @param max the highest acceptable value
     * @param breaches how many windows in a row above {@code max} FAIL the gate before the soak ends; at the end the
     *                 metric over the whole soak must be within {@code max}
     */
    record Slo(String metric, double max, int breaches) implements CheckSpec {
    }

    /**
     * A Mann-Whitney comparison of the per-window samples of a metric (higher is worse) with a baseline: after every
     * window once both have {@code minWindows} samples, at the stricter {@code earlyConfidence}, and at the end of the
     * soak at {@code confidence}.
     *
     * @param confidence how sure the test must be that the metric is higher at the end of the soak, such as 0.95
     * @param tolerance the relative increase accepted even when it is significant, such as 0.1
     * @param minWindows windows on each side below which the comparison is INCONCLUSIVE
     * @param earlyConfidence how sure an early look must be to FAIL before the soak ends, such as 0.999; 1 for none
     */
    record Compare(String metric, Baseline baseline, double confidence, double tolerance, int minWindows, double earlyConfidence)
            implements CheckSpec {
    }

    /**
     * A sequential test of the error proportion (the {@code errors} and {@code requests} queries) against a
     * baseline, after every window; it may FAIL long before the soak ends.
     *
     * @param alpha the false-rollback level, however often the test looks
     * @param tolerance the relative increase accepted, such as 0.2
     * @param tau the size of error-proportion differences the test finds fastest, such as 0.002
     * @param minErrors errors on both sides together before any FAIL
     */
    record Sequential(Baseline baseline, double alpha, double tolerance, double tau, long minErrors) implements CheckSpec {
    }
}
