package dev.dualdeploy.testing;

import dev.dualdeploy.traffic.Split;
import dev.dualdeploy.traffic.TrafficException;
import dev.dualdeploy.traffic.TrafficRouter;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A router in memory, for the engine's tests: it holds a share, records every set, and can be told to fail a set, to
 * read back something else than was set, or to be unreadable. The real routers are tested against their peers.
 */
public final class FakeRouter implements TrafficRouter {

    private volatile double share;
    private final List<Double> sets = new CopyOnWriteArrayList<>();
    /** How many of the next sets fail. */
    public final AtomicInteger failSets = new AtomicInteger();
    /** How many of the next reads fail. */
    public final AtomicInteger failReads = new AtomicInteger();
    /** When not null, what every read after the first set reports instead of what was set (another writer, a router that rounds). */
    public volatile Double lie;

    public FakeRouter(double share) {
        this.share = share;
    }

    @Override
    public Split read() {
        if (failReads.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
            throw new TrafficException("connection refused by fake");
        }
        return new Split(lie != null && !sets.isEmpty() ? lie : share, "fake " + share);
    }

    @Override
    public void set(Split split) {
        if (failSets.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
            throw new TrafficException("the fake refused the change");
        }
        sets.add(split.kubernetes());
        share = split.kubernetes();
    }

    @Override
    public String describe() {
        return "fake router";
    }

    /** The share held now. */
    public double share() {
        return share;
    }

    /** Every share set, in order. */
    public List<Double> sets() {
        return List.copyOf(sets);
    }
}
