package dev.dualdeploy.pipeline;

import dev.dualdeploy.config.CutoverSpec;
import dev.dualdeploy.config.Side;
import dev.dualdeploy.config.StageSpec;
import dev.dualdeploy.config.ToggleSpec;
import dev.dualdeploy.journal.Event;
import dev.dualdeploy.journal.EventSink;
import dev.dualdeploy.journal.Judged;
import dev.dualdeploy.targets.TargetState;
import dev.dualdeploy.targets.Targets;
import dev.dualdeploy.text.Text;
import dev.dualdeploy.time.Abort;
import dev.dualdeploy.traffic.Split;
import dev.dualdeploy.traffic.TrafficException;
import dev.dualdeploy.traffic.TrafficRouter;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * Moves a stage's live traffic from legacy to Kubernetes by weight, in the steps its {@code cutover:} names, and puts
 * it back on legacy at once when a step fails.
 *
 * <p>The router is the source of truth for where traffic is: a run reads it first and goes on from there, so a run
 * that was killed resumes at the step it left traffic on, re-running that step's gate (its verdict died with it).
 * Traffic moves only while both sides run the same release at parity and are healthy, which only a dual deployment
 * can check. Each step is set, read back and compared (a different share is an ERROR), then judged by the cutover's
 * gate: Kubernetes against legacy, under the live traffic of the stage. A FAIL or an ERROR, an abort, or a lost lease
 * sets 0% on Kubernetes at once and reads it back. Every set, read-back and verdict is journaled; nothing else is said.
 */
public final class Cutover {

    /** How a cutover run ended; the CLI maps each to its exit code. */
    public enum Outcome {
        /** Traffic is at the goal and every step this run moved to passed its gate (or nothing needed to move). */
        SUCCEEDED,
        /** A step FAILED (or could not be judged) and traffic is back on legacy, read back at 0%. */
        REVERTED,
        /** Nothing moved: the sides are not at parity, or not healthy. */
        REFUSED,
        /** The sides could not be read: nobody knows whether they are at parity. Nothing moved. */
        UNREADABLE,
        /** The router could not be read or written, or did not hold what was set: a person must look. */
        ROUTER_FAILED,
        /** The run was aborted, and traffic is back on legacy, read back at 0%. */
        ABORTED
    }

    /**
     * Where a run takes the traffic.
     *
     * @param to the Kubernetes share to reach (one of the steps), or empty with {@code next}
     * @param next the next step above the share the router holds now
     * @param revert all traffic on legacy now, without a gate
     */
    public record Goal(Optional<Integer> to, boolean next, boolean revert) {

        /** To this step. */
        public static Goal to(int percent) {
            return new Goal(Optional.of(percent), false, false);
        }

        /** One step above where traffic is. */
        public static Goal nextStep() {
            return new Goal(Optional.empty(), true, false);
        }

        /** Back on legacy, now. */
        public static Goal toLegacy() {
            return new Goal(Optional.of(0), false, true);
        }
    }

    /**
     * One step a run judged.
     *
     * @param kubernetes the share the step judged, in percent
     * @param gate the gate's result at that share
     */
    public record Step(double kubernetes, GateResult gate) {
    }

    /**
     * What a cutover run did.
     *
     * @param stage the stage
     * @param outcome how it ended
     * @param reason one line a person can act on; always says where traffic is
     * @param before the split the router held when the run began, or empty if it could not be read
     * @param after the split the router held when the run ended, as last read back, or empty if unknown
     * @param steps the steps judged, in order
     * @param parity the parity of the two sides when the run began, or empty for a revert (which does not check it)
     */
    public record Result(String stage, Outcome outcome, String reason, Optional<Split> before, Optional<Split> after, List<Step> steps,
                         Optional<Parity> parity) {
        public Result {
            steps = List.copyOf(steps);
        }
    }

    private final Targets targets;
    private final TrafficRouter router;
    private final Function<StageSpec, Gate> gates;
    private final EventSink events;
    private final Clock clock;
    private final Abort abort;
    private final Supplier<Optional<String>> stop;

    /**
     * @param targets where the two sides are read for parity (nothing is deployed)
     * @param router where the split is set and read back
     * @param gates makes the gate of a stage; it is given the stage with the cutover's gate in place of the stage's own
     * @param clock the engine's clock (the revert's duration is measured on it)
     * @param abort ends the run at the next window or step; the traffic this run moved goes back on legacy
     * @param stop why the run must stop moving traffic now (the stage's lease was lost), or empty
     */
    public Cutover(Targets targets, TrafficRouter router, Function<StageSpec, Gate> gates, EventSink events, Clock clock, Abort abort,
                   Supplier<Optional<String>> stop) {
        this.targets = targets;
        this.router = router;
        this.gates = gates;
        this.events = events;
        this.clock = clock;
        this.abort = abort;
        this.stop = stop;
    }

    /**
     * Runs the stage's cutover toward the goal.
     *
     * @param judged the share a previous run of this stage left traffic at after its gate PASSED there, and the image
     *               Kubernetes ran then, if the journal knows it: that share's gate is not run again while Kubernetes still
     *               runs that image. Empty to judge the share found first (safe, slower)
     * @throws IllegalArgumentException if the stage has no cutover, or the goal is not one of its steps
     */
    public Result run(StageSpec stage, Goal goal, Optional<Judged.Verdict> judged) {
        CutoverSpec cutover = stage.cutover().orElseThrow(() -> new IllegalArgumentException("stage " + stage.name() + " has no cutover"));
        goal.to().filter(p -> !goal.revert() && !cutover.steps().contains(p)).ifPresent(p -> {
            throw new IllegalArgumentException(p + "% is not a step of stage " + stage.name() + "'s cutover " + cutover.steps());
        });
        Run run = new Run(stage, cutover);
        Result result = goal.revert() ? run.revert() : run.cutover(goal, judged);
        events.accept(new Event.StageEnded(events.run(), events.now(), Optional.of(stage.name()), Optional.empty(), result.outcome().name(),
                result.reason(), result.parity().map(p -> Event.ParityStatus.valueOf(p.outcome().name())),
                result.parity().map(Parity::reason), List.of(Side.LEGACY, Side.KUBERNETES)));
        return result;
    }

    /** One run over one stage: what it read and judged so far. */
    private final class Run {
        private final StageSpec stage;
        private final CutoverSpec cutover;
        private final String where;
        private final List<Step> steps = new ArrayList<>();
        private Optional<Split> before = Optional.empty();
        private Optional<Split> last = Optional.empty();
        private Optional<Parity> parity = Optional.empty();
        private Gate gate;

        Run(StageSpec stage, CutoverSpec cutover) {
            this.stage = stage;
            this.cutover = cutover;
            this.where = router.describe();
        }

        Result revert() {
            started("revert", Map.of());
            // No read first: it would only delay the one write that is always safe (a throttled router makes every call
            // wait), and the read-back after it says where traffic is.
            return back(Outcome.SUCCEEDED, "reverted as asked (--revert)", Optional.empty());
        }

        Result cutover(Goal goal, Optional<Judged.Verdict> judged) {
            Map<Side, TargetState> states = readSides();
            started("cutover", states);
            parity = Optional.of(Parity.of(states));
            Emit.parity(events, stage.name(), parity.get());
            Optional<Result> refused = refused(states);
            if (refused.isPresent()) {
                return refused.get();
            }
            // The gate is made before anything moves: a gate that cannot be made (a credential its metrics name is not set)
            // is bad input while traffic is still where it was, not a failure after a step went live unjudged.
            StageSpec judging = new StageSpec(stage.name(), stage.toggle(), stage.legacy(), stage.kubernetes(), stage.timeout(),
                    cutover.gate(), stage.approval(), stage.cutover());
            gate = gates.apply(judging);
            Split now;
            try {
                now = read(Optional.empty());
            } catch (TrafficException e) {
                return end(Outcome.ROUTER_FAILED, "cannot read where traffic is at " + where + ": " + e.getMessage()
                        + "; nothing was changed, and traffic is wherever the router last put it");
            }
            before = Optional.of(now);
            last = before;
            double current = now.kubernetes();
            List<Integer> plan = new ArrayList<>();
            int target;
            if (goal.next()) {
                Optional<Integer> next = cutover.steps().stream().filter(s -> s > current + 0.005).findFirst();
                if (next.isEmpty()) {
                    return end(Outcome.SUCCEEDED, now.percent() + " of traffic is on kubernetes, at or beyond the last step ("
                            + cutover.last() + "%); nothing to move");
                }
                target = next.get();
            } else {
                target = goal.to().orElseThrow();
            }
            boolean there = Math.abs(current - target) < 0.005;
            Optional<String> running = Optional.ofNullable(states.get(Side.KUBERNETES)).flatMap(TargetState::image);
            boolean known = judged.filter(j -> Math.abs(j.share() - current) < 0.005 && j.image().isPresent()
                    && j.image().equals(running) && j.router().equals(where)).isPresent();
            if (there && known) {
                return end(Outcome.SUCCEEDED, now.percent() + " of traffic is on kubernetes already, judged PASS by an earlier run;"
                        + " nothing to move");
            }
            // The share found is judged again unless an earlier run's PASS there is known: a killed run's verdict died with
            // it, and traffic that nobody judged must not be the ground the next step stands on.
            boolean judgeFirst = current > 0.005 && !known && current <= target + 0.005;
            if (current > target + 0.005) {
                plan.add(target);
            } else {
                cutover.steps().stream().filter(s -> s > current + 0.005 && s <= target).forEach(plan::add);
            }
            if (judgeFirst) {
                Optional<Result> failed = judge(now.kubernetes(), "the share found at the router, judged again before moving on");
                if (failed.isPresent()) {
                    return failed.get();
                }
            }
            for (int i = 0; i < plan.size(); i++) {
                Optional<String> halt = halt();
                if (halt.isPresent()) {
                    return back(halt.get().startsWith("aborted") ? Outcome.ABORTED : Outcome.REVERTED, halt.get(), Optional.empty());
                }
                int step = plan.get(i);
                String why = "step " + (cutover.steps().indexOf(step) + 1) + " of " + cutover.steps().size()
                        + (plan.size() > 1 ? ", " + (i + 1) + " of " + plan.size() + " in this run" : "");
                Optional<String> failed = move(Split.of(step), why);
                if (failed.isPresent()) {
                    return back(Outcome.ROUTER_FAILED, failed.get(), Optional.empty());
                }
                Optional<Result> gateFailed = judge(step, why);
                if (gateFailed.isPresent()) {
                    return gateFailed.get();
                }
            }
            String judgedSteps = steps.stream().map(s -> percent(s.kubernetes()) + " " + s.gate().decision()).reduce((a, b) -> a + ", " + b)
                    .orElse("none");
            return end(Outcome.SUCCEEDED, last.map(Split::percent).orElse(target + "%") + " of traffic is on kubernetes; steps judged: "
                    + judgedSteps);
        }

        /** Both sides as read back, journaled; a side that cannot be read is UNREADABLE, never an exception. */
        private Map<Side, TargetState> readSides() {
            Map<Side, TargetState> states = new EnumMap<>(Side.class);
            Map<Side, String> described = new EnumMap<>(Side.class);
            StageSpec both = new StageSpec(stage.name(), new ToggleSpec(true, true), stage.legacy(), stage.kubernetes(), stage.timeout(),
                    stage.gate(), stage.approval(), stage.cutover());
            for (Status.StageStatus status : new Status(targets).read(List.of(both))) {
                for (Status.SideStatus side : status.sides()) {
                    states.put(side.side(), side.state());
                    described.put(side.side(), side.target());
                }
            }
            Emit.readBack(events, stage.name(), described, states);
            return states;
        }

        private Optional<Result> refused(Map<Side, TargetState> states) {
            Parity p = parity.orElseThrow();
            if (p.outcome() == Parity.Outcome.UNREADABLE) {
                return Optional.of(end(Outcome.UNREADABLE, "traffic not moved: " + p.reason()));
            }
            if (p.outcome() == Parity.Outcome.DRIFT) {
                return Optional.of(end(Outcome.REFUSED, "traffic not moved: the sides do not run the same release (" + p.reason()
                        + "); deploy one release to both sides first"));
            }
            List<String> unhealthy = states.entrySet().stream().filter(e -> e.getValue().health() != TargetState.Health.HEALTHY)
                    .map(e -> e.getKey().label() + " is " + e.getValue().health() + " (" + Text.oneLine(e.getValue().detail()) + ")").toList();
            if (!unhealthy.isEmpty()) {
                return Optional.of(end(Outcome.REFUSED, "traffic not moved: " + String.join("; ", unhealthy)
                        + "; both sides must be healthy before traffic moves"));
            }
            return Optional.empty();
        }

        private void started(String action, Map<Side, TargetState> states) {
            Optional<String> image = Optional.ofNullable(states.get(Side.KUBERNETES)).flatMap(TargetState::image);
            Optional<String> version = Optional.ofNullable(states.get(Side.KUBERNETES)).flatMap(TargetState::version);
            Emit.stageStarted(events, stage.name(), action, List.of(Side.LEGACY, Side.KUBERNETES), image.map(Text::foreign),
                    version.map(Text::foreign), states);
        }

        /** Why no further step may start: an abort or a lost lease; empty to go on. */
        private Optional<String> halt() {
            if (abort.requested()) {
                String reason = abort.reason().orElse("abort");
                events.accept(new Event.Aborted(events.run(), events.now(), Optional.of(stage.name()), Optional.empty(), reason));
                return Optional.of("aborted (" + reason + ")");
            }
            return stop.get().map(why -> "the stage's lease was lost (" + why + ")");
        }

        /** Sets the split and reads it back; why it failed (the set, the read or a different share), or empty. */
        private Optional<String> move(Split split, String why) {
            events.accept(new Event.TrafficSet(events.run(), events.now(), Optional.of(stage.name()), Optional.empty(), where,
                    split.kubernetes(), why));
            try {
                router.set(split);
            } catch (TrafficException e) {
                return Optional.of("setting " + split.percent() + " on kubernetes failed at " + where + ": " + e.getMessage());
            } catch (RuntimeException e) {
                return Optional.of("setting " + split.percent() + " on kubernetes failed at " + where + " (" + e.getClass().getSimpleName()
                        + ": " + Text.oneLine(String.valueOf(e.getMessage())) + ")");
            }
            Split back;
            try {
                back = read(Optional.of(split.kubernetes()));
            } catch (TrafficException e) {
                return Optional.of("the router took " + split.percent() + " but cannot be read back: " + e.getMessage());
            }
            if (!back.sameShare(split)) {
                // Never assumed away: another writer, a router that rounds, or a change that did not apply all look alike here.
                return Optional.of("set " + split.percent() + " on kubernetes, but " + where + " reads back " + back);
            }
            return Optional.empty();
        }

        /** Runs the gate at the share; the failed run's result (traffic put back), or empty when it PASSED. */
        private Optional<Result> judge(double share, String why) {
            GateResult result;
            try {
                result = gate.run(new Gate.Phase("cutover " + percent(share), List.of(Side.KUBERNETES), cutover.gate().soak(),
                        Map.of(Side.KUBERNETES, clock.instant())));
            } catch (RuntimeException e) {
                // A gate that cannot run cannot judge the share that is already live: an ERROR, and traffic goes back.
                return Optional.of(back(Outcome.REVERTED, "the gate at " + percent(share) + " (" + why + ") could not run ("
                        + e.getClass().getSimpleName() + ": " + Text.oneLine(String.valueOf(e.getMessage())) + ")", Optional.of(clock.instant())));
            }
            steps.add(new Step(share, result));
            if (abort.requested()) {
                String when = result.windows() > 0 ? " during the gate at " : " at the step to ";
                return Optional.of(back(Outcome.ABORTED, halt().orElse("aborted") + when + percent(share), Optional.of(clock.instant())));
            }
            if (result.decision() != GateResult.Decision.PASS) {
                String reason = "the gate at " + percent(share) + " (" + why + ") is " + result.outcome() + ": " + result.reason();
                return Optional.of(back(Outcome.REVERTED, reason, Optional.of(clock.instant())));
            }
            Optional<String> lost = stop.get();
            if (lost.isPresent()) {
                return Optional.of(back(Outcome.REVERTED, "the stage's lease was lost (" + lost.get() + ")", Optional.empty()));
            }
            return Optional.empty();
        }

        /**
         * Sets 0% on Kubernetes and reads it back, trying twice: the one write that is always safe. The outcome is the
         * one asked for when the read-back shows 0%, and ROUTER_FAILED otherwise, with where traffic may be.
         *
         * @param since when the decision to go back was taken (a gate's verdict), to say how long going back took
         */
        private Result back(Outcome outcome, String reason, Optional<Instant> since) {
            Instant start = since.orElse(clock.instant());
            String error = "";
            for (int attempt = 1; attempt <= 2; attempt++) {
                Optional<String> failed = move(Split.allLegacy(), "revert: " + Text.cut(Text.oneLine(reason), 200));
                if (failed.isEmpty()) {
                    Duration took = Duration.between(start, clock.instant());
                    return end(outcome, reason + "; traffic is back on legacy (read back 0% on kubernetes"
                            + (outcome == Outcome.SUCCEEDED && since.isEmpty() ? "" : ", " + seconds(took) + " after the decision") + ")");
                }
                error = failed.get();
            }
            String lastKnown = last.map(s -> "; it was last read at " + s).orElse("");
            return end(Outcome.ROUTER_FAILED, reason + "; putting traffic back on legacy FAILED: " + error + lastKnown
                    + "; a person must set 0% on kubernetes at " + where);
        }

        /** Reads the split, journaled; {@code expected} is the share just set, for a read-back that verifies it. */
        private Split read(Optional<Double> expected) {
            try {
                Split split = router.read();
                last = Optional.of(split);
                events.accept(new Event.TrafficReadBack(events.run(), events.now(), Optional.of(stage.name()), Optional.empty(), where,
                        Optional.of(split.kubernetes()), Text.foreign(split.reported()), expected, Optional.empty()));
                return split;
            } catch (RuntimeException e) {
                String why = e instanceof TrafficException ? e.getMessage()
                        : e.getClass().getSimpleName() + ": " + Text.oneLine(String.valueOf(e.getMessage()));
                events.accept(new Event.TrafficReadBack(events.run(), events.now(), Optional.of(stage.name()), Optional.empty(), where,
                        Optional.empty(), "", expected, Optional.of(Text.foreign(why))));
                throw e instanceof TrafficException t ? t : new TrafficException(why, e);
            }
        }

        private Result end(Outcome outcome, String reason) {
            return new Result(stage.name(), outcome, reason, before, last, steps, parity);
        }
    }

    private static String percent(double share) {
        return new Split(share, "").percent();
    }

    private static String seconds(Duration duration) {
        return String.format(Locale.ROOT, "%.1fs", duration.toMillis() / 1000.0);
    }
}
