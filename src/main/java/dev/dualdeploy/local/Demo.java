package dev.dualdeploy.local;

import dev.dualdeploy.config.ConfigLoader;
import dev.dualdeploy.config.DualDeploySpec;
import dev.dualdeploy.config.Side;
import dev.dualdeploy.config.StageSpec;
import dev.dualdeploy.journal.EventSink;
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
import dev.dualdeploy.time.Sleeper;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;

/**
 * The scripted demo: a sample service released through sandbox → preprod → beta → prod on ECS and Kubernetes in the
 * local environment (resolved through its registry, as {@code release} does), then two broken releases that must be caught fast and rolled back on both sides. Every step
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
        try (LocalEnvironment env = LocalEnvironment.start(dir, "0.9.0", 2, 0);
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
