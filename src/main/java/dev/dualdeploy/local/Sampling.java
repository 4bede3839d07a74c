package dev.dualdeploy.local;

import java.util.SplittableRandom;

/**
 * The random draws the simulations share (the gate benchmark's traces, the tests' simulated traffic), so seeded runs
 * stay comparable. It lives with the local environment's traffic model rather than in {@code bench}, so that test
 * helpers need not import a benchmark, and not in {@code analysis}, because no judge draws random numbers.
 */
public final class Sampling {

    private Sampling() {
    }

    /** A standard normal draw (Box-Muller). */
    public static double gaussian(SplittableRandom random) {
        return Math.sqrt(-2 * Math.log(1 - random.nextDouble())) * Math.cos(2 * Math.PI * random.nextDouble());
    }

    /** A Poisson draw: Knuth's method for small means, the normal approximation above 500. */
    public static long poisson(SplittableRandom random, double mean) {
        if (mean > 500) {
            return Math.max(0, Math.round(mean + Math.sqrt(mean) * gaussian(random)));
        }
        double limit = Math.exp(-mean);
        double product = 1;
        long k = -1;
        do {
            k++;
            product *= random.nextDouble();
        } while (product > limit);
        return k;
    }
}
