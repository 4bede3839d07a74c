package dev.dualdeploy.journal;

import dev.dualdeploy.config.Durations;
import dev.dualdeploy.config.Side;
import dev.dualdeploy.release.Release;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import java.time.Duration;
import java.time.Instant;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * One thing a run did or decided, as the journal records it. The engine emits these and nothing else; the progress
 * lines, the JSON summary, the JUnit XML and the HTML report are readers of them.
 *
 * <p>Every event carries the run id, the instant it happened (taken from the engine's injected clock by whoever creates
 * it), and the stage and the side where they apply (empty where not: a run-wide event has no stage, a stage-wide one no
 * side). The fields are plain types (strings, numbers, instants, durations, {@link Side} and the small enums below), so
 * that the JSON in a journal file stays stable when engine classes change: fields are added, never renamed or removed.
 * A new kind of event (the cutover issue adds {@code TrafficSet} and {@code TrafficReadBack}) is one more record here
 * with its own {@link Type} name; {@link EventCodec} finds it through {@link Class#getPermittedSubclasses()}.
 */
public sealed interface Event {

    /** The run this event belongs to, such as {@code 20261201T052848.123Z-6f1c0e2a9b7d4c10}. */
    String run();

    /** When it happened, from the engine's clock. */
    Instant at();

    /** The stage it concerns, or empty for a run-wide event. */
    Optional<String> stage();

    /** The side it concerns, or empty for a stage-wide or run-wide event. */
    Optional<Side> side();

    /** The event in one line for a person, without the {@code [stage/side]} prefix (the reader adds it). */
    String message();

    /** The stable name of an event kind in a journal file ({@code "type": "rollout-ended"}); never changed once released. */
    @Retention(RetentionPolicy.RUNTIME)
    @Target(ElementType.TYPE)
    @interface Type {
        String value();
    }

    /** How a rollout or a rollback on one side ended (the engine's {@code RolloutResult.Outcome}, by name). */
    enum RolloutStatus { SUCCEEDED, FAILED, TIMED_OUT }

    /** The health of a workload as read back (the engine's {@code TargetState.Health}, by name). */
    enum Health { HEALTHY, PROGRESSING, DEGRADED, ABSENT, UNREADABLE }

    /** Whether the enabled sides run one digest; UNREADABLE when a side could not be read, so nobody knows. */
    enum ParityStatus { PARITY, DRIFT, UNREADABLE }

    /** A check's or a gate's outcome (the engine's {@code Verdict.Outcome}, by name). */
    enum VerdictOutcome { FAIL, ERROR, INCONCLUSIVE, PASS }

    /** What a gate decided (the engine's {@code GateResult.Decision}, by name). */
    enum Decision { PASS, FAIL, PAUSE }

    /**
     * A run began: a command that changes or judges something.
     *
     * @param command the CLI subcommand, such as {@code deploy}
     * @param stages the stages it will work on, in order
     * @param image the release image ({@code repository@sha256:…}), or empty when the command names none (rollback)
     * @param version the release version label, or empty
     * @param by who or what started it (the Jenkins {@code BUILD_TAG}, or the user), or empty if unknown
     */
    @Type("run-started")
    record RunStarted(String run, Instant at, Optional<String> stage, Optional<Side> side, String command, List<String> stages,
                      Optional<String> image, Optional<String> version, Optional<String> by) implements Event {
        public RunStarted {
            common(run, at, stage, side);
            Objects.requireNonNull(command, "command");
            stages = List.copyOf(stages);
            Objects.requireNonNull(image, "image");
            Objects.requireNonNull(version, "version");
            Objects.requireNonNull(by, "by");
        }

        @Override
        public String message() {
            return "run started: " + command + " " + (stages.isEmpty() ? "(no stage)" : String.join(", ", stages))
                    + version.map(v -> " " + v).orElse("") + image.map(i -> " (" + i + ")").orElse("") + by.map(b -> " by " + b).orElse("");
        }
    }

    /**
     * A run ended, in any way it could still say so (an interrupted run has no such event).
     *
     * @param outcome the engine's outcome by name, such as {@code SUCCEEDED}, {@code ROLLED_BACK}, {@code PAUSED}
     * @param exitCode the CLI exit code that says the same
     * @param reason one line a person can act on
     */
    @Type("run-ended")
    record RunEnded(String run, Instant at, Optional<String> stage, Optional<Side> side, String outcome, int exitCode,
                    String reason) implements Event {
        public RunEnded {
            common(run, at, stage, side);
            Objects.requireNonNull(outcome, "outcome");
            Objects.requireNonNull(reason, "reason");
        }

        @Override
        public String message() {
            return "run ended: " + outcome + " (exit " + exitCode + "): " + reason;
        }
    }

    /**
     * Work on a stage began.
     *
     * @param action what is done to it: {@code deploy}, {@code rollback}, {@code gate}
     * @param sides the enabled sides it works on; empty when no side is enabled (and nothing is done)
     * @param image the release image, or empty for a rollback
     * @param version the release version, or empty
     * @param before the image each of {@code sides} ran when the stage began, as read back, in the order of
     *               {@code sides}; an empty string for a side that ran none or could not be read. Empty in journals
     *               written before it was added, and for a gate (which changes nothing)
     */
    @Type("stage-started")
    record StageStarted(String run, Instant at, Optional<String> stage, Optional<Side> side, String action, List<Side> sides,
                        Optional<String> image, Optional<String> version, List<String> before) implements Event {
        public StageStarted {
            common(run, at, stage, side);
            Objects.requireNonNull(action, "action");
            sides = List.copyOf(sides);
            Objects.requireNonNull(image, "image");
            Objects.requireNonNull(version, "version");
            before = before == null ? List.of() : List.copyOf(before);
        }

        @Override
        public String message() {
            if (sides.isEmpty()) {
                return "no side is enabled; nothing to " + action;
            }
            if (action.equals("deploy") && image.isPresent()) {
                return "deploying " + version.orElse("?") + " (" + image.get() + ") to " + Side.labels(sides);
            }
            return action + " on " + Side.labels(sides);
        }
    }

    /**
     * Work on a stage ended: the line a person reads last for it, such as {@code ROLLED_BACK: … [PARITY]}.
     *
     * @param outcome the engine's stage outcome by name: {@code SUCCEEDED}, {@code ROLLED_BACK}, {@code FAILED},
     *                {@code ROLLBACK_FAILED}, {@code PAUSED} or {@code SKIPPED}
     * @param reason one line a person can act on
     * @param parity PARITY, DRIFT or UNREADABLE at the end, as read back, or empty when it was not read
     * @param parityReason what the parity says, naming every side's digest on DRIFT (the stage's last {@link Parity}
     *                     event's reason); empty when {@code parity} is, and in journals written before it was added
     * @param sides the sides the stage's result covers, in side order: those it rolled out or rolled back, those a
     *              rollback command was asked for, and any that failure recovery found it could not return (unread,
     *              stuck); each one's {@link RolloutEnded}, {@link RollbackEnded} and last {@link ReadBack} say how it
     *              ended. Empty for a gate, and in journals written before it was added
     */
    @Type("stage-ended")
    record StageEnded(String run, Instant at, Optional<String> stage, Optional<Side> side, String outcome, String reason,
                      Optional<ParityStatus> parity, Optional<String> parityReason, List<Side> sides) implements Event {
        public StageEnded {
            common(run, at, stage, side);
            Objects.requireNonNull(outcome, "outcome");
            Objects.requireNonNull(reason, "reason");
            Objects.requireNonNull(parity, "parity");
            parityReason = parityReason == null ? Optional.empty() : parityReason;
            sides = sides == null ? List.of() : List.copyOf(sides);
        }

        /** A stage's end that names no parity reason and no sides (a gate's). */
        public StageEnded(String run, Instant at, Optional<String> stage, Optional<Side> side, String outcome, String reason,
                          Optional<ParityStatus> parity) {
            this(run, at, stage, side, outcome, reason, parity, Optional.empty(), List.of());
        }

        @Override
        public String message() {
            return outcome + ": " + reason + parity.map(p -> " [" + p + "]").orElse("");
        }
    }

    /**
     * A side's rollout of a release began: the platform was asked to run it.
     *
     * @param target the target's description, such as {@code ecs sandbox/loan-api}
     * @param image the image it is asked to run
     * @param version its version label
     * @param from the image it ran before, or empty if none or unknown
     */
    @Type("rollout-started")
    record RolloutStarted(String run, Instant at, Optional<String> stage, Optional<Side> side, String target, String image,
                          String version, Optional<String> from) implements Event {
        public RolloutStarted {
            common(run, at, stage, side);
            Objects.requireNonNull(target, "target");
            Objects.requireNonNull(image, "image");
            Objects.requireNonNull(version, "version");
            Objects.requireNonNull(from, "from");
        }

        @Override
        public String message() {
            return "rolling out " + version + " (" + image + ") on " + target + from.map(f -> " (was " + f + ")").orElse("");
        }
    }

    /**
     * What a platform said while a rollout or a rollback was followed, such as {@code updated 2/3, ready 1/3}: the
     * target's own words, which only the target can phrase.
     */
    @Type("rollout-progress")
    record RolloutProgress(String run, Instant at, Optional<String> stage, Optional<Side> side, String detail) implements Event {
        public RolloutProgress {
            common(run, at, stage, side);
            Objects.requireNonNull(detail, "detail");
        }

        @Override
        public String message() {
            return detail;
        }
    }

    /**
     * A side's rollout ended.
     *
     * @param status SUCCEEDED, FAILED or TIMED_OUT
     * @param reason what a person needs to know; never empty
     * @param took how long the rollout was followed
     * @param supersededBy what runs on the side now, when the rollout FAILED because another writer replaced the release
     *                     underneath it (that side is left to them); empty otherwise, and in journals written before it
     *                     was added
     */
    @Type("rollout-ended")
    record RolloutEnded(String run, Instant at, Optional<String> stage, Optional<Side> side, RolloutStatus status, String reason,
                        Duration took, Optional<String> supersededBy) implements Event {
        public RolloutEnded {
            common(run, at, stage, side);
            Objects.requireNonNull(status, "status");
            Objects.requireNonNull(reason, "reason");
            Objects.requireNonNull(took, "took");
            supersededBy = supersededBy == null ? Optional.empty() : supersededBy;
        }

        /** A rollout that was not superseded. */
        public RolloutEnded(String run, Instant at, Optional<String> stage, Optional<Side> side, RolloutStatus status, String reason,
                            Duration took) {
            this(run, at, stage, side, status, reason, took, Optional.empty());
        }

        @Override
        public String message() {
            return status + ": " + reason + " (" + seconds(took) + ")";
        }
    }

    /**
     * What runs on a side, as read back from the platform.
     *
     * @param target the target's description
     * @param image the image in the spec, or empty if absent
     * @param digest the digest that runs, or empty if unknown
     * @param version the version recorded by the last deploy, or empty
     * @param lastGood the image of the stage's last good release as recorded on the platform, or empty
     * @param health how the workload is doing
     * @param detail one line for people, such as {@code 3/3 ready}, or why the side could not be read
     * @param previousGood the image of the good release recorded before {@code lastGood}, or empty (also in journals
     *                     written before it was added)
     * @param lastGoodSides the sides on which {@code lastGood} passed when it was recorded; empty when unknown (and in
     *                      journals written before it was added)
     */
    @Type("read-back")
    record ReadBack(String run, Instant at, Optional<String> stage, Optional<Side> side, String target, Optional<String> image,
                    Optional<String> digest, Optional<String> version, Optional<String> lastGood, Health health, String detail,
                    Optional<String> previousGood, List<Side> lastGoodSides) implements Event {
        public ReadBack {
            common(run, at, stage, side);
            Objects.requireNonNull(target, "target");
            Objects.requireNonNull(image, "image");
            Objects.requireNonNull(digest, "digest");
            Objects.requireNonNull(version, "version");
            Objects.requireNonNull(lastGood, "lastGood");
            Objects.requireNonNull(health, "health");
            Objects.requireNonNull(detail, "detail");
            previousGood = previousGood == null ? Optional.empty() : previousGood;
            lastGoodSides = lastGoodSides == null ? List.of() : List.copyOf(lastGoodSides);
        }

        /** A read-back that records no good release before the last good one, nor its sides. */
        public ReadBack(String run, Instant at, Optional<String> stage, Optional<Side> side, String target, Optional<String> image,
                        Optional<String> digest, Optional<String> version, Optional<String> lastGood, Health health, String detail) {
            this(run, at, stage, side, target, image, digest, version, lastGood, health, detail, Optional.empty(), List.of());
        }

        @Override
        public String message() {
            if (health == Health.UNREADABLE) {
                return "cannot be read: " + detail; // nothing is claimed about what runs there
            }
            return "runs " + version.orElse("?") + " " + digest.map(Release::shortDigest).orElse("unknown digest") + ", " + health
                    + (detail.isEmpty() ? "" : " (" + detail + ")");
        }
    }

    /**
     * Whether the enabled sides of a stage run one digest.
     *
     * @param status PARITY or DRIFT
     * @param reason what differs, naming every side's digest on DRIFT
     */
    @Type("parity")
    record Parity(String run, Instant at, Optional<String> stage, Optional<Side> side, ParityStatus status, String reason)
            implements Event {
        public Parity {
            common(run, at, stage, side);
            Objects.requireNonNull(status, "status");
            Objects.requireNonNull(reason, "reason");
        }

        @Override
        public String message() {
            return "parity: " + status + " (" + reason + ")";
        }
    }

    /**
     * The release was recorded on the platforms as the stage's last good release (what a later failure returns to).
     *
     * @param sides the sides it was recorded on
     * @param version its version label
     */
    @Type("last-good-recorded")
    record LastGoodRecorded(String run, Instant at, Optional<String> stage, Optional<Side> side, List<Side> sides, String version)
            implements Event {
        public LastGoodRecorded {
            common(run, at, stage, side);
            sides = List.copyOf(sides);
            Objects.requireNonNull(version, "version");
        }

        @Override
        public String message() {
            return "recorded " + version + " as the last good release on " + Side.labels(sides);
        }
    }

    /**
     * A rollback began, for a whole stage (no side; {@code sides} names them) or for one side ({@code to} names where
     * it goes).
     *
     * @param sides the sides being rolled back
     * @param reason why: the failure, or {@code asked for} for the rollback command
     * @param to the image a side returns to, or empty when the event is stage-wide or the target decides
     */
    @Type("rollback-started")
    record RollbackStarted(String run, Instant at, Optional<String> stage, Optional<Side> side, List<Side> sides, String reason,
                           Optional<String> to) implements Event {
        public RollbackStarted {
            common(run, at, stage, side);
            sides = List.copyOf(sides);
            Objects.requireNonNull(reason, "reason");
            Objects.requireNonNull(to, "to");
        }

        @Override
        public String message() {
            return "rolling back " + Side.labels(sides) + to.map(t -> " to " + t).orElse("") + (reason.isEmpty() ? "" : ": " + reason);
        }
    }

    /**
     * A side's rollback ended (or could not be started: FAILED with the reason).
     *
     * @param status SUCCEEDED, FAILED or TIMED_OUT
     * @param reason what a person needs to know
     * @param took how long it was followed
     * @param error why the rollback could not be started (it is then FAILED), or empty; empty in journals written
     *              before it was added
     */
    @Type("rollback-ended")
    record RollbackEnded(String run, Instant at, Optional<String> stage, Optional<Side> side, RolloutStatus status, String reason,
                         Duration took, Optional<String> error) implements Event {
        public RollbackEnded {
            common(run, at, stage, side);
            Objects.requireNonNull(status, "status");
            Objects.requireNonNull(reason, "reason");
            Objects.requireNonNull(took, "took");
            error = error == null ? Optional.empty() : error;
        }

        /** A rollback that was started. */
        public RollbackEnded(String run, Instant at, Optional<String> stage, Optional<Side> side, RolloutStatus status, String reason,
                             Duration took) {
            this(run, at, stage, side, status, reason, took, Optional.empty());
        }

        @Override
        public String message() {
            return "rollback " + status + ": " + reason + " (" + seconds(took) + ")";
        }
    }

    /**
     * A gate run began its soak.
     *
     * @param phase {@code gate}, or for a canary {@code canary} and then {@code follow}
     * @param judged the sides judged
     * @param soak how long it watches
     * @param interval the length of one window
     * @param windows the windows the soak holds
     * @param checks the names of its checks, as the verdicts will name them
     */
    @Type("gate-started")
    record GateStarted(String run, Instant at, Optional<String> stage, Optional<Side> side, String phase, List<Side> judged,
                       Duration soak, Duration interval, int windows, List<String> checks) implements Event {
        public GateStarted {
            common(run, at, stage, side);
            Objects.requireNonNull(phase, "phase");
            judged = List.copyOf(judged);
            Objects.requireNonNull(soak, "soak");
            Objects.requireNonNull(interval, "interval");
            checks = List.copyOf(checks);
        }

        @Override
        public String message() {
            return title(phase) + ": watching " + Side.labels(judged) + " for " + Durations.format(soak) + " in " + windows
                    + " windows of " + Durations.format(interval) + "; " + checks.size() + " checks";
        }
    }

    /**
     * The gate was not run, and why (such as {@code --no-gate}).
     *
     * @param reason what was skipped and what that means
     */
    @Type("gate-skipped")
    record GateSkipped(String run, Instant at, Optional<String> stage, Optional<Side> side, String reason) implements Event {
        public GateSkipped {
            common(run, at, stage, side);
            Objects.requireNonNull(reason, "reason");
        }

        @Override
        public String message() {
            return "the gate is skipped: " + reason;
        }
    }

    /**
     * One series of one gate window: one value (or why there is none). The gate emits one per metric and series per
     * window; a reader groups them by phase and window. An HTTP probe is the metric {@code http} with the URL as its
     * series and the status code (0: no answer) as its value.
     *
     * @param phase the gate phase
     * @param window the window's number, from 1
     * @param windows the windows the soak holds
     * @param end when the window ended
     * @param length the window's length
     * @param metric the metric, such as {@code error_rate}
     * @param series the series, such as {@code kubernetes} or {@code legacy before-deploy}
     * @param value the measured value, or empty when there was no data or it could not be read
     * @param error why it could not be read, or empty
     * @param note what the value means where the number alone does not say it, such as {@code answered 503, expected
     *             200 (2 in a row)} or {@code 1 in a row; error_limit 2} for a lost window; or empty
     */
    @Type("gate-window-measured")
    record GateWindowMeasured(String run, Instant at, Optional<String> stage, Optional<Side> side, String phase, int window,
                              int windows, Instant end, Duration length, String metric, String series, Optional<Double> value,
                              Optional<String> error, Optional<String> note) implements Event {
        public GateWindowMeasured {
            common(run, at, stage, side);
            Objects.requireNonNull(phase, "phase");
            Objects.requireNonNull(end, "end");
            Objects.requireNonNull(length, "length");
            Objects.requireNonNull(metric, "metric");
            Objects.requireNonNull(series, "series");
            Objects.requireNonNull(value, "value");
            Objects.requireNonNull(error, "error");
            note = note == null ? Optional.empty() : note;
        }

        @Override
        public String message() {
            return title(phase) + " window " + window + "/" + windows + ": " + series + " " + metric + " "
                    + error.map(e -> "could not be read: " + e).orElseGet(() -> value.map(v -> shown(metric, v)).orElse("no data"))
                    + note.map(n -> " (" + n + ")").orElse("");
        }
    }

    /**
     * A check's verdict at the end of a gate run (or when it stopped the gate early). The per-window values it judged
     * are the {@link GateWindowMeasured} events of its phase.
     *
     * @param phase the gate phase
     * @param name stable across runs, such as {@code compare error_rate [kubernetes vs legacy]}
     * @param check the kind of check, such as {@code compare error_rate}
     * @param outcome PASS, FAIL, INCONCLUSIVE or ERROR
     * @param reason the numbers behind it
     * @param series the series it judged (the {@code series} of its phase's window events), such as {@code kubernetes}
     *               and {@code legacy}; empty for a check that judged no series (a gate stopped for unreadable metrics)
     * @param samples the per-window values the check judged, by series, in the order of {@code series}: what the check
     *                made of the windows (a rate, a cumulative ratio, a before-deploy baseline read once), which the
     *                window events alone do not say; empty in journals written before it was added
     */
    @Type("check-verdict")
    record CheckVerdict(String run, Instant at, Optional<String> stage, Optional<Side> side, String phase, String name, String check,
                        VerdictOutcome outcome, String reason, List<String> series, Map<String, List<Double>> samples)
            implements Event {
        public CheckVerdict {
            common(run, at, stage, side);
            Objects.requireNonNull(phase, "phase");
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(check, "check");
            Objects.requireNonNull(outcome, "outcome");
            Objects.requireNonNull(reason, "reason");
            series = List.copyOf(series);
            Map<String, List<Double>> copy = new LinkedHashMap<>();
            if (samples != null) {
                samples.forEach((key, values) -> copy.put(key, List.copyOf(values)));
            }
            samples = Collections.unmodifiableMap(copy);
        }

        /** A verdict without its samples. */
        public CheckVerdict(String run, Instant at, Optional<String> stage, Optional<Side> side, String phase, String name, String check,
                            VerdictOutcome outcome, String reason, List<String> series) {
            this(run, at, stage, side, phase, name, check, outcome, reason, series, Map.of());
        }

        @Override
        public String message() {
            return title(phase) + " check " + outcome + "  " + name + ": " + reason;
        }
    }

    /**
     * A gate run's decision.
     *
     * @param phase the gate phase
     * @param judged the sides judged
     * @param outcome the worst of the checks' outcomes
     * @param decision what it means under on_inconclusive and on_error
     * @param reason one line a person can act on
     * @param windows the windows measured
     * @param plannedWindows the windows the soak holds
     * @param started when the gate began
     * @param took how long it ran
     */
    @Type("gate-decided")
    record GateDecided(String run, Instant at, Optional<String> stage, Optional<Side> side, String phase, List<Side> judged,
                       VerdictOutcome outcome, Decision decision, String reason, int windows, int plannedWindows, Instant started,
                       Duration took) implements Event {
        public GateDecided {
            common(run, at, stage, side);
            Objects.requireNonNull(phase, "phase");
            judged = List.copyOf(judged);
            Objects.requireNonNull(outcome, "outcome");
            Objects.requireNonNull(decision, "decision");
            Objects.requireNonNull(reason, "reason");
            Objects.requireNonNull(started, "started");
            Objects.requireNonNull(took, "took");
        }

        @Override
        public String message() {
            return title(phase) + " " + outcome + " → " + decision + ": " + reason;
        }
    }

    /**
     * A person's consent was asked before the stage changes (by the Jenkins step, through the CLI).
     *
     * @param submitters who may answer
     * @param timeout how long the question stays open
     * @param plan what will change, in one line
     */
    @Type("approval-asked")
    record ApprovalAsked(String run, Instant at, Optional<String> stage, Optional<Side> side, List<String> submitters, Duration timeout,
                         String plan) implements Event {
        public ApprovalAsked {
            common(run, at, stage, side);
            submitters = List.copyOf(submitters);
            Objects.requireNonNull(timeout, "timeout");
            Objects.requireNonNull(plan, "plan");
        }

        @Override
        public String message() {
            return "approval asked of " + String.join(",", submitters) + " within " + Durations.format(timeout) + ": " + plan;
        }
    }

    /**
     * The answer to an approval.
     *
     * @param approved whether the stage may go ahead
     * @param by who answered, or empty when nobody did (a timeout)
     * @param reason what the answer or the timeout said, or empty
     */
    @Type("approval-answered")
    record ApprovalAnswered(String run, Instant at, Optional<String> stage, Optional<Side> side, boolean approved, Optional<String> by,
                            Optional<String> reason) implements Event {
        public ApprovalAnswered {
            common(run, at, stage, side);
            Objects.requireNonNull(by, "by");
            Objects.requireNonNull(reason, "reason");
        }

        @Override
        public String message() {
            return (approved ? "approved" : "not approved") + by.map(b -> " by " + b).orElse("") + reason.map(r -> ": " + r).orElse("");
        }
    }

    /**
     * The run holds the stage's lease.
     *
     * @param lease the lease's name, such as {@code dualdeploy-loan-api-prod}
     * @param holder the holder written into it (the run id, plus {@code BUILD_TAG} when set)
     * @param ttl how long it lives without renewal
     */
    @Type("lock-acquired")
    record LockAcquired(String run, Instant at, Optional<String> stage, Optional<Side> side, String lease, String holder, Duration ttl)
            implements Event {
        public LockAcquired {
            common(run, at, stage, side);
            Objects.requireNonNull(lease, "lease");
            Objects.requireNonNull(holder, "holder");
            Objects.requireNonNull(ttl, "ttl");
        }

        @Override
        public String message() {
            return "lease " + lease + " acquired as " + holder + " for " + Durations.format(ttl);
        }
    }

    /**
     * The run no longer holds the stage's lease: released at the end, or lost (expired, taken).
     *
     * @param lease the lease's name
     * @param reason {@code released}, or how it was lost
     * @param holder who holds it now, or empty
     */
    @Type("lock-lost")
    record LockLost(String run, Instant at, Optional<String> stage, Optional<Side> side, String lease, String reason,
                    Optional<String> holder) implements Event {
        /** The reason of a lease given back at the end of the run. */
        public static final String RELEASED = "released";

        public LockLost {
            common(run, at, stage, side);
            Objects.requireNonNull(lease, "lease");
            Objects.requireNonNull(reason, "reason");
            Objects.requireNonNull(holder, "holder");
        }

        @Override
        public String message() {
            // A release at the end is the normal way out: said as such, so that "lost" at the end of a run means trouble.
            if (reason.equals(RELEASED)) {
                return "lease " + lease + " released";
            }
            return "lease " + lease + " lost: " + reason + holder.map(h -> " (now held by " + h + ")").orElse("");
        }
    }

    /**
     * A router was told to apply a split of the stage's traffic. Whether it did is the {@link TrafficReadBack} after it.
     *
     * @param router where, as the router describes itself (never a secret)
     * @param kubernetes the Kubernetes share set, in percent (0 is all on legacy)
     * @param why what the set is for, such as {@code step 2 of 4} or {@code revert: gate FAIL at 50%}
     */
    @Type("traffic-set")
    record TrafficSet(String run, Instant at, Optional<String> stage, Optional<Side> side, String router, double kubernetes,
                      String why) implements Event {
        public TrafficSet {
            common(run, at, stage, side);
            Objects.requireNonNull(router, "router");
            Objects.requireNonNull(why, "why");
        }

        @Override
        public String message() {
            return "traffic: setting " + percent(kubernetes) + " on kubernetes (" + why + ") at " + router;
        }
    }

    /**
     * A router's split was read: at the start of a run (where traffic is), or right after a {@link TrafficSet} to
     * verify it (then {@code expected} is what was set, and a different share is an ERROR of the run).
     *
     * @param router where, as the router describes itself
     * @param kubernetes the Kubernetes share read, in percent, or empty if the router could not be read
     * @param reported what the router holds in its own terms, such as {@code weights legacy=90 kubernetes=10}; empty
     *                 when it could not be read
     * @param expected the share just set, for a read-back that verifies a set; empty for a plain read
     * @param error why the router could not be read, or empty
     */
    @Type("traffic-read-back")
    record TrafficReadBack(String run, Instant at, Optional<String> stage, Optional<Side> side, String router,
                           Optional<Double> kubernetes, String reported, Optional<Double> expected, Optional<String> error)
            implements Event {
        public TrafficReadBack {
            common(run, at, stage, side);
            Objects.requireNonNull(router, "router");
            Objects.requireNonNull(kubernetes, "kubernetes");
            reported = reported == null ? "" : reported;
            expected = expected == null ? Optional.empty() : expected;
            error = error == null ? Optional.empty() : error;
        }

        /** Whether this read-back shows the share that was set (false for a plain read or an unreadable router). */
        public boolean matches() {
            return kubernetes.isPresent() && expected.isPresent() && Math.abs(kubernetes.get() - expected.get()) < 0.005;
        }

        @Override
        public String message() {
            if (error.isPresent()) {
                return "traffic: cannot read " + router + ": " + error.get();
            }
            String read = percent(kubernetes.orElseThrow()) + " on kubernetes" + (reported.isEmpty() ? "" : " (" + reported + ")");
            return expected.map(e -> matches() ? "traffic read back: " + read + ", as set"
                    : "traffic read back: " + read + ", NOT the " + percent(e) + " just set").orElse("traffic: " + read + " at " + router);
        }
    }

    /**
     * The run was told to stop (SIGTERM, SIGINT) and stops starting new work.
     *
     * @param reason what stopped it, such as {@code SIGTERM}
     */
    @Type("aborted")
    record Aborted(String run, Instant at, Optional<String> stage, Optional<Side> side, String reason) implements Event {
        public Aborted {
            common(run, at, stage, side);
            Objects.requireNonNull(reason, "reason");
        }

        @Override
        public String message() {
            return "aborted: " + reason;
        }
    }

    /**
     * Something the engine noticed and acts on that no other event says, for people: a record it completes or leaves
     * alone and why, a side it leaves to another writer, a canary it cannot run. What it changes is said by the typed
     * events around it.
     *
     * @param text one line a person can act on
     */
    @Type("notice")
    record Notice(String run, Instant at, Optional<String> stage, Optional<Side> side, String text) implements Event {
        public Notice {
            common(run, at, stage, side);
            Objects.requireNonNull(text, "text");
        }

        @Override
        public String message() {
            return text;
        }
    }

    /** The type name of an event class, from its {@link Type} annotation. */
    static String typeName(Class<? extends Event> type) {
        Type name = type.getAnnotation(Type.class);
        if (name == null) {
            throw new IllegalStateException(type.getSimpleName() + " has no @Event.Type name");
        }
        return name.value();
    }

    /** The type name of this event. */
    default String type() {
        return typeName(getClass());
    }

    private static void common(String run, Instant at, Optional<String> stage, Optional<Side> side) {
        RunIds.check(run);
        Objects.requireNonNull(at, "at");
        Objects.requireNonNull(stage, "stage");
        Objects.requireNonNull(side, "side");
    }

    /** How the gate names a phase in logs: {@code gate}, {@code gate canary}, {@code gate follow}. */
    private static String title(String phase) {
        return phase.equals("gate") ? "gate" : "gate " + phase;
    }

    /** A share of traffic as people read it: {@code 25%}, or {@code 33.33%} when it is not a whole percent. */
    static String percent(double share) {
        long whole = Math.round(share);
        return Math.abs(share - whole) < 0.005 ? whole + "%" : String.format(Locale.ROOT, "%.2f%%", share);
    }

    private static String seconds(Duration duration) {
        return String.format(Locale.ROOT, "%.1fs", duration.toMillis() / 1000.0);
    }

    /**
     * A measured value as people read it in a log, by the metric's name (as the gate's checks say them): a rate as a
     * percentage, a latency in ms, a count with thousands separators; the journal keeps the plain number.
     */
    private static String shown(String metric, double value) {
        if (metric.endsWith("_rate") || metric.endsWith("_ratio")) {
            double p = value * 100;
            return String.format(Locale.ROOT, p >= 10 || p == 0 ? "%.1f%%" : p >= 1 ? "%.2f%%" : "%.3f%%", p);
        }
        if (metric.endsWith("_ms")) {
            return String.format(Locale.ROOT, "%.0fms", value);
        }
        if (metric.equals("requests") || metric.equals("errors")) {
            return String.format(Locale.ROOT, "%,d", Math.round(value));
        }
        return number(value);
    }

    private static String number(double value) {
        if (value == Math.rint(value) && Math.abs(value) < 1e15) {
            return String.valueOf((long) value);
        }
        return String.format(Locale.ROOT, "%.6g", value).replaceAll("0+(e|$)", "$1").replaceAll("\\.(e|$)", "$1");
    }
}
