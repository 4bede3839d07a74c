package dev.dualdeploy.pipeline;

import dev.dualdeploy.config.Side;
import dev.dualdeploy.config.StageSpec;
import dev.dualdeploy.targets.DeployTarget;
import dev.dualdeploy.targets.Progress;
import dev.dualdeploy.targets.TargetException;
import dev.dualdeploy.targets.TargetState;
import dev.dualdeploy.targets.Targets;
import dev.dualdeploy.text.Text;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/** Reads what runs on every configured side of the given stages, and whether the enabled sides are at parity. */
public final class Status {

    /**
     * One side of one stage.
     *
     * @param side the side
     * @param toggledOn whether the stage's toggle (with overrides) sends releases to this side
     * @param target the target's description
     * @param state what runs, as read back; when the side could not be read, {@link TargetState#unreadable(String)}
     * @param error why the side could not be read, in one line, or empty
     */
    public record SideStatus(Side side, boolean toggledOn, String target, TargetState state, Optional<String> error) {

        /** Whether the platform answered; an unreadable side says nothing about what runs there. */
        public boolean readable() {
            return state.readable();
        }

        /** The side's health as people and the JSON see it, UNREADABLE included. */
        public String health() {
            return state.health().name();
        }
    }

    /**
     * One stage.
     *
     * @param stage the stage name
     * @param sides every configured side
     * @param parity parity over the enabled sides: PARITY, DRIFT, or UNREADABLE when one of them could not be read
     */
    public record StageStatus(String stage, List<SideStatus> sides, Parity parity) {

        /** Whether every enabled side could be read. */
        public boolean readable() {
            return parity.outcome() != Parity.Outcome.UNREADABLE;
        }

        /** PARITY, DRIFT or UNREADABLE: the stage's parity status, as the JSON's {@code state} says it. */
        public String state() {
            return parity.outcome().name();
        }
    }

    private final Targets targets;

    /**
     * @param targets where the sides are read; {@link dev.dualdeploy.targets.PlatformTargets} asks a platform that did
     *                not answer only once per run, so that every later stage on it does not wait again
     */
    /** Reads only: a target that is only read reports no progress, so none is taken. */
    public Status(Targets targets) {
        this.targets = targets;
    }

    /** The first line of a message, at most 300 characters: a status table has one line per side. */
    static String oneLine(String message) {
        return Text.oneLine(message);
    }

    /** Reads the stages in order; never throws for a platform fault (it becomes the side's error). */
    public List<StageStatus> read(List<StageSpec> stages) {
        // Its own threads: the common pool has one thread on a two-core agent, which would read the sides in turn.
        ExecutorService pool = Executors.newFixedThreadPool(Side.values().length, runnable -> {
            Thread thread = new Thread(runnable, "status-read");
            thread.setDaemon(true);
            return thread;
        });
        try {
            return read(stages, pool);
        } finally {
            pool.shutdownNow();
        }
    }

    private List<StageStatus> read(List<StageSpec> stages, ExecutorService pool) {
        List<StageStatus> result = new ArrayList<>();
        for (StageSpec stage : stages) {
            List<SideStatus> sides = new ArrayList<>();
            Map<Side, TargetState> enabled = new EnumMap<>(Side.class);
            // The sides are read at the same time, so a platform that does not answer costs its timeout once per
            // stage, not once per side; the results keep the sides' order.
            List<CompletableFuture<SideStatus>> reads = new ArrayList<>();
            for (Side side : Side.values()) {
                if (stage.configured(side)) {
                    reads.add(CompletableFuture.supplyAsync(() -> read(stage, side), pool));
                }
            }
            for (CompletableFuture<SideStatus> read : reads) {
                SideStatus status = join(read);
                sides.add(status);
                if (status.toggledOn()) {
                    enabled.put(status.side(), status.state());
                }
            }
            // An enabled side that could not be read makes the stage's parity UNREADABLE (not DRIFT): Parity says so.
            result.add(new StageStatus(stage.name(), sides, Parity.of(enabled)));
        }
        return result;
    }

    private static SideStatus join(CompletableFuture<SideStatus> read) {
        try {
            return read.join();
        } catch (CompletionException e) {
            // Not a platform fault (those become the side's error): let it surface as it would have unthreaded.
            if (e.getCause() instanceof RuntimeException runtime) {
                throw runtime;
            }
            throw e;
        }
    }

    private SideStatus read(StageSpec stage, Side side) {
        String description = side.label();
        try {
            DeployTarget target = targets.open(stage, side, Progress.NONE);
            description = target.describe();
            return new SideStatus(side, stage.toggledOn(side), description, target.current(), Optional.empty());
        } catch (TargetException e) {
            return unreadable(stage, side, description, oneLine(e.getMessage()));
        }
    }

    private static SideStatus unreadable(StageSpec stage, Side side, String description, String reason) {
        return new SideStatus(side, stage.toggledOn(side), description, TargetState.unreadable(reason), Optional.of(reason));
    }
}
