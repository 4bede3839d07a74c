package dev.dualdeploy.local;

import dev.dualdeploy.config.ConfigLoader;
import dev.dualdeploy.config.DualDeploySpec;
import dev.dualdeploy.config.GateSpec;
import dev.dualdeploy.config.RouterSpec;
import dev.dualdeploy.config.Side;
import dev.dualdeploy.config.StageSpec;
import dev.dualdeploy.journal.EventSink;
import dev.dualdeploy.pipeline.Cutover;
import dev.dualdeploy.pipeline.Deploy;
import dev.dualdeploy.pipeline.Gate;
import dev.dualdeploy.pipeline.GateResult;
import dev.dualdeploy.pipeline.Rollouts;
import dev.dualdeploy.pipeline.Parity;
import dev.dualdeploy.pipeline.SideResult;
import dev.dualdeploy.pipeline.StageOutcome;
import dev.dualdeploy.pipeline.StageResult;
import dev.dualdeploy.pipeline.Status;
import dev.dualdeploy.release.ImageRef;
import dev.dualdeploy.release.RegistryClient;
import dev.dualdeploy.release.RegistryCredentials;
import dev.dualdeploy.release.Release;
import dev.dualdeploy.targets.PlatformTargets;
import dev.dualdeploy.targets.TargetState;
import dev.dualdeploy.metrics.Providers;
import dev.dualdeploy.time.Abort;
import dev.dualdeploy.time.Sleeper;
import dev.dualdeploy.traffic.Routers;
import dev.dualdeploy.traffic.TrafficRouter;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/**
 * The scripted demo: a sample service released through sandbox → preprod → beta → prod on ECS and Kubernetes in the
 * local environment (resolved through its registry, as {@code release} does), then two broken releases that must be caught fast and
 * rolled back on both sides, a canary gate that passes, prod's live traffic cut over to Kubernetes step by step, and a
 * release that is healthy at deploy but fails under half of the traffic, caught by that step's gate. Every step
 * states what it expects and checks it against what the platforms read back; the demo passes only if all hold.
 */
public final class Demo {

    /** One expectation and whether it held. */
    public record Claim(String what, boolean held, String detail) {
    }

    private final PrintWriter out;
    private final EventSink events;
    private final List<Claim> checks = new ArrayList<>();

    public Demo(PrintWriter out, EventSink events) {
        this.out = out;
        this.events = events;
    }

    /** Runs the demo in {@code dir}; returns every check made, in order. */
    public List<Claim> run(Path dir) {
        long started = System.nanoTime();
        out.println("dual-deploy demo: " + LocalEnvironment.SERVICE + " on ECS and Kubernetes, stages " + LocalEnvironment.STAGES);
        try (LocalEnvironment env = LocalEnvironment.start(dir, "0.9.0", 2, 0, Optional.of(TIMING));
             PlatformTargets targets = new PlatformTargets(Clock.systemUTC(), Sleeper.SYSTEM)) {
            Release good = env.release("1.0.0");
            Release crashes = env.release("1.1.0");
            Release unpullable = env.release("1.1.1");
            DualDeploySpec config = new ConfigLoader().load(env.config());
            out.println("local environment: Kubernetes " + env.kubernetes().url() + ", ECS " + env.ecs().endpoint()
                    + ", registry " + env.registry().host() + "; config " + env.config());
            Status status = new Status(targets);
            waitHealthy(status, config.stages());

            out.println();
            out.println("1. release " + good.version() + " (" + good.image() + ") through every stage");
            String tagged = env.registry().repository() + ":" + good.version();
            RegistryClient.Resolved resolved = new RegistryClient(RegistryCredentials.none()).resolve(ImageRef.parse(tagged));
            check(tagged + " resolves through the local registry to " + Release.shortDigest(good.digest()),
                    resolved.pinned().equals(good.image()), resolved.pinned());
            for (StageSpec stage : config.stages()) {
                StageResult report = new Rollouts(targets, events).run(stage, good, stage.toggle(), true);
                check(stage.name() + ": " + good.version() + " runs on both sides", report.outcome() == StageOutcome.SUCCEEDED
                        && report.parity().outcome() == Parity.Outcome.PARITY && runs(report, good), report.reason());
            }
            checkAllRun(status, config.stages(), good, "every stage");

            out.println();
            out.println("2. release " + crashes.version() + ", which crashes on Kubernetes, to sandbox");
            env.breakRelease(crashes.version(), LocalEnvironment.Breakage.CRASH, EnumSet.of(Side.KUBERNETES));
            broken(targets, config, "sandbox", crashes, good, Side.KUBERNETES, "CrashLoopBackOff");

            out.println();
            out.println("3. release " + unpullable.version() + ", whose image ECS cannot pull, to preprod");
            env.breakRelease(unpullable.version(), LocalEnvironment.Breakage.PULL, EnumSet.of(Side.LEGACY));
            broken(targets, config, "preprod", unpullable, good, Side.LEGACY, "CannotPullContainerError");

            checkAllRun(status, config.stages(), good, "after both failures every stage");

            Release next = env.release("1.2.0");
            out.println();
            out.println("4. release " + next.version() + " to sandbox, kubernetes first as a canary judged before legacy follows");
            canary(targets, config.stage("sandbox").orElseThrow(), next);

            out.println();
            out.println("5. cut prod's live traffic over to kubernetes: 10% → 25% → 50% → 100%, each step judged against legacy");
            StageSpec prod = config.stage("prod").orElseThrow();
            Cutover.Result up = cutover(targets, prod, Cutover.Goal.to(100));
            check("prod: every step set, read back from the ALB and judged PASS, 100% on kubernetes", up.outcome() == Cutover.Outcome.SUCCEEDED
                    && up.steps().stream().map(Cutover.Step::kubernetes).toList().equals(List.of(10.0, 25.0, 50.0, 100.0))
                    && up.after().filter(a -> a.kubernetes() == 100).isPresent(), up.reason());
            check("prod: the ALB holds weights legacy=0 kubernetes=100", weights(env, prod).equals(List.of(0, 100)), weights(env, prod).toString());

            out.println();
            out.println("6. put prod back on legacy, then release " + next.version() + ", which is healthy at deploy but fails above "
                    + (long) LocalEnvironment.DEFAULT_CAPACITY + " requests a second on kubernetes, and cut over again");
            Cutover.Result back = cutover(targets, prod, Cutover.Goal.toLegacy());
            check("prod: --revert reads back 0% on kubernetes", back.outcome() == Cutover.Outcome.SUCCEEDED
                    && back.after().filter(a -> a.kubernetes() == 0).isPresent(), back.reason());
            env.overloadRelease(next.version(), EnumSet.of(Side.KUBERNETES), LocalEnvironment.DEFAULT_CAPACITY,
                    LocalEnvironment.DEFAULT_ERROR_PERCENT);
            StageResult deployed = new Deploy(targets, events, gates(), Clock.systemUTC()).run(prod, next, prod.toggle(), true, true);
            check("prod: " + next.version() + " passes its gate at deploy and runs on both sides", deployed.outcome() == StageOutcome.SUCCEEDED
                    && runs(deployed, next), deployed.reason());
            Cutover.Result caught = cutover(targets, prod, Cutover.Goal.to(100));
            check("prod: the gate at 50% catches it and traffic is read back at 0% on kubernetes", caught.outcome() == Cutover.Outcome.REVERTED
                    && caught.steps().size() == 3 && caught.after().filter(a -> a.kubernetes() == 0).isPresent(), caught.reason());
            String took = caught.reason().replaceAll(".*read back 0% on kubernetes, ([0-9.]+s) after the decision.*", "$1");
            check("prod: back on legacy " + took + " after the verdict at 50%; the ALB holds legacy=100 kubernetes=0",
                    weights(env, prod).equals(List.of(100, 0)) && took.matches("[0-9.]+s"), weights(env, prod).toString());
        } catch (RuntimeException e) {
            check("the demo ran to the end", false, e.toString());
        }
        Duration took = Duration.ofNanos(System.nanoTime() - started);
        out.println();
        long failed = checks.stream().filter(c -> !c.held()).count();
        out.println(failed == 0 ? "demo passed: " + checks.size() + " checks held in " + Rollouts.seconds(took)
                : "demo FAILED: " + failed + " of " + checks.size() + " checks did not hold");
        return List.copyOf(checks);
    }

    /** The demo's gates and cutover steps soak two windows of a second: judged, and quick. */
    private static final LocalEnvironment.GateTiming TIMING = new LocalEnvironment.GateTiming(Duration.ofSeconds(2), Duration.ofSeconds(1));

    /** Makes the gate of a stage, on the local CloudWatch. */
    private Function<StageSpec, Gate> gates() {
        return stage -> new Gate(LocalEnvironment.SERVICE, stage.name(), stage.gate(),
                stage.gate().metrics().map(m -> Providers.open(m, System::getenv)).orElse(null), Clock.systemUTC(), Sleeper.SYSTEM, events);
    }

    private void canary(PlatformTargets targets, StageSpec stage, Release release) {
        GateSpec g = stage.gate();
        GateSpec canary = new GateSpec(Optional.of(Side.KUBERNETES), g.soak(), g.interval(), g.soak(), g.checks(), g.metrics(),
                g.minRequests(), g.errorLimit(), g.onError(), g.onInconclusive());
        StageSpec judged = new StageSpec(stage.name(), stage.toggle(), stage.legacy(), stage.kubernetes(), stage.timeout(), canary,
                stage.approval(), stage.cutover());
        StageResult report = new Deploy(targets, events, gates(), Clock.systemUTC()).run(judged, release, judged.toggle(), true, true);
        check("sandbox: the canary gate on kubernetes PASSES, legacy follows, both run " + release.version(),
                report.outcome() == StageOutcome.SUCCEEDED && runs(report, release) && report.gates().stream()
                        .anyMatch(g2 -> g2.phase().equals("canary") && g2.decision() == GateResult.Decision.PASS), report.reason());
    }

    private Cutover.Result cutover(PlatformTargets targets, StageSpec stage, Cutover.Goal goal) {
        try (TrafficRouter router = Routers.open(stage.cutover().orElseThrow().router(), System::getenv)) {
            return new Cutover(targets, router, gates(), events, Clock.systemUTC(), Abort.none(), Optional::empty).run(stage, goal,
                    Optional.empty());
        }
    }

    /** The weights the stage's ALB holds, legacy then kubernetes, as the ELBv2 simulator stores them. */
    private static List<Integer> weights(LocalEnvironment env, StageSpec stage) {
        RouterSpec.Alb alb = (RouterSpec.Alb) stage.cutover().orElseThrow().router();
        Map<String, Integer> weights = env.elb().forwardWeights(alb.listenerArn());
        return List.of(weights.getOrDefault(alb.legacyTargetGroup(), 0), weights.getOrDefault(alb.kubernetesTargetGroup(), 0));
    }

    private void broken(PlatformTargets targets, DualDeploySpec config, String stageName, Release bad, Release good,
                        Side breaks, String expectedReason) {
        StageSpec stage = config.stage(stageName).orElseThrow();
        StageResult report = new Rollouts(targets, events).run(stage, bad, stage.toggle(), true);
        SideResult failing = report.sides().stream().filter(s -> s.side() == breaks).findFirst().orElseThrow();
        Duration caught = failing.rollout().map(r -> r.took()).orElse(Duration.ZERO);
        check(stageName + ": " + bad.version() + " is caught on " + breaks.label() + " (" + expectedReason + ")",
                report.outcome() == StageOutcome.ROLLED_BACK && report.reason().contains(expectedReason), report.reason());
        check(stageName + ": caught within 10s of the rollout starting (took " + Rollouts.seconds(caught) + ")",
                caught.compareTo(Duration.ofSeconds(10)) < 0, "");
        check(stageName + ": both sides are back on " + good.version() + " at parity",
                runs(report, good) && report.parity().outcome() == Parity.Outcome.PARITY, report.parity().reason());
    }

    private void checkAllRun(Status status, List<StageSpec> stages, Release release, String what) {
        List<Status.StageStatus> all = status.read(stages);
        boolean held = all.stream().allMatch(s -> s.parity().outcome() == Parity.Outcome.PARITY
                && s.sides().stream().allMatch(side -> side.state().digest().filter(release.digest()::equals).isPresent()));
        check(what + " runs " + release.version() + " on both sides (status)", held, all.stream()
                .map(s -> s.stage() + " " + s.parity().outcome()).toList().toString());
    }

    private static boolean runs(StageResult report, Release release) {
        return !report.sides().isEmpty() && report.sides().stream()
                .allMatch(s -> s.after().digest().filter(release.digest()::equals).isPresent());
    }

    private void waitHealthy(Status status, List<StageSpec> stages) {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (System.nanoTime() < deadline) {
            boolean healthy = status.read(stages).stream().flatMap(s -> s.sides().stream())
                    .allMatch(s -> s.state().health() == TargetState.Health.HEALTHY);
            if (healthy) {
                return;
            }
            Sleeper.SYSTEM.sleep(Duration.ofMillis(100));
        }
        throw new IllegalStateException("the local environment did not become healthy within 30s");
    }

    private void check(String what, boolean held, String detail) {
        checks.add(new Claim(what, held, detail));
        out.println((held ? "  ok    " : "  FAIL  ") + what + (held || detail.isEmpty() ? "" : ": " + detail));
        out.flush();
    }
}
