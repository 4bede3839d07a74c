package dev.dualdeploy.bench;

import dev.dualdeploy.config.ConfigLoader;
import dev.dualdeploy.config.DualDeploySpec;
import dev.dualdeploy.config.Side;
import dev.dualdeploy.config.StageSpec;
import dev.dualdeploy.local.LocalEnvironment;
import dev.dualdeploy.release.ImageRef;
import dev.dualdeploy.release.Release;
import dev.dualdeploy.targets.DeployTarget;
import dev.dualdeploy.targets.PlatformTargets;
import dev.dualdeploy.targets.TargetState;
import dev.dualdeploy.targets.kubernetes.KubernetesLease;
import dev.dualdeploy.time.Sleeper;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.client.dsl.Resource;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.regex.Pattern;

/**
 * {@code kill -9} at chosen points of a real 2-stage deploy, then the same deploy again (or a different release), and
 * what the platforms say afterwards. Each kill point gets a local environment of its own (simulated ECS and Kubernetes
 * with these two stages alone, a gate on each reading the local CloudWatch) in which {@value #START} passed on both
 * sides of {@code sandbox} and {@code preprod}. The killed run is what the Jenkins step runs: one CLI process per stage, in a
 * child JVM, {@code sandbox} then {@code preprod} if it succeeded. The harness reads the processes' progress lines on
 * stderr and sends SIGKILL right after the line that marks the point (no sleeps: the point is a line, however loaded the
 * machine). Then the same command runs again, in this JVM through the CLI's own entry point (the CLI hands it in, as
 * {@link Cli}; the bench does not import it), and the platforms are read:
 * <ul>
 *   <li>every side of both stages runs the expected release: the re-run's release if it passes, else {@value #START};</li>
 *   <li>no side runs a release that failed ({@link Kind#GATE_FAILS}, {@link Kind#CRASHES});</li>
 *   <li>when the re-run deploys a different release, every side the killed run left on a release that never passed
 *       there was returned to the release the killed run started from before anything else ran on it (read from what
 *       its platform was told to run, in order).</li>
 * </ul>
 */
public final class ChaosBench {

    /** Runs the CLI in this JVM, as its entry point does: arguments in, exit code out. */
    @FunctionalInterface
    public interface Cli {
        int run(String[] args, PrintWriter out, PrintWriter err);
    }

    /** The two stages of the deploy, in order. */
    public static final List<String> STAGES = List.of("sandbox", "preprod");
    /** The release both stages run, recorded good, before each kill point. */
    public static final String START = "1.0.0";
    /** The local gate: two windows of one second, so a point takes seconds, and a gate can still be killed mid-soak. */
    static final LocalEnvironment.GateTiming GATE = new LocalEnvironment.GateTiming(Duration.ofSeconds(2), Duration.ofSeconds(1));
    private static final String MAIN = "dev.dualdeploy.cli.Main";

    /** The releases a kill point deploys. */
    public enum Kind {
        /** Passes everywhere. */
        GOOD("1.2.0", true),
        /** Passes everywhere: the different release deployed after a kill. */
        OTHER("1.1.1", true),
        /** Runs, but half its Kubernetes requests fail: its gate fails in sandbox and both sides are rolled back. */
        GATE_FAILS("1.1.0", false),
        /** Crashes on Kubernetes (CrashLoopBackOff): its rollout fails in sandbox and both sides are rolled back. */
        CRASHES("0.9.0", false);

        private final String version;
        private final boolean passes;

        Kind(String version, boolean passes) {
            this.version = version;
            this.passes = passes;
        }

        public String version() {
            return version;
        }

        public boolean passes() {
            return passes;
        }
    }

    /**
     * Where a run is killed: right after the {@code nth} line on stderr (counted over both stages' processes) that
     * contains a match of {@code line}.
     *
     * @param killed the release of the run that is killed
     * @param rerun the release deployed after the kill (the same, or a different one)
     */
    public record KillPoint(Kind killed, Kind rerun, Pattern line, int nth) {

        /** The {@code nth} line of any kind. */
        public static KillPoint nthLine(Kind killed, Kind rerun, int nth) {
            return new KillPoint(killed, rerun, Pattern.compile("^"), nth);
        }

        public static KillPoint at(Kind killed, Kind rerun, String regex, int nth) {
            return new KillPoint(killed, rerun, Pattern.compile(regex), nth);
        }

        @Override
        public String toString() {
            return killed.version + " killed after " + (line.pattern().equals("^") ? "line " + nth : "'" + line.pattern() + "' #" + nth)
                    + ", then " + (rerun == killed ? "the same" : rerun.version);
        }
    }

    /**
     * What one kill point did.
     *
     * @param killedAfter the line after which SIGKILL was sent; empty when the run ended before the point (no kill)
     * @param killedLog every line the killed run printed
     * @param exits the re-run's exit code per stage it ran
     * @param rerunLog what the re-run printed on stderr
     * @param rerun how long the re-run took
     * @param after what each stage's side runs afterwards ({@code sandbox/legacy} → version, as read back)
     * @param problems every way the re-run failed to converge; empty when it did
     * @param onFailed how many sides run a release that failed afterwards
     */
    public record Result(KillPoint point, Optional<String> killedAfter, List<String> killedLog, List<Integer> exits, String rerunLog,
                         Duration rerun, Map<String, String> after, List<String> problems, int onFailed) {

        public boolean killed() {
            return killedAfter.isPresent();
        }

        public boolean converged() {
            return killed() && problems.isEmpty();
        }
    }

    private final Path dir;
    private final Cli cli;
    private volatile Optional<Path> archive = Optional.empty();

    /**
     * @param dir where each point's environment and files go (a directory per point)
     * @param cli the CLI's entry point, for the re-runs
     */
    public ChaosBench(Path dir, Cli cli) {
        this.dir = dir;
        this.cli = cli;
    }

    /**
     * Runs the points, {@code threads} at a time (each in an environment of its own), and hands each result to
     * {@code each} as it comes; returns the results in the points' order.
     */
    public List<Result> runAll(List<KillPoint> points, int threads, Consumer<Result> each) {
        prepareArchive();
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<Result>> futures = new ArrayList<>();
            for (int i = 0; i < points.size(); i++) {
                int index = i;
                futures.add(pool.submit(() -> {
                    Result result = run("point-" + index, points.get(index));
                    synchronized (each) {
                        each.accept(result);
                    }
                    return result;
                }));
            }
            List<Result> results = new ArrayList<>();
            for (Future<Result> future : futures) {
                results.add(future.get());
            }
            return results;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        } catch (ExecutionException e) {
            throw e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e.getCause());
        } finally {
            pool.shutdownNow();
        }
    }

    /**
     * Makes a class-data archive of the CLI once (a short {@code status} in an environment of its own), which every
     * killed run's JVM then maps instead of loading and verifying the same classes again: a killed run starts in about
     * half the time. Without it (the JVM cannot write one), the runs start without it.
     */
    private void prepareArchive() {
        Path archive = dir.resolve("cli.jsa");
        if (Files.isRegularFile(archive)) {
            this.archive = Optional.of(archive);
            return;
        }
        try (LocalEnvironment env = LocalEnvironment.start(dir.resolve("archive"), START, 1, 0, Optional.of(GATE), STAGES)) {
            List<String> command = java(List.of("-XX:ArchiveClassesAtExit=" + archive));
            command.addAll(List.of("status", "-f", env.config().toString()));
            Process process = process(dir.resolve("archive"), command).redirectError(ProcessBuilder.Redirect.DISCARD).start();
            if (!process.waitFor(5, TimeUnit.MINUTES)) {
                process.destroyForcibly();
            }
        } catch (IOException e) {
            // No archive: the killed runs start without one.
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        this.archive = Files.isRegularFile(archive) ? Optional.of(archive) : Optional.empty();
    }

    /** Runs one kill point in an environment of its own, named {@code name} under the bench's directory. */
    public Result run(String name, KillPoint point) {
        Path home = dir.resolve(name);
        try (LocalEnvironment env = LocalEnvironment.start(home, START, 2, 0, Optional.of(GATE), STAGES);
             PlatformTargets targets = new PlatformTargets(Clock.systemUTC(), Sleeper.SYSTEM)) {
            env.breakRelease(Kind.GATE_FAILS.version, LocalEnvironment.Breakage.ERRORS, EnumSet.of(Side.KUBERNETES), 50);
            env.breakRelease(Kind.CRASHES.version, LocalEnvironment.Breakage.CRASH, EnumSet.of(Side.KUBERNETES));
            DualDeploySpec config = new ConfigLoader().load(env.config());
            Release start = env.release(START);
            for (String stage : STAGES) {
                for (Side side : Side.values()) {
                    open(targets, config, stage, side).markGood(start, EnumSet.allOf(Side.class));
                }
            }
            List<String> log = new ArrayList<>();
            Optional<String> killedAfter = killedRun(home, env, point, log);
            expireLeases(env);
            Map<String, TargetState> atKill = read(targets, config);
            Map<String, Integer> served = new LinkedHashMap<>();
            for (String stage : STAGES) {
                for (Side side : Side.values()) {
                    served.put(stage + "/" + side.label(), env.traffic().served(stage, side).size());
                }
            }
            StringWriter err = new StringWriter();
            List<Integer> exits = new ArrayList<>();
            long began = System.nanoTime();
            for (String stage : STAGES) {
                int code = cli.run(deploy(home, env, stage, point.rerun()), new PrintWriter(new StringWriter()), new PrintWriter(err, true));
                exits.add(code);
                if (code != 0) {
                    break;
                }
            }
            Duration took = Duration.ofNanos(System.nanoTime() - began);
            Map<String, TargetState> after = read(targets, config);
            Judged judged = judge(env, point, atKill, served, exits, after);
            Map<String, String> versions = new LinkedHashMap<>();
            after.forEach((where, state) -> versions.put(where, version(env, state)));
            return new Result(point, killedAfter, log, exits, err.toString(), took, versions, judged.problems(), judged.onFailed());
        } catch (IOException e) {
            throw new UncheckedIOException("kill point " + name + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted at kill point " + name, e);
        }
    }

    /**
     * The killed run: one child JVM per stage, as the Jenkins step runs the CLI; SIGKILL right after the point's line.
     * A stage that ends with a non-zero exit stops the run, as it stops a pipeline.
     *
     * @return the line after which the run was killed, or empty if it ended first
     */
    private Optional<String> killedRun(Path home, LocalEnvironment env, KillPoint point, List<String> log)
            throws IOException, InterruptedException {
        int matched = 0;
        for (String stage : STAGES) {
            Process process = child(home, deploy(home, env, stage, point.killed())).start();
            try (BufferedReader err = new BufferedReader(new InputStreamReader(process.getErrorStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = err.readLine()) != null) {
                    log.add(line);
                    if (point.line().matcher(line).find() && ++matched == point.nth()) {
                        process.destroyForcibly(); // SIGKILL: no shutdown hook, no finally block runs in the child
                        process.waitFor(30, TimeUnit.SECONDS);
                        return Optional.of(line);
                    }
                }
            } finally {
                if (!process.waitFor(5, TimeUnit.MINUTES)) {
                    process.destroyForcibly();
                }
            }
            if (process.exitValue() != 0) {
                return Optional.empty();
            }
        }
        return Optional.empty();
    }

    /**
     * Ends the stage leases a killed run still holds, as a person who knows the holder is dead does ({@code kubectl
     * delete lease}, or clearing its holder): a killed run never releases its lease, and a re-run takes over another
     * holder's lease only after seeing it unchanged for its whole {@code lease_duration} (with {@code --wait-lock}); a
     * {@code renewTime} in the past no longer ages it, as expiry is judged by the re-run's own clock. The re-run then
     * takes the free lease at once, as it would after that wait.
     */
    private static void expireLeases(LocalEnvironment env) {
        for (String stage : STAGES) {
            Resource<GenericKubernetesResource> lease = env.kubernetes().client().genericKubernetesResources("coordination.k8s.io/v1", "Lease")
                    .inNamespace(stage).withName(KubernetesLease.name(LocalEnvironment.SERVICE, stage));
            GenericKubernetesResource held = lease.get();
            if (held != null && held.getAdditionalProperties().get("spec") instanceof Map<?, ?> spec && spec.get("holderIdentity") != null) {
                Map<String, Object> cleared = new LinkedHashMap<>();
                spec.forEach((k, v) -> cleared.put(String.valueOf(k), v));
                cleared.remove("holderIdentity");
                cleared.remove("acquireTime");
                cleared.remove("renewTime");
                held.getAdditionalProperties().put("spec", cleared);
                lease.replace(held);
            }
        }
    }

    private ProcessBuilder child(Path home, String[] args) {
        List<String> command = java(archive.map(a -> List.of("-XX:SharedArchiveFile=" + a)).orElse(List.of()));
        command.addAll(List.of(args));
        return process(home, command);
    }

    /** The command line of a CLI JVM up to its arguments. */
    private static List<String> java(List<String> options) {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                // A short-lived CLI: start fast rather than compile well.
                "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xss1m"));
        command.addAll(options);
        command.addAll(List.of("-Daws.accessKeyId=" + LocalEnvironment.ACCESS_KEY, "-Daws.secretAccessKey=" + LocalEnvironment.ACCESS_KEY,
                "-Daws.disableEc2Metadata=true", "-cp", System.getProperty("java.class.path"), MAIN));
        return command;
    }

    private static ProcessBuilder process(Path home, List<String> command) {
        ProcessBuilder builder = new ProcessBuilder(command).directory(home.toFile()).redirectOutput(ProcessBuilder.Redirect.DISCARD);
        builder.environment().keySet().removeIf(k -> k.startsWith("AWS_") || k.equals("KUBECONFIG") || k.equals("JAVA_TOOL_OPTIONS"));
        return builder;
    }

    private static String[] deploy(Path home, LocalEnvironment env, String stage, Kind release) {
        return new String[] {"deploy", "-f", env.config().toString(), "--stage", stage, "--image", env.release(release.version).image(),
            "--release-version", release.version, "--journal", home.resolve("journal").toString()};
    }

    private static DeployTarget open(PlatformTargets targets, DualDeploySpec config, String stage, Side side) {
        StageSpec spec = config.stage(stage).orElseThrow();
        return targets.open(spec, side, message -> { });
    }

    /** What every side of both stages runs now, keyed {@code stage/side}. */
    private static Map<String, TargetState> read(PlatformTargets targets, DualDeploySpec config) {
        Map<String, TargetState> states = new LinkedHashMap<>();
        for (String stage : STAGES) {
            for (Side side : Side.values()) {
                states.put(stage + "/" + side.label(), open(targets, config, stage, side).current());
            }
        }
        return states;
    }

    private record Judged(List<String> problems, int onFailed) {
    }

    /** Compares what the platforms say with what a converged re-run leaves (see the class comment). */
    private static Judged judge(LocalEnvironment env, KillPoint point, Map<String, TargetState> atKill, Map<String, Integer> served,
                                List<Integer> exits, Map<String, TargetState> after) {
        List<String> problems = new ArrayList<>();
        String startDigest = env.release(START).digest();
        Kind expected = point.rerun().passes ? point.rerun() : null;
        String expectedDigest = expected == null ? startDigest : env.release(expected.version).digest();
        Set<String> failed = Set.of(env.release(Kind.GATE_FAILS.version).digest(), env.release(Kind.CRASHES.version).digest());
        int onFailed = 0;
        for (Map.Entry<String, TargetState> side : after.entrySet()) {
            TargetState state = side.getValue();
            Optional<String> digest = state.digest();
            if (digest.isPresent() && failed.contains(digest.get())) {
                onFailed++;
                problems.add(side.getKey() + " runs " + version(env, state) + ", a release that failed");
            } else if (!digest.equals(Optional.of(expectedDigest)) || state.health() != TargetState.Health.HEALTHY) {
                problems.add(side.getKey() + " runs " + version(env, state) + " (" + state.health() + "), not "
                        + (expected == null ? START : expected.version));
            }
        }
        List<Integer> wanted = point.rerun().passes ? List.of(0, 0) : List.of(1);
        if (!exits.equals(wanted)) {
            problems.add("the re-run exited " + exits + ", not " + wanted);
        }
        if (point.rerun() != point.killed()) {
            for (String stage : STAGES) {
                for (Side side : Side.values()) {
                    String where = stage + "/" + side.label();
                    if (!leftover(stage, side, atKill, startDigest)) {
                        continue;
                    }
                    List<String> all = env.traffic().served(stage, side);
                    List<String> since = all.subList(Math.min(served.get(where), all.size()), all.size());
                    if (since.isEmpty() || !since.get(0).equals(startDigest)) {
                        problems.add(where + " was left on " + version(env, atKill.get(where)) + " and went to "
                                + since.stream().map(d -> versionOf(env, d)).toList() + ", not first back to " + START);
                    }
                }
            }
        }
        return new Judged(problems, onFailed);
    }

    /**
     * Whether the killed run left the side on a release that never passed there: it runs neither {@value #START} nor a
     * release that a side of the stage records as last good having passed on this side (a kill between recording the
     * two sides leaves a release that passed, recorded on one side only).
     */
    private static boolean leftover(String stage, Side side, Map<String, TargetState> atKill, String startDigest) {
        TargetState state = atKill.get(stage + "/" + side.label());
        Optional<String> digest = state.digest();
        if (digest.isEmpty() || digest.get().equals(startDigest)) {
            return false;
        }
        for (Side other : Side.values()) {
            TargetState record = atKill.get(stage + "/" + other.label());
            if (record.lastGoodImage().flatMap(ImageRef::findDigest).equals(digest) && record.lastGoodSides().contains(side)) {
                return false;
            }
        }
        return true;
    }

    private static String version(LocalEnvironment env, TargetState state) {
        return state.digest().map(d -> versionOf(env, d)).orElse(state.health().toString());
    }

    private static String versionOf(LocalEnvironment env, String digest) {
        for (String version : LocalEnvironment.SAMPLE_VERSIONS) {
            if (env.release(version).digest().equals(digest)) {
                return version;
            }
        }
        return Release.shortDigest(digest);
    }

    /**
     * The bench's {@code n} kill points: every kind of killed run gets a share of the points in proportion to the lines
     * it prints, spread evenly over its lines (the Nth line, from the first to the last but one), and every other point
     * of a kind deploys a different release after the kill ({@link Kind#OTHER} after a good run, {@link Kind#GOOD}
     * after a failing one).
     */
    public static List<KillPoint> points(int n) {
        // About how many lines each run prints on stderr (both stages for the good one; a failing one stops in sandbox).
        Map<Kind, Integer> lines = Map.of(Kind.GOOD, 76, Kind.GATE_FAILS, 40, Kind.CRASHES, 30);
        int total = lines.values().stream().mapToInt(Integer::intValue).sum();
        List<KillPoint> points = new ArrayList<>();
        List<Kind> kinds = List.of(Kind.GOOD, Kind.GATE_FAILS, Kind.CRASHES);
        for (int k = 0; k < kinds.size(); k++) {
            Kind kind = kinds.get(k);
            int share = k == kinds.size() - 1 ? n - points.size() : Math.round((float) n * lines.get(kind) / total);
            Kind other = kind == Kind.GOOD ? Kind.OTHER : Kind.GOOD;
            for (int j = 0; j < share; j++) {
                int nth = 1 + (int) ((long) j * (lines.get(kind) - 1) / share);
                points.add(KillPoint.nthLine(kind, j % 2 == 0 ? kind : other, nth));
            }
        }
        return points;
    }

    /**
     * What a set of kill points came to.
     *
     * @param points how many points were run
     * @param killed how many runs were killed (a run that ended before its point was not)
     * @param converged how many re-runs after a kill converged
     * @param onFailed how many sides were left on a release that failed, over all points (must be 0)
     * @param medianRerun the median time of a re-run (both stages)
     */
    public record Summary(int points, int killed, int converged, int onFailed, Duration medianRerun) {

        public static Summary of(List<Result> results) {
            List<Duration> reruns = results.stream().filter(Result::killed).map(Result::rerun).sorted().toList();
            Duration median = reruns.isEmpty() ? Duration.ZERO : reruns.size() % 2 == 1 ? reruns.get(reruns.size() / 2)
                    : reruns.get(reruns.size() / 2 - 1).plus(reruns.get(reruns.size() / 2)).dividedBy(2);
            return new Summary(results.size(), (int) results.stream().filter(Result::killed).count(),
                    (int) results.stream().filter(Result::converged).count(), results.stream().mapToInt(Result::onFailed).sum(), median);
        }
    }

    /** Makes the directory the bench writes into. */
    public static Path directory(Path dir) {
        try {
            return Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create " + dir + ": " + e.getMessage(), e);
        }
    }
}
