package dev.dualdeploy.analysis;

/**
 * A sequential test of whether the canary's error proportion is higher than the baseline's, which may stop early:
 * it fails a clearly bad release long before the soak ends, and keeps the chance of failing a good release at or
 * below {@code alpha} however often it is looked at.
 *
 * <p>The method is the mixture sequential probability ratio test (mSPRT) with a normal mixing distribution, from
 * R. Johari, P. Koomen, L. Pekelis and D. Walsh, "Always Valid Inference: Continuous Monitoring of A/B Tests",
 * Operations Research 70(3), 2022 (arXiv:1512.04922). With θ̂ the observed excess of the canary's error proportion
 * over {@code (1 + tolerance)} times the baseline's, V its estimated variance and τ² the mixing variance, the
 * statistic is
 *
 * <pre>  Λ = sqrt(V / (V + τ²)) · exp( τ² θ̂² / (2 V (V + τ²)) )</pre>
 *
 * and the release FAILs as soon as θ̂ &gt; 0 and Λ ≥ 1/α. {@code 1/Λ} (kept at its running minimum) is an
 * always-valid p-value. The guarantee rests on the normal approximation of the proportions, so no FAIL is decided
 * before {@code minRequests} canary requests and {@code minErrors} errors in all have been seen; and a soak that ends
 * with fewer than {@code minRequests} canary requests is INCONCLUSIVE, never PASS.
 *
 * <p>Instances hold the running p-value; feed them cumulative counts in time order, one instance per gate run.
 */
public final class SequentialErrorJudge {

    private final String metric;
    private final double alpha;
    private final double tolerance;
    private final double tau;
    private final long minRequests;
    private final long minErrors;
    private double pValue = 1.0;
    private boolean rejected;
    private String last = "no data yet";
    private long canaryRequests;
    private long errors;

    /**
     * @param metric the metric's name in reasons, such as {@code error_rate}
     * @param alpha the false-rollback level under continuous monitoring, such as 0.01
     * @param tolerance the relative increase accepted, such as 0.2 for +20%
     * @param tau the mixing standard deviation: the size of error-proportion differences the test is tuned to find
     *            fastest, such as 0.005 (half a percentage point)
     * @param minRequests canary requests before any decision
     * @param minErrors errors (both sides together) before any decision
     */
    public SequentialErrorJudge(String metric, double alpha, double tolerance, double tau, long minRequests, long minErrors) {
        if (!(alpha > 0 && alpha < 0.5) || tolerance < 0 || !(tau > 0)) {
            throw new IllegalArgumentException("need 0 < alpha < 0.5, tolerance >= 0, tau > 0");
        }
        this.metric = metric;
        this.alpha = alpha;
        this.tolerance = tolerance;
        this.tau = tau;
        this.minRequests = minRequests;
        this.minErrors = minErrors;
    }

    /**
     * Takes the cumulative counts so far and says whether the release has already FAILED; otherwise
     * INCONCLUSIVE (keep watching). A FAIL stays a FAIL.
     */
    public Verdict update(String canarySide, long canaryTotal, long canaryErrors, String baselineSide, long baselineTotal,
                          long baselineErrors) {
        String check = "sequential " + metric;
        if (rejected) {
            return Verdict.fail(check, last);
        }
        canaryRequests = canaryTotal;
        errors = canaryErrors + baselineErrors;
        if (canaryTotal <= 0 || baselineTotal <= 0) {
            last = "no requests yet on " + (canaryTotal <= 0 ? canarySide : baselineSide);
            return Verdict.inconclusive(check, last);
        }
        double pc = (double) canaryErrors / canaryTotal;
        double pb = (double) baselineErrors / baselineTotal;
        double factor = 1 + tolerance;
        double theta = pc - factor * pb;
        // The variance uses the pooled proportion under "no difference" where a side has no errors yet, so one lucky
        // interval without errors cannot make V zero and the statistic infinite.
        double pooled = (double) (canaryErrors + baselineErrors) / (canaryTotal + baselineTotal);
        double vc = Math.max(pc, pooled) * (1 - Math.max(pc, pooled)) / canaryTotal;
        double vb = Math.max(pb, pooled) * (1 - Math.max(pb, pooled)) / baselineTotal;
        double v = vc + factor * factor * vb;
        last = canarySide + " " + metric + " " + Numbers.percent(pc) + " vs " + baselineSide + " " + Numbers.percent(pb)
                + " after " + Numbers.count(canaryTotal) + " " + canarySide + " requests";
        if (v <= 0) {
            return Verdict.inconclusive(check, last + "; no errors yet");
        }
        double tau2 = tau * tau;
        double logLambda = 0.5 * Math.log(v / (v + tau2)) + tau2 * theta * theta / (2 * v * (v + tau2));
        if (theta > 0) {
            pValue = Math.min(pValue, Math.min(1.0, Math.exp(-logLambda)));
        }
        boolean enough = canaryTotal >= minRequests && errors >= minErrors;
        last = last + " (always-valid " + Numbers.p(pValue) + ")";
        if (enough && theta > 0 && pValue <= alpha) {
            rejected = true;
            last = last + " is below " + alpha + ": higher than " + baselineSide + " beyond the "
                    + String.format(java.util.Locale.ROOT, "%.0f%%", tolerance * 100) + " tolerance";
            return Verdict.fail(check, last);
        }
        return Verdict.inconclusive(check, last);
    }

    /** The verdict at the end of the soak: FAIL if it failed, PASS with enough data, INCONCLUSIVE otherwise. */
    public Verdict finish() {
        String check = "sequential " + metric;
        if (rejected) {
            return Verdict.fail(check, last);
        }
        // Errors are not needed to pass (a clean service has none); enough requests are.
        if (canaryRequests < minRequests) {
            return Verdict.inconclusive(check, last + "; too little traffic to pass: " + Numbers.count(canaryRequests)
                    + " of " + Numbers.count(minRequests) + " canary requests");
        }
        return Verdict.pass(check, last);
    }

    /** The running always-valid p-value (1 until the canary has looked worse). */
    public double pValue() {
        return pValue;
    }
}
