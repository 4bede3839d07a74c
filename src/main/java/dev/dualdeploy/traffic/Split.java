package dev.dualdeploy.traffic;

import java.util.Locale;

/**
 * The share of a stage's traffic that Kubernetes serves, and what the router said when it was read.
 *
 * @param kubernetes the Kubernetes share in percent, from 0 (all on legacy) to 100 (all on Kubernetes); a router whose
 *                   weights are not a whole percent reports the exact share, such as 33.33…
 * @param reported what the router itself holds, in its own terms, such as {@code weights legacy=90 kubernetes=10} or
 *                 {@code generation 7}; empty for a split that was not read from a router
 */
public record Split(double kubernetes, String reported) {

    /** How far two shares may differ and still be the same split: below any weight a router can express. */
    static final double SAME = 0.005;

    public Split {
        if (!(kubernetes >= 0 && kubernetes <= 100)) {
            throw new IllegalArgumentException("a split is from 0 to 100 percent on Kubernetes, not " + kubernetes);
        }
        reported = reported == null ? "" : reported;
    }

    /** The split that puts this whole percentage on Kubernetes and the rest on legacy. */
    public static Split of(int kubernetesPercent) {
        return new Split(kubernetesPercent, "");
    }

    /** All traffic on legacy: where a failed step goes. */
    public static Split allLegacy() {
        return of(0);
    }

    /** Whether the two are the same split, whatever each router reported. */
    public boolean sameShare(Split other) {
        return Math.abs(kubernetes - other.kubernetes) < SAME;
    }

    /** The share as a person reads it: {@code 25%}, or {@code 33.33%} when it is not a whole percent. */
    public String percent() {
        long whole = Math.round(kubernetes);
        return Math.abs(kubernetes - whole) < SAME ? whole + "%" : String.format(Locale.ROOT, "%.2f%%", kubernetes);
    }

    @Override
    public String toString() {
        return percent() + " on kubernetes" + (reported.isEmpty() ? "" : " (" + reported + ")");
    }
}
