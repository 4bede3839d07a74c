package dev.dualdeploy.bench;

import dev.dualdeploy.config.RouterSpec;
import dev.dualdeploy.local.CloudflareSimulator;
import dev.dualdeploy.local.ElbSimulator;
import dev.dualdeploy.local.Route53Simulator;
import dev.dualdeploy.net.AwsClients;
import dev.dualdeploy.net.Timeouts;
import dev.dualdeploy.time.Sleeper;
import dev.dualdeploy.traffic.Split;
import dev.dualdeploy.traffic.TrafficRouter;
import dev.dualdeploy.traffic.alb.AlbRouter;
import dev.dualdeploy.traffic.cloudflare.CloudflareRouter;
import dev.dualdeploy.traffic.nginx.NginxRouter;
import dev.dualdeploy.traffic.route53.Route53Router;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.IntSupplier;
import java.util.stream.Collectors;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.elasticloadbalancingv2.ElasticLoadBalancingV2Client;
import software.amazon.awssdk.services.elasticloadbalancingv2.model.ActionTypeEnum;
import software.amazon.awssdk.services.route53.Route53Client;

/**
 * How fast each of the four traffic routers moves a stage's traffic, and how fast it points it back at legacy after a
 * FAIL, each against its most real peer on loopback: a real nginx (Debian's package) in front of two small servers, and
 * the Cloudflare, ELBv2 (ALB) and Route53 simulators, driven by the routers' own clients (the AWS SDK v2 for ALB and
 * Route53). Per router, after one untimed move to 5% and back:
 * <ol>
 *   <li>each round times {@code set(step)} and the {@code read()} that follows for the steps 10, 25, 50 and 100%; every
 *       read must equal the split set;</li>
 *   <li>then, from 50% (set untimed), a FAIL: {@code set(Split.allLegacy())} and reads until one shows 0%; that time is
 *       the fail-back, whose goal is {@link #GOAL} on every router in every round;</li>
 *   <li>for nginx alone, once: the split at 0, 10, 25, 50 and 100% measured by real HTTP requests through nginx,
 *       counting which side answered each.</li>
 * </ol>
 * The Route53 router's {@code set} returns once its change is INSYNC, polling GetChange after 1 s and then 2 s; the
 * simulator answers PENDING once (its default), so that router's time is almost all its own sleeps. It runs on a thread
 * of its own beside the others so that the bench ends in about a minute and a half; its work between the sleeps is a
 * few milliseconds, so the overlap changes the others' times little.
 *
 * <p>The simulators are JDK {@code HttpServer}s, which write an answer's headers and body as two TCP segments: unless
 * {@value #NODELAY} is {@code true} (read once, when the JVM starts its first such server), each answer waits some 40 ms
 * for the client's delayed acknowledgement, which would be most of a Cloudflare or ALB set and no part of the router.
 * {@code dualdeploy bench cutover} sets it; the table says whether it was set.
 *
 * <p>Not measured: real cloud latency (every peer is on loopback: a real Cloudflare, ELBv2 or Route53 call takes tens
 * to hundreds of milliseconds, and a Route53 change takes up to a minute to be INSYNC), DNS resolvers' caches (clients
 * of a Route53 record follow only after its TTL, on top of INSYNC), clients that hold connections open, and the
 * engine's own work around a step (the gate's soak, the journal).
 */
public final class CutoverBench {

    /** The cutover steps timed in each round, in order. */
    public static final List<Integer> STEPS = List.of(10, 25, 50, 100);
    /** The shares at which nginx's split is measured with real requests. */
    public static final List<Integer> SPLIT_STEPS = List.of(0, 10, 25, 50, 100);
    /** A FAIL must read back 0% within this long, on every router, in every round. */
    public static final Duration GOAL = Duration.ofSeconds(2);
    /** How long the fail-back keeps reading for 0% before it counts the round as not reached. */
    static final Duration FAIL_BACK_LIMIT = Duration.ofSeconds(30);
    /** The share the fail-back starts from. */
    static final int FAIL_FROM = 50;
    /** The records' TTL in the Route53 simulator, for the note that clients follow only after it. */
    static final long ROUTE53_TTL_SECONDS = 60;

    /** The JDK {@code HttpServer}'s switch for {@code TCP_NODELAY} on the connections it accepts. */
    public static final String NODELAY = "sun.net.httpserver.nodelay";

    private static final String CLOUDFLARE_TOKEN = "dualdeploy-bench-token";
    private static final String ZONE = "023e105f4ecef8ad9ca31a8372d0c353";
    private static final String LB = "699d98642c564d2e855e9661899b7252";
    private static final String LEGACY_POOL = "17b5962d775c646f3f9725cbc7a53df4";
    private static final String K8S_POOL = "9290f38c5d07c2e2f4df57b1f61d4196";
    private static final String HOSTED_ZONE = "Z1BENCH";
    private static final String NAME = "api.example.com";
    private static final String REGION = "eu-west-1";

    private CutoverBench() {
    }

    /**
     * One router's results.
     *
     * @param steps         each timed set + read of a step, in the order run
     * @param stepSleeps    how much of each of {@code steps} the router spent in its own sleeps (empty for a router whose
     *                      sleeps the bench cannot see)
     * @param stepCalls     the API requests its peer received during each of {@code steps} (empty for nginx, whose set
     *                      runs commands and probes instead)
     * @param failBacks     each round's time from the FAIL to the read showing 0% ({@link #FAIL_BACK_LIMIT} when none did)
     * @param failBackMissed rounds in which no read showed 0% within {@link #FAIL_BACK_LIMIT}
     * @param failBackReads the most reads one fail-back needed
     * @param readBacks     reads compared with the split just set (one after each set)
     * @param mismatches    those that differed, each as {@code set 25%, read 24% on kubernetes (…)}
     * @param error         why the router could not be measured to the end (its peer did not start, a call failed)
     */
    public record RouterResult(String router, String peer, List<Duration> steps, List<Duration> stepSleeps,
                               List<Integer> stepCalls, List<Duration> failBacks, int failBackMissed, int failBackReads, int readBacks,
                               List<String> mismatches, Optional<String> error) {

        /** Whether it read 0% back within {@link #GOAL} after every FAIL, every read equalled the set, and nothing failed. */
        public boolean metGoal(int rounds) {
            return error.isEmpty() && mismatches.isEmpty() && failBackMissed == 0 && failBacks.size() == rounds
                    && failBacks.stream().allMatch(t -> t.compareTo(GOAL) <= 0);
        }
    }

    /**
     * nginx's split at one setting, measured with real requests.
     *
     * @param read what the router read back after setting it
     */
    public record SplitRow(int set, Split read, int kubernetes, int legacy, int failed) {

        /** The share of the answered requests that Kubernetes answered, in percent. */
        public double measured() {
            return kubernetes + legacy == 0 ? 0 : 100.0 * kubernetes / (kubernetes + legacy);
        }

        /** How far the measured share is from the one set, in percentage points (positive: more on Kubernetes). */
        public double errorPoints() {
            return measured() - set;
        }

        /** The standard deviation, in points, of the share {@code kubernetes + legacy} random picks at {@code set} would give. */
        public double sigmaPoints() {
            int n = kubernetes + legacy;
            double p = set / 100.0;
            return n == 0 ? 0 : 100 * Math.sqrt(p * (1 - p) / n);
        }
    }

    /** Everything one run measured. */
    public record Result(int rounds, int requestsPerStep, List<RouterResult> routers, List<SplitRow> split, Duration took) {

        /** Exit 0's condition: every router met the goal ({@link RouterResult#metGoal}). */
        public boolean metGoal() {
            return routers.stream().allMatch(r -> r.metGoal(rounds));
        }

        public RouterResult router(String name) {
            return routers.stream().filter(r -> r.router().equals(name)).findFirst().orElseThrow();
        }

        /** The tables and notes a person reads. */
        public String table() {
            return CutoverBench.table(this);
        }
    }

    /** The machine, as a person compares two runs: cores, the JVM's vendor and version, the OS. */
    public static String machine() {
        return Runtime.getRuntime().availableProcessors() + " cores, " + System.getProperty("java.vendor") + " "
                + System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version") + ", "
                + System.getProperty("os.name") + " " + System.getProperty("os.version") + " " + System.getProperty("os.arch");
    }

    /**
     * Runs the bench.
     *
     * @param dir             where nginx gets its prefix (config, logs, pid); left for the caller to remove
     * @param nginx           the nginx binary ({@link #nginx()})
     * @param rounds          rounds per router, at least 1
     * @param requestsPerStep requests through nginx at each of {@link #SPLIT_STEPS}, at least 100
     * @param progress        receives one line per router and round, from more than one thread
     */
    public static Result run(Path dir, Path nginx, int rounds, int requestsPerStep, Consumer<String> progress) {
        if (rounds < 1 || requestsPerStep < 100) {
            throw new IllegalArgumentException("a cutover bench needs at least 1 round and 100 requests per step");
        }
        long started = System.nanoTime();
        ExecutorService aside = Executors.newSingleThreadExecutor(r -> {
            Thread thread = new Thread(r, "bench-route53");
            thread.setDaemon(true);
            return thread;
        });
        try {
            Future<RouterResult> route53 = aside.submit(() -> route53(rounds, progress));
            List<RouterResult> routers = new ArrayList<>();
            List<SplitRow> split = new ArrayList<>();
            routers.add(nginx(dir, nginx, rounds, requestsPerStep, split, progress));
            routers.add(cloudflare(rounds, progress));
            routers.add(alb(rounds, progress));
            routers.add(route53.get());
            return new Result(rounds, requestsPerStep, List.copyOf(routers), List.copyOf(split),
                    Duration.ofNanos(System.nanoTime() - started));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while the Route53 router was measured", e);
        } catch (ExecutionException e) {
            throw new IllegalStateException("the Route53 measurement failed: " + e.getCause(), e.getCause());
        } finally {
            aside.shutdownNow();
        }
    }

    /** The nginx binary the bench runs; empty if nginx is not installed. */
    public static Optional<Path> nginx() {
        return LoopbackNginx.binary();
    }

    /** The message for a machine without nginx. */
    public static String noNginx() {
        return "nginx is not installed (looked at " + LoopbackNginx.DEBIAN_BINARY + " and the PATH): the cutover bench measures the"
                + " nginx router against a real nginx; install the Debian package nginx (the README's ./run-tests installs it)";
    }

    // ---------------------------------------------------------------------------------------------------------------
    // The four routers and their peers

    private static RouterResult nginx(Path dir, Path binary, int rounds, int requests, List<SplitRow> split,
                                      Consumer<String> progress) {
        String peer = LoopbackNginx.version(binary) + ", 2 workers, on loopback";
        Path prefix = dir.resolve("nginx");
        Recorder recorder = new Recorder("nginx", peer, progress);
        try {
            Files.createDirectories(prefix);
        } catch (IOException e) {
            return recorder.failed("cannot create " + prefix + ": " + e.getMessage());
        }
        try (LoopbackNginx server = LoopbackNginx.start(prefix, binary, Split.allLegacy())) {
            RecordingSleeper sleeper = new RecordingSleeper();
            // As open() builds it (the real clock and sleeper), with the sleeper wrapped to see how much of a set it is.
            NginxRouter router = new NginxRouter(server.spec(Duration.ofSeconds(10)), Clock.systemUTC(), sleeper);
            recorder.measure(router, sleeper, null, rounds);
            if (recorder.error.isEmpty()) {
                measureSplit(server, router, requests, split, recorder, progress);
            }
        } catch (IOException | RuntimeException e) {
            recorder.error = Optional.of(String.valueOf(e.getMessage()));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            recorder.error = Optional.of("interrupted");
        }
        return recorder.result();
    }

    /** Sets each of {@link #SPLIT_STEPS}, waits for the old workers to go, and counts which side answered each request. */
    private static void measureSplit(LoopbackNginx server, NginxRouter router, int requests, List<SplitRow> split,
                                     Recorder recorder, Consumer<String> progress) throws InterruptedException {
        for (int percent : SPLIT_STEPS) {
            Split wanted = Split.of(percent);
            router.set(wanted);
            Split read = recorder.verify(wanted, router.read());
            server.awaitOldWorkersGone();
            LoopbackNginx.Count count = server.count(requests);
            SplitRow row = new SplitRow(percent, read, count.kubernetes(), count.legacy(), count.errors());
            split.add(row);
            progress.accept(String.format(Locale.ROOT,
                    "nginx split at %d%%: %d requests, %.2f%% on kubernetes (%+.2f points), %d failed",
                    percent, requests, row.measured(), row.errorPoints(), row.failed()));
        }
    }

    private static RouterResult cloudflare(int rounds, Consumer<String> progress) {
        Recorder recorder = new Recorder("cloudflare", "CloudflareSimulator (v4 REST API) on loopback", progress);
        try (CloudflareSimulator sim = CloudflareSimulator.start(CLOUDFLARE_TOKEN)) {
            sim.put(ZONE, "{\"id\": \"" + LB + "\", \"name\": \"api.example.com\", \"fallback_pool\": \"" + LEGACY_POOL + "\","
                    + " \"default_pools\": [\"" + LEGACY_POOL + "\", \"" + K8S_POOL + "\"], \"steering_policy\": \"random\","
                    + " \"random_steering\": {\"pool_weights\": {\"" + LEGACY_POOL + "\": 1, \"" + K8S_POOL + "\": 0}}}");
            RouterSpec.Cloudflare spec = new RouterSpec.Cloudflare(ZONE, LB, LEGACY_POOL, K8S_POOL, "CF_BENCH_TOKEN",
                    Optional.of(sim.endpoint()));
            // The production construction: the token comes from the environment variable the spec names.
            Function<String, String> environment = name -> name.equals("CF_BENCH_TOKEN") ? CLOUDFLARE_TOKEN : null;
            try (CloudflareRouter router = CloudflareRouter.open(spec, environment)) {
                recorder.measure(router, null, () -> sim.requests().size(), rounds);
            }
        } catch (RuntimeException e) {
            recorder.error = Optional.of(String.valueOf(e.getMessage()));
        }
        return recorder.result();
    }

    private static RouterResult alb(int rounds, Consumer<String> progress) {
        Recorder recorder = new Recorder("alb", "ElbSimulator (ELBv2 Query API) on loopback, AWS SDK v2", progress);
        try (ElbSimulator sim = ElbSimulator.start()) {
            String legacy = sim.targetGroup("legacy");
            String kubernetes = sim.targetGroup("kubernetes");
            ElasticLoadBalancingV2Client client = ElasticLoadBalancingV2Client.builder().region(Region.of(REGION))
                    .endpointOverride(sim.endpoint()).credentialsProvider(credentials())
                    .httpClientBuilder(AwsClients.http(Timeouts.current()))
                    .overrideConfiguration(AwsClients.override(Timeouts.current(), sim.endpoint().toString())).build();
            // As a migrating stage starts: the listener forwards to the legacy group alone.
            String listener = client.createListener(r -> r.loadBalancerArn(sim.loadBalancer("web")).protocol("HTTP").port(80)
                    .defaultActions(a -> a.type(ActionTypeEnum.FORWARD).targetGroupArn(legacy))).listeners().get(0).listenerArn();
            RouterSpec.Alb spec = new RouterSpec.Alb(REGION, listener, Optional.empty(), legacy, kubernetes,
                    Optional.of(sim.endpoint()));
            try (AlbRouter router = new AlbRouter(client, spec)) {
                recorder.measure(router, null, sim::requests, rounds);
            }
        } catch (RuntimeException e) {
            recorder.error = Optional.of(String.valueOf(e.getMessage()));
        }
        return recorder.result();
    }

    private static RouterResult route53(int rounds, Consumer<String> progress) {
        Recorder recorder = new Recorder("route53", "Route53Simulator (REST-XML) on loopback, AWS SDK v2; GetChange PENDING once"
                + " (the simulator's default)", progress);
        try (Route53Simulator sim = Route53Simulator.start()) {
            sim.addHostedZone(HOSTED_ZONE, "example.com");
            sim.put(HOSTED_ZONE, Route53Simulator.RecordSet.weighted(NAME, "CNAME", "legacy", 100, ROUTE53_TTL_SECONDS,
                    "legacy-lb.example.net"));
            sim.put(HOSTED_ZONE, Route53Simulator.RecordSet.weighted(NAME, "CNAME", "kubernetes", 0, ROUTE53_TTL_SECONDS,
                    "k8s-lb.example.net"));
            RouterSpec.Route53 spec = new RouterSpec.Route53(REGION, HOSTED_ZONE, NAME, "CNAME", "legacy", "kubernetes",
                    Optional.of(sim.endpoint()));
            Route53Client client = Route53Client.builder().region(Region.of(REGION)).endpointOverride(sim.endpoint())
                    .credentialsProvider(credentials()).httpClientBuilder(AwsClients.http(Timeouts.current()))
                    .overrideConfiguration(AwsClients.override(Timeouts.current(), sim.endpoint().toString())).build();
            RecordingSleeper sleeper = new RecordingSleeper();
            try (Route53Router router = new Route53Router(spec, client, sleeper, Clock.systemUTC())) {
                recorder.measure(router, sleeper, sim::requests, rounds);
            }
        } catch (RuntimeException e) {
            recorder.error = Optional.of(String.valueOf(e.getMessage()));
        }
        return recorder.result();
    }

    /** The simulators take any credentials; fixed ones keep the bench off the machine's own AWS configuration. */
    private static StaticCredentialsProvider credentials() {
        return StaticCredentialsProvider.create(AwsBasicCredentials.create("bench", "bench"));
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Measuring one router

    /** The real sleeper, counting what it was asked to sleep: how much of a set is the router's own waiting. */
    private static final class RecordingSleeper implements Sleeper {

        private final AtomicLong slept = new AtomicLong();

        @Override
        public void sleep(Duration duration) {
            slept.addAndGet(duration.toNanos());
            Sleeper.SYSTEM.sleep(duration);
        }

        long nanos() {
            return slept.get();
        }
    }

    /** Collects one router's measurements while it runs. */
    private static final class Recorder {

        private final String name;
        private final String peer;
        private final Consumer<String> progress;
        private final List<Duration> steps = new ArrayList<>();
        private final List<Duration> stepSleeps = new ArrayList<>();
        private final List<Integer> stepCalls = new ArrayList<>();
        private final List<Duration> failBacks = new ArrayList<>();
        private final List<String> mismatches = new ArrayList<>();
        private int failBackMissed;
        private int failBackReads;
        private int readBacks;
        private Optional<String> error = Optional.empty();

        Recorder(String name, String peer, Consumer<String> progress) {
            this.name = name;
            this.peer = peer;
            this.progress = progress;
        }

        RouterResult failed(String why) {
            error = Optional.of(why);
            return result();
        }

        RouterResult result() {
            error.ifPresent(e -> progress.accept(name + ": FAILED: " + e));
            return new RouterResult(name, peer, List.copyOf(steps), List.copyOf(stepSleeps), List.copyOf(stepCalls),
                    List.copyOf(failBacks), failBackMissed,
                    failBackReads, readBacks, List.copyOf(mismatches), error);
        }

        /** The read, after noting whether it equals the split just set. */
        Split verify(Split wanted, Split read) {
            readBacks++;
            if (!read.sameShare(wanted)) {
                mismatches.add("set " + wanted.percent() + ", read " + read);
            }
            return read;
        }

        /** A warm-up move, then {@code rounds} rounds of the steps and a fail-back; a router's exception ends it. */
        void measure(TrafficRouter router, RecordingSleeper sleeper, IntSupplier calls, int rounds) {
            try {
                // Untimed: the first calls load classes, open connections and warm the JIT.
                verify(Split.of(5), setAndRead(router, Split.of(5)));
                verify(Split.allLegacy(), setAndRead(router, Split.allLegacy()));
                for (int round = 1; round <= rounds; round++) {
                    List<String> times = new ArrayList<>();
                    for (int step : STEPS) {
                        long slept = sleeper == null ? 0 : sleeper.nanos();
                        int called = calls == null ? 0 : calls.getAsInt();
                        long began = System.nanoTime();
                        Split read = setAndRead(router, Split.of(step));
                        Duration took = Duration.ofNanos(System.nanoTime() - began);
                        if (calls != null) {
                            stepCalls.add(calls.getAsInt() - called);
                        }
                        verify(Split.of(step), read);
                        steps.add(took);
                        if (sleeper != null) {
                            stepSleeps.add(Duration.ofNanos(sleeper.nanos() - slept));
                        }
                        times.add(step + "% " + shown(took));
                    }
                    verify(Split.of(FAIL_FROM), setAndRead(router, Split.of(FAIL_FROM)));
                    Duration back = failBack(router);
                    progress.accept(name + " round " + round + "/" + rounds + ": " + String.join(", ", times) + "; FAIL from "
                            + FAIL_FROM + "% read back at 0% in " + shown(back));
                }
            } catch (RuntimeException e) {
                error = Optional.of(String.valueOf(e.getMessage()));
            }
        }

        private static Split setAndRead(TrafficRouter router, Split split) {
            router.set(split);
            return router.read();
        }

        /** Points the traffic back at legacy and reads until a read shows 0%, as the engine does after a FAIL. */
        private Duration failBack(TrafficRouter router) {
            long began = System.nanoTime();
            long limit = began + FAIL_BACK_LIMIT.toNanos();
            router.set(Split.allLegacy());
            int reads = 0;
            while (true) {
                Split read = router.read();
                reads++;
                if (reads == 1) {
                    verify(Split.allLegacy(), read);
                }
                if (read.sameShare(Split.allLegacy())) {
                    Duration took = Duration.ofNanos(System.nanoTime() - began);
                    failBacks.add(took);
                    failBackReads = Math.max(failBackReads, reads);
                    return took;
                }
                if (System.nanoTime() > limit) {
                    failBacks.add(FAIL_BACK_LIMIT);
                    failBackMissed++;
                    failBackReads = Math.max(failBackReads, reads);
                    return FAIL_BACK_LIMIT;
                }
                Sleeper.SYSTEM.sleep(Duration.ofMillis(20));
            }
        }
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Statistics and the table

    /** The median: the mean of the two middle values of an even count. */
    public static Duration median(List<Duration> values) {
        List<Duration> sorted = sorted(values);
        int n = sorted.size();
        return n % 2 == 1 ? sorted.get(n / 2) : sorted.get(n / 2 - 1).plus(sorted.get(n / 2)).dividedBy(2);
    }

    /** The 90th percentile by nearest rank (of 16 values, the 15th smallest). */
    public static Duration p90(List<Duration> values) {
        List<Duration> sorted = sorted(values);
        return sorted.get((int) Math.ceil(0.9 * sorted.size()) - 1);
    }

    public static Duration max(List<Duration> values) {
        return sorted(values).get(values.size() - 1);
    }

    private static List<Duration> sorted(List<Duration> values) {
        if (values.isEmpty()) {
            throw new IllegalArgumentException("no values");
        }
        List<Duration> sorted = new ArrayList<>(values);
        Collections.sort(sorted);
        return sorted;
    }

    /** The calls per set + read-back: {@code 3}, or {@code 3 to 5} when they varied. */
    private static String calls(List<Integer> calls) {
        int least = Collections.min(calls);
        int most = Collections.max(calls);
        return least == most ? String.valueOf(least) : least + " to " + most;
    }

    /** A duration as a person reads it: {@code 4.2 ms}, {@code 412 ms}, {@code 3.01 s}. */
    static String shown(Duration d) {
        double ms = d.toNanos() / 1e6;
        if (ms < 10) {
            return String.format(Locale.ROOT, "%.1f ms", ms);
        }
        return ms < 1000 ? String.format(Locale.ROOT, "%.0f ms", ms) : String.format(Locale.ROOT, "%.2f s", ms / 1000);
    }

    private static String table(Result result) {
        StringBuilder out = new StringBuilder();
        out.append("| router | peer | set + read-back, median | p90 | API calls per set + read-back | read-backs equal to the set"
                + " | FAIL → 0% read back, median | max | goal ≤ 2 s |\n|---|---|---|---|---|---|---|---|---|\n");
        for (RouterResult r : result.routers()) {
            boolean some = !r.steps().isEmpty();
            boolean backs = !r.failBacks().isEmpty();
            out.append("| ").append(r.router()).append(" | ").append(r.peer()).append(" | ")
                    .append(some ? shown(median(r.steps())) : "-").append(" | ")
                    .append(some ? shown(p90(r.steps())) : "-").append(" | ")
                    .append(r.stepCalls().isEmpty() ? "-" : calls(r.stepCalls())).append(" | ")
                    .append(r.readBacks() - r.mismatches().size()).append(" of ").append(r.readBacks()).append(" | ")
                    .append(backs ? shown(median(r.failBacks())) : "-").append(" | ").append(backs ? shown(max(r.failBacks())) : "-")
                    .append(" | ").append(r.metGoal(result.rounds()) ? "met" : "NOT met").append(" |\n");
        }
        out.append("\nSteps ").append(STEPS.stream().map(s -> s + "%").collect(Collectors.joining(", "))).append(": ")
                .append(result.rounds()).append(" rounds of ").append(STEPS.size()).append(" timed set + read-back each per router;")
                .append(" FAIL: set(all legacy) from ").append(FAIL_FROM).append("% and reads until one shows 0%, once per round.\n");
        for (RouterResult r : result.routers()) {
            if (!r.stepSleeps().isEmpty()) {
                out.append("- ").append(r.router()).append(": of each set + read-back, the router's own sleeps took ")
                        .append(shown(median(r.stepSleeps()))).append(" (median)")
                        .append(r.router().equals("nginx") ? ": probe pauses while nginx reloads, and "
                                + "250 ms for the old workers to stop taking requests" : "")
                        .append(r.router().equals("route53") ? ": GetChange polls after 250 ms, then doubling, until INSYNC" : "")
                        .append(".\n");
            }
            if (r.failBackReads() > 1) {
                out.append("- ").append(r.router()).append(": a fail-back needed up to ").append(r.failBackReads())
                        .append(" reads before one showed 0%.\n");
            }
            if (r.failBackMissed() > 0) {
                out.append("- ").append(r.router()).append(": in ").append(r.failBackMissed())
                        .append(" rounds no read showed 0% within ")
                        .append(FAIL_BACK_LIMIT.toSeconds()).append(" s.\n");
            }
            r.mismatches().stream().limit(3).forEach(m -> out.append("- ").append(r.router()).append(": read-back differed: ")
                    .append(m).append(".\n"));
            r.error().ifPresent(e -> out.append("- ").append(r.router()).append(": FAILED: ").append(e).append("\n"));
        }
        out.append("- route53: INSYNC is what is measured; clients follow only after the records' TTL (")
                .append(ROUTE53_TTL_SECONDS).append(" s here) on top, and a real change takes up to a minute to be INSYNC.\n");
        out.append("- Every peer is on loopback: no real cloud latency is in these times (add the API's round trip per call).")
                .append(" The simulators answered with TCP_NODELAY ")
                .append(Boolean.getBoolean(NODELAY) ? "on (" + NODELAY + "=true)."
                        : "off: each answer waited some 40 ms for a delayed ACK.")
                .append('\n');
        if (!result.split().isEmpty()) {
            out.append("\nnginx split, measured with ").append(String.format(Locale.ROOT, "%,d", result.requestsPerStep()))
                    .append(" real requests per setting (after the old workers exited):\n\n");
            out.append("| set | read back | measured on kubernetes | error | σ of a random split | kubernetes / legacy / failed |\n"
                    + "|---|---|---|---|---|---|\n");
            for (SplitRow row : result.split()) {
                out.append(String.format(Locale.ROOT, "| %d%% | %s | %.2f%% | %+.2f points | %.2f points | %,d / %,d / %,d |%n",
                        row.set(), row.read().percent(), row.measured(), row.errorPoints(), row.sigmaPoints(), row.kubernetes(),
                        row.legacy(), row.failed()));
            }
        }
        List<String> missed = result.routers().stream().filter(r -> !r.metGoal(result.rounds())).map(RouterResult::router).toList();
        out.append("\nGoal: after a FAIL every router reads back 0% within ").append(GOAL.toSeconds())
                .append(" s in every round, and every read-back equals the split set: ")
                .append(missed.isEmpty() ? "met by all " + result.routers().size() + " routers."
                        : "NOT met by " + String.join(", ", missed) + ".").append('\n');
        return out.toString();
    }
}
