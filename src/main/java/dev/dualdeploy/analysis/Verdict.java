package dev.dualdeploy.analysis;

import java.util.List;

/**
 * A gate check's outcome, always with a reason a person can act on. "May we go on?" is never a bare boolean.
 *
 * @param check what was checked, such as {@code compare error_rate}
 * @param outcome PASS, FAIL, INCONCLUSIVE (not enough data to say) or ERROR (the data could not be had)
 * @param reason the numbers behind the outcome, such as
 *               {@code kubernetes error_rate 2.1% vs legacy 0.3% (p=0.0004) over 6 windows}
 */
public record Verdict(String check, Outcome outcome, String reason) {

    /** The four outcomes, worst first for {@link #combine}. */
    public enum Outcome { FAIL, ERROR, INCONCLUSIVE, PASS }

    public static Verdict pass(String check, String reason) {
        return new Verdict(check, Outcome.PASS, reason);
    }

    public static Verdict fail(String check, String reason) {
        return new Verdict(check, Outcome.FAIL, reason);
    }

    public static Verdict inconclusive(String check, String reason) {
        return new Verdict(check, Outcome.INCONCLUSIVE, reason);
    }

    public static Verdict error(String check, String reason) {
        return new Verdict(check, Outcome.ERROR, reason);
    }

    /**
     * The outcome of several checks together: the worst one (FAIL, then ERROR, then INCONCLUSIVE, then PASS), so a
     * gate passes only when every check passed. No checks at all is INCONCLUSIVE, never PASS.
     */
    public static Outcome combine(List<Verdict> verdicts) {
        return verdicts.stream().map(Verdict::outcome).min(Enum::compareTo).orElse(Outcome.INCONCLUSIVE);
    }
}
