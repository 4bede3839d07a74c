package dev.dualdeploy.analysis;

import java.util.OptionalDouble;

/** An SLO limit on one metric of one side: the value must not exceed {@code max}. */
public record ThresholdJudge(String metric, double max) {

    /**
     * Judges a measured value; an absent value (no data in the window) is INCONCLUSIVE, never PASS.
     *
     * @param side the side measured, for the reason
     */
    public Verdict judge(String side, OptionalDouble value) {
        String check = "slo " + metric;
        if (value.isEmpty() || Double.isNaN(value.getAsDouble())) {
            return Verdict.inconclusive(check, side + " " + metric + " has no data in the window");
        }
        double v = value.getAsDouble();
        String said = side + " " + metric + " " + Numbers.metric(metric, v);
        return v > max
                ? Verdict.fail(check, said + " is above the limit of " + Numbers.metric(metric, max))
                : Verdict.pass(check, said + " is within the limit of " + Numbers.metric(metric, max));
    }
}
