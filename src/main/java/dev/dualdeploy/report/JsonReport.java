package dev.dualdeploy.report;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.dualdeploy.config.ConfigProblem;
import dev.dualdeploy.config.Side;
import dev.dualdeploy.config.StageSpec;
import dev.dualdeploy.journal.Event;
import dev.dualdeploy.release.RegistryClient;
import dev.dualdeploy.release.Release;
import dev.dualdeploy.targets.TargetState;
import dev.dualdeploy.text.Text;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The CLI's machine-readable results ({@code --output json}) and their parts. The shape is a contract documented in
 * the README: fields are added, never renamed or removed; absent values are JSON null, not missing keys. It reads no
 * engine type: the results of the commands that run the engine ({@code deploy}, {@code rollback}, {@code gate}) are
 * read from the run's events, as the progress lines and the JUnit XML are.
 */
public final class JsonReport {

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private JsonReport() {
    }

    /** The result of {@code validate}, valid or not. */
    public static ObjectNode validation(String file, List<ConfigProblem> problems, int stages) {
        ObjectNode root = header("validate", problems.isEmpty() ? 0 : 2).put("file", Text.escape(file)).put("valid", problems.isEmpty());
        if (problems.isEmpty()) {
            root.put("stages", stages);
        }
        ArrayNode list = root.putArray("problems");
        // Each problem names its own file: a kubeconfig's or Docker config's problem is not in the config file.
        // A ConfigProblem's fields are escaped when it is made, so they are printed as they are.
        problems.forEach(p -> list.addObject().put("file", p.file()).put("path", p.path()).put("problem", p.problem())
                .put("example", p.example()));
        return root;
    }

    /**
     * The result of {@code stages}: the chain a branch deploys to, with the approval that guards each stage's entry and
     * the stage's cutover steps ({@code null} for a stage without a cutover).
     */
    public static ObjectNode stages(String service, String image, String branch, String changeId, String pattern,
                                    List<StageSpec> stages, String message) {
        ObjectNode root = header("stages", 0).put("service", service).put("image", image).put("branch", branch)
                .put("changeId", changeId.isEmpty() ? null : changeId).put("matched", pattern).put("message", message);
        ArrayNode list = root.putArray("stages");
        for (StageSpec stage : stages) {
            ObjectNode node = list.addObject().put("name", stage.name());
            node.set("approval", stage.approval().map(a -> {
                ObjectNode approval = JSON.createObjectNode().put("submitter", String.join(",", a.submitters()))
                        .put("timeoutMinutes", Math.max(1, a.timeout().toMinutes()));
                a.submitters().forEach(approval.putArray("submitters")::add);
                return approval;
            }).orElse(null));
            // What a Jenkins step needs to ask before each cutover step: the steps, and the router's kind (config only).
            node.set("cutover", stage.cutover().map(c -> {
                ObjectNode cutover = JSON.createObjectNode().put("router", c.router().kind());
                c.steps().forEach(cutover.putArray("steps")::add);
                return cutover;
            }).orElse(null));
        }
        return root;
    }

    /** The result of {@code release}: the reference pinned to the digest every stage deploys. */
    public static ObjectNode release(RegistryClient.Resolved resolved, int exitCode) {
        return header("release", exitCode).put("image", resolved.pinned()).put("repository", resolved.ref().repository())
                .put("tag", resolved.ref().tag().orElse(null)).put("digest", resolved.digest())
                .put("mediaType", resolved.mediaType()).put("index", resolved.index());
    }

    /**
     * An error that stopped a command before it produced a result. {@code error} is one line with control characters
     * escaped ({@link Text#line}), as the CLI prints it: a caller shows it as it is.
     */
    public static ObjectNode error(String command, int exitCode, String message) {
        return header(command, exitCode).put("error", Text.line(message == null ? "unknown error" : message));
    }

    /**
     * Bad input found in a config or a file read after it (exit code 2), for any command: {@code error} is one line
     * (the first problem, and how many more), {@code problems} every problem, as {@code validate} reports them.
     */
    public static ObjectNode invalid(String command, String file, List<ConfigProblem> problems) {
        ObjectNode root = validation(file, problems, 0).put("command", command).put("exitCode", 2);
        String first = problems.isEmpty() ? "invalid input" : problems.get(0).render();
        root.put("error", Text.line(first) + (problems.size() > 1 ? " (and " + (problems.size() - 1) + " more problems)" : ""));
        return root;
    }

    /** An empty JSON object, for a result's parts. */
    public static ObjectNode object() {
        return JSON.createObjectNode();
    }

    public static String write(ObjectNode node) {
        try {
            return JSON.writeValueAsString(node);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A result's first fields, {@code command} and {@code exitCode}, which every result has. */
    public static ObjectNode header(String command, int exitCode) {
        return JSON.createObjectNode().put("command", command).put("exitCode", exitCode);
    }

    /**
     * The result of {@code deploy} or {@code rollback}, read from the run's events: the stage whose end is the last
     * {@link Event.StageEnded} among them. Each side the end names is described by its own events in that stage: its
     * {@link Event.RolloutEnded}; its rollback, the {@link Event.RollbackEnded} of a rollback the stage started on it
     * (one a stage-wide {@link Event.RollbackStarted} names, as failure recovery, a put-back or the rollback command
     * start them; the return of a side an interrupted run left behind, before the deploy, is the deploy's preparation,
     * not its rollback); what it runs, its last {@link Event.ReadBack}; its time, that of its rollout and rollback and of
     * a rollback command's health check of a side already on the release (a {@code rollback-ended} with no start).
     *
     * @param events the run's events, in order, as the journal holds them
     * @throws IllegalArgumentException if no stage ended among them
     */
    public static ObjectNode stage(String command, List<Event> events, int exitCode) {
        Event.StageEnded end = events.stream().filter(Event.StageEnded.class::isInstance).map(Event.StageEnded.class::cast)
                .reduce((a, b) -> b).or(() -> endedByTheRun(events))
                .orElseThrow(() -> new IllegalArgumentException("no stage ended in the run's events"));
        List<Event> stage = events.stream().filter(e -> e.stage().equals(end.stage())).toList();
        ObjectNode root = header(command, exitCode);
        root.put("stage", end.stage().orElse(null)).put("outcome", end.outcome()).put("reason", end.reason());
        Optional<Event.StageStarted> start = stage.stream().filter(Event.StageStarted.class::isInstance)
                .map(Event.StageStarted.class::cast).findFirst();
        root.set("release", start.flatMap(s -> s.image().map(image -> release(release(image, s.version())))).orElse(null));
        root.set("parity", end.parity().map(p -> object().put("status", p.name()).put("reason", end.parityReason().orElse(null)))
                .orElse(null));
        ArrayNode sides = root.putArray("sides");
        end.sides().forEach(side -> sides.add(side(side, stage)));
        ArrayNode gates = root.putArray("gates");
        gateRuns(stage).forEach(gates::add);
        return root;
    }

    /**
     * A run that ended before any stage did (an abort or an error before the engine said a stage ended): its result is
     * the run's end, on the stage it named last, with nothing known of the sides. One JSON document, with the exit code
     * the process returns, whatever path ended the run.
     */
    private static Optional<Event.StageEnded> endedByTheRun(List<Event> events) {
        Optional<Event.RunEnded> ran = events.stream().filter(Event.RunEnded.class::isInstance).map(Event.RunEnded.class::cast)
                .reduce((a, b) -> b);
        Optional<String> stage = events.stream().map(Event::stage).flatMap(Optional::stream).reduce((a, b) -> b)
                .or(() -> events.stream().filter(Event.RunStarted.class::isInstance).map(Event.RunStarted.class::cast)
                        .flatMap(r -> r.stages().stream()).findFirst());
        return ran.map(r -> new Event.StageEnded(r.run(), r.at(), stage, Optional.empty(), r.outcome(), r.reason(),
                Optional.of(Event.ParityStatus.UNREADABLE), Optional.of("parity unknown: the run ended before the sides were"
                        + " read back"), List.of()));
    }

    /**
     * The result of {@code gate}, read from the run's events: its one gate run (the last {@link Event.GateDecided}).
     *
     * @throws IllegalArgumentException if no gate decided among them
     */
    public static ObjectNode gate(List<Event> events, int exitCode) {
        List<ObjectNode> runs = gateRuns(events);
        Event.GateDecided last = events.stream().filter(Event.GateDecided.class::isInstance).map(Event.GateDecided.class::cast)
                .reduce((a, b) -> b).orElseThrow(() -> new IllegalArgumentException("no gate decided in the run's events"));
        ObjectNode root = header("gate", exitCode).put("stage", last.stage().orElse(null));
        root.setAll(runs.get(runs.size() - 1));
        return root;
    }

    /**
     * The result of {@code cutover}, read from the run's events: the stage's end as {@link #stage} reads it (its
     * outcome, reason, the release and parity of both sides), where traffic was when the run began and when it ended (the
     * first and the last {@link Event.TrafficReadBack} that read a share), every set and read-back in order, and the
     * gate of each step judged.
     */
    public static ObjectNode cutover(List<Event> events, int exitCode) {
        ObjectNode root = stage("cutover", events, exitCode);
        List<Event.TrafficReadBack> reads = events.stream().filter(Event.TrafficReadBack.class::isInstance)
                .map(Event.TrafficReadBack.class::cast).toList();
        String router = events.stream().filter(e -> e instanceof Event.TrafficSet || e instanceof Event.TrafficReadBack)
                .map(e -> e instanceof Event.TrafficSet set ? set.router() : ((Event.TrafficReadBack) e).router()).findFirst().orElse(null);
        root.put("router", router);
        Optional<Double> before = reads.stream().filter(r -> r.expected().isEmpty()).findFirst().flatMap(Event.TrafficReadBack::kubernetes);
        Optional<Double> after = reads.stream().map(Event.TrafficReadBack::kubernetes).flatMap(Optional::stream).reduce((a, b) -> b);
        root.set("before", before.map(b -> (JsonNode) JSON.getNodeFactory().numberNode(b)).orElse(NullNode.getInstance()));
        root.set("after", after.map(a -> (JsonNode) JSON.getNodeFactory().numberNode(a)).orElse(NullNode.getInstance()));
        ArrayNode traffic = root.putArray("traffic");
        for (Event event : events) {
            if (event instanceof Event.TrafficSet set) {
                traffic.addObject().put("at", set.at().toString()).put("set", set.kubernetes()).put("why", set.why());
            } else if (event instanceof Event.TrafficReadBack read) {
                ObjectNode node = traffic.addObject().put("at", read.at().toString());
                node.set("read", read.kubernetes().map(k -> (JsonNode) JSON.getNodeFactory().numberNode(k)).orElse(NullNode.getInstance()));
                node.set("expected", read.expected().map(k -> (JsonNode) JSON.getNodeFactory().numberNode(k)).orElse(NullNode.getInstance()));
                node.put("reported", read.reported()).put("error", read.error().orElse(null));
            }
        }
        return root;
    }

    /** What one side of a stage did and runs, from its events in the stage. */
    private static ObjectNode side(Side side, List<Event> stage) {
        Optional<Side> which = Optional.of(side);
        String target = side.label();
        ObjectNode rollout = null;
        ObjectNode rollback = null;
        String rollbackError = null;
        ObjectNode running = null;
        Duration took = Duration.ZERO;
        Set<Side> named = EnumSet.noneOf(Side.class); // the sides of the stage-wide rollback under way
        Rollback started = Rollback.NONE; // this side's rollback under way
        for (Event event : stage) {
            if (event instanceof Event.RollbackStarted r && r.side().isEmpty()) {
                named = r.sides().isEmpty() ? EnumSet.noneOf(Side.class) : EnumSet.copyOf(r.sides());
            }
            if (!event.side().equals(which)) {
                continue;
            }
            if (event instanceof Event.RolloutStarted r) {
                target = r.target();
            } else if (event instanceof Event.RolloutEnded r) {
                // Who superseded it, when another writer replaced the release underneath it: that side is theirs now.
                rollout = rollout(r.status().name(), r.reason(), r.took()).put("supersededBy", r.supersededBy().orElse(null));
                took = took.plus(r.took());
            } else if (event instanceof Event.RollbackStarted) {
                started = named.contains(side) ? Rollback.STAGE : Rollback.PREPARATION;
            } else if (event instanceof Event.RollbackEnded r) {
                if (started != Rollback.PREPARATION) {
                    took = took.plus(r.took());
                }
                if (started == Rollback.STAGE) {
                    rollback = rollout(r.status().name(), r.reason(), r.took());
                    rollbackError = r.error().orElse(null);
                }
                started = Rollback.NONE;
            } else if (event instanceof Event.ReadBack r) {
                target = r.target();
                running = state(state(r));
            }
        }
        ObjectNode node = object().put("side", side.label()).put("target", target);
        node.set("rollout", rollout);
        node.set("rollback", rollback);
        node.put("rollbackError", rollbackError);
        node.set("running", running);
        node.put("seconds", seconds(took));
        return node;
    }

    /**
     * Which rollback of a side a {@code rollback-ended} ends: none started on the side (a rollback command's health
     * check of a side already on the release: its time counts), the stage's own (its result's rollback), or a deploy's
     * preparation (the return of a side an interrupted run left: not the deploy's result).
     */
    private enum Rollback { NONE, STAGE, PREPARATION }

    /** The gate runs among events, in the order they were decided, each with the verdicts of its checks. */
    private static List<ObjectNode> gateRuns(List<Event> events) {
        List<ObjectNode> runs = new ArrayList<>();
        List<Event.CheckVerdict> checks = new ArrayList<>();
        for (Event event : events) {
            if (event instanceof Event.CheckVerdict check) {
                checks.add(check);
            } else if (event instanceof Event.GateDecided gate) {
                List<Event.CheckVerdict> mine = checks.stream()
                        .filter(c -> c.phase().equals(gate.phase()) && c.stage().equals(gate.stage())).toList();
                checks.removeAll(mine);
                runs.add(gateRun(gate, mine));
            }
        }
        return runs;
    }

    private static ObjectNode gateRun(Event.GateDecided gate, List<Event.CheckVerdict> verdicts) {
        ObjectNode node = object().put("phase", gate.phase());
        gate.judged().forEach(s -> node.withArray("judged").add(s.label()));
        node.put("outcome", gate.outcome().name()).put("decision", gate.decision().name()).put("reason", gate.reason())
                .put("windows", gate.windows()).put("plannedWindows", gate.plannedWindows())
                .put("started", gate.started().toString()).put("seconds", seconds(gate.took()));
        ArrayNode checks = node.putArray("checks");
        for (Event.CheckVerdict check : verdicts) {
            ObjectNode c = checks.addObject().put("name", check.name()).put("check", check.check())
                    .put("outcome", check.outcome().name()).put("reason", check.reason());
            ObjectNode samples = c.putObject("samples");
            check.samples().forEach((series, values) -> values.forEach(samples.withArrayProperty(series)::add));
        }
        return node;
    }

    /** The release a stage deployed, from its image ({@code repository@sha256:…}) and version. */
    private static Release release(String image, Optional<String> version) {
        int at = image.lastIndexOf('@');
        return new Release(image.substring(0, at), image.substring(at + 1), version.orElse(null));
    }

    /** What a side runs, as a read-back event says it. */
    private static TargetState state(Event.ReadBack read) {
        return new TargetState(read.image(), read.digest(), read.version(), read.lastGood(), read.previousGood(),
                TargetState.Health.valueOf(read.health().name()), read.detail(), Set.copyOf(read.lastGoodSides()));
    }

    private static ObjectNode rollout(String status, String reason, Duration took) {
        return JSON.createObjectNode().put("status", status).put("reason", reason).put("seconds", seconds(took));
    }

    /** A release: image, repository, digest, version. */
    public static ObjectNode release(Release release) {
        return JSON.createObjectNode().put("image", release.image()).put("repository", release.repository())
                .put("digest", release.digest()).put("version", release.version());
    }

    /** What a side runs and records, as read back. */
    public static ObjectNode state(TargetState state) {
        ObjectNode node = JSON.createObjectNode();
        node.put("image", state.image().orElse(null)).put("digest", state.digest().orElse(null))
                .put("version", state.version().orElse(null)).put("lastGoodImage", state.lastGoodImage().orElse(null))
                // Kept for readers of earlier versions: the image `rollback` would return to.
                .put("previousImage", state.rollbackImage().orElse(null))
                .put("previousGoodImage", state.previousGoodImage().orElse(null))
                .put("health", state.health().name()).put("readable", state.readable()).put("detail", state.detail());
        ArrayNode sides = node.putArray("lastGoodSides");
        state.lastGoodSides().forEach(side -> sides.add(side.label()));
        return node;
    }

    /** A duration in seconds, to a tenth. */
    public static double seconds(Duration duration) {
        return Math.round(duration.toMillis() / 100.0) / 10.0;
    }
}
