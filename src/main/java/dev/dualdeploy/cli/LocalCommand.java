package dev.dualdeploy.cli;

import dev.dualdeploy.config.Durations;
import dev.dualdeploy.config.Side;
import dev.dualdeploy.local.LocalEnvironment;
import dev.dualdeploy.release.Release;
import com.sun.net.httpserver.HttpServer;
import dev.dualdeploy.targets.TargetException;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code dualdeploy local}: starts the embedded local environment and says how to point the CLI at it. */
@Command(name = "local", mixinStandardHelpOptions = true, footer = ExitCodes.HELP, subcommands = LocalCommand.BreakCommand.class,
        description = {"Start the embedded local environment (a simulated Kubernetes API, a simulated ECS API and a"
                + " read-only OCI registry on loopback) with a sample service in four stages, and print how to point"
                + " the CLI at it.",
                "The registry serves the sample releases 0.9.0, 1.0.0, 1.1.0, 1.1.1 and 1.2.0 as"
                + " <registry>/loan-api:<version>; --break (or 'local break' while it runs) makes one of them fail, to"
                + " watch fail-fast and rollback."})
final class LocalCommand implements Callable<Integer> {

    /**
     * One {@code --break}: which sample release fails, how, on which sides, and for {@code errors} the share of its
     * requests that fail, in percent (0 otherwise).
     */
    record Break(String release, LocalEnvironment.Breakage how, Set<Side> sides, double percent, double capacity) {

        static final String FORMAT = "RELEASE=HOW[:SIDE], such as 1.1.0=crash, 1.1.1=pull:legacy, 1.2.0=errors:50%:kubernetes"
                + " or 1.2.0=overload:800rps:kubernetes";
        private static final Pattern PERCENT = Pattern.compile("(\\d{1,3}(?:\\.\\d+)?)%?");
        private static final Pattern RPS = Pattern.compile("(\\d{1,7})rps");

        Break(String release, LocalEnvironment.Breakage how, Set<Side> sides, double percent) {
            this(release, how, sides, percent, 0);
        }

        static Break parse(String text) {
            int eq = text.indexOf('=');
            if (eq <= 0) {
                throw new UsageException("--break: '" + text + "' is not " + FORMAT);
            }
            List<String> how = new ArrayList<>(List.of(text.substring(eq + 1).split(":", -1)));
            LocalEnvironment.Breakage breakage = switch (how.get(0).toLowerCase(Locale.ROOT)) {
                case "pull" -> LocalEnvironment.Breakage.PULL;
                case "crash" -> LocalEnvironment.Breakage.CRASH;
                case "errors" -> LocalEnvironment.Breakage.ERRORS;
                case "overload" -> LocalEnvironment.Breakage.OVERLOAD;
                default -> throw new UsageException("--break: '" + how.get(0) + "' in '" + text
                        + "' is not a way to fail; use pull, crash, errors or overload (" + FORMAT + ")");
            };
            double percent = 0;
            double capacity = 0;
            if (breakage == LocalEnvironment.Breakage.OVERLOAD) {
                percent = LocalEnvironment.DEFAULT_ERROR_PERCENT;
                capacity = LocalEnvironment.DEFAULT_CAPACITY;
                Matcher m = how.size() > 1 ? RPS.matcher(how.get(1)) : null;
                if (m != null && m.matches()) {
                    capacity = Double.parseDouble(m.group(1));
                    if (capacity < 1) {
                        throw new UsageException("--break: '" + how.get(1) + "' in '" + text + "' is not a capacity of at least 1rps");
                    }
                    how.remove(1);
                }
            }
            if (breakage == LocalEnvironment.Breakage.ERRORS) {
                percent = LocalEnvironment.DEFAULT_ERROR_PERCENT;
                Matcher m = how.size() > 1 ? PERCENT.matcher(how.get(1)) : null;
                if (m != null && m.matches()) {
                    percent = Double.parseDouble(m.group(1));
                    if (!(percent > 0 && percent <= 100)) {
                        throw new UsageException("--break: '" + how.get(1) + "' in '" + text
                                + "' is not a share of requests above 0% and at most 100%, such as 20%");
                    }
                    how.remove(1);
                }
            }
            if (how.size() > 2) {
                throw new UsageException("--break: '" + text + "' is not " + FORMAT);
            }
            Set<Side> sides = EnumSet.allOf(Side.class);
            if (how.size() == 2) {
                sides = switch (how.get(1).toLowerCase(Locale.ROOT)) {
                    case "legacy", "ecs" -> EnumSet.of(Side.LEGACY);
                    case "kubernetes", "k8s" -> EnumSet.of(Side.KUBERNETES);
                    default -> throw new UsageException("--break: '" + how.get(1) + "' in '" + text + "' is not a side"
                            + (breakage == LocalEnvironment.Breakage.ERRORS ? " or a share of requests such as 20%"
                            : breakage == LocalEnvironment.Breakage.OVERLOAD ? " or a capacity such as 800rps" : "")
                            + "; use legacy or kubernetes (" + FORMAT + ")");
                };
            }
            return new Break(text.substring(0, eq), breakage, sides, percent, capacity);
        }
    }

    @Spec
    CommandSpec spec;

    @Option(names = "--dir", defaultValue = "dualdeploy-local", paramLabel = "DIR",
            description = "Where to write kubeconfig and dualdeploy.yaml (default: ${DEFAULT-VALUE}).")
    Path dir;

    /** The longest --for: a bound, so that a value of years cannot overflow the deadline (issue 8 item 9). */
    static final Duration MAX_FOR = Duration.ofDays(7);

    @Option(names = "--for", paramLabel = "DURATION", description = "Stop after this long, from 1s to 168h, such as 10m (default: until Ctrl-C).")
    String duration;

    @Option(names = "--registry-port", paramLabel = "PORT", defaultValue = "0",
            description = "The local registry's loopback port (default: a free one), such as 5000 for a Jenkinsfile that names it.")
    int registryPort;

    @Option(names = "--break", paramLabel = "RELEASE=HOW[:SIDE]",
            description = {"Make a sample release fail when it is deployed (repeatable). RELEASE is its tag (1.1.0) or its"
                    + " sha256: digest; HOW is pull (the image cannot be pulled), crash (the container exits soon after"
                    + " it starts) or errors[:PERCENT] (it runs, but that share of its requests fail, default 20%%: only the"
                    + " gate catches it) or overload[:CAPACITY] (it serves 20%% errors only while its side serves more than"
                    + " CAPACITY requests a second, default 800rps: healthy at deploy, failing at 50%% of a cutover);"
                    + " SIDE is legacy or kubernetes (default: both).",
                    "For example --break 1.1.0=crash --break 1.1.1=pull:legacy --break 1.2.0=errors:50%%:kubernetes"
                    + " --break 1.2.0=overload:kubernetes."})
    List<String> breaks = new ArrayList<>();

    @Option(names = "--gate", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "Give every stage of dualdeploy.yaml a gate (the default; --no-gate leaves it out): a sequential"
                    + " error check of each side against itself before the deploy, on the environment's own CloudWatch,"
                    + " soaking 6s in windows of 2s. A release broken with errors fails its gate and is rolled back.")
    boolean gate = true;

    @Override
    public Integer call() throws InterruptedException {
        Duration limit = duration == null ? null : Durations.parse(duration)
                .filter(d -> d.compareTo(Duration.ofSeconds(1)) >= 0 && d.compareTo(MAX_FOR) <= 0)
                .orElseThrow(() -> new UsageException("--for: '" + duration + "' is not a duration from 1s to 168h (a week),"
                        + " such as 90s or 10m"));
        if (registryPort < 0 || registryPort > 65535) {
            throw new UsageException("--registry-port: " + registryPort + " is not a port (0 for a free one, else 1-65535)");
        }
        if (Files.exists(dir) && !Files.isDirectory(dir)) {
            throw new UsageException("--dir: '" + dir + "' is a file, not a directory; name a directory to write the"
                    + " environment's kubeconfig and dualdeploy.yaml into (it is created if missing)");
        }
        List<Break> wanted = breaks.stream().map(Break::parse).toList();
        String initialVersion = "0.9.0";
        CountDownLatch stop = new CountDownLatch(1);
        try (LocalEnvironment env = start(initialVersion)) {
            PrintWriter out = spec.commandLine().getOut();
            List<String> broken = new ArrayList<>();
            for (Break b : wanted) {
                try {
                    broken.add(apply(env, b));
                } catch (IllegalArgumentException e) {
                    throw new UsageException("--break: " + e.getMessage());
                }
            }
            HttpServer control = control(env);
            Thread hook = new Thread(stop::countDown, "local-shutdown");
            Runtime.getRuntime().addShutdownHook(hook);
            Path config = env.config().toAbsolutePath();
            String repository = env.registry().repository();
            out.println("The local environment is up: " + LocalEnvironment.SERVICE + " " + initialVersion
                    + " runs in " + LocalEnvironment.STAGES + " on both sides.");
            out.println("  Kubernetes API  " + env.kubernetes().url() + "  (kubeconfig " + env.kubeconfig().toAbsolutePath()
                    + ", one context per stage)");
            out.println("  ECS API         " + env.ecs().endpoint() + "  (region " + LocalEnvironment.REGION + ")");
            out.println("  registry        http://" + env.registry().host() + "  (read-only: " + repository + ":"
                    + String.join(", :", env.registry().tags()) + ")");
            out.println("  CloudWatch      " + env.cloudwatch().endpoint() + "  (each stage's request and error counts per side"
                    + (gate ? ", which every stage's gate reads)" : "; --no-gate: the stages have no gate)"));
            out.println("  routers         ELBv2 " + env.elb().endpoint() + " (sandbox, prod), Route53 " + env.route53().endpoint()
                    + " (preprod), Cloudflare " + env.cloudflare().endpoint() + " (beta): each stage's cutover");
            out.println("  config          " + config);
            broken.forEach(b -> out.println("  broken          " + b));
            out.println();
            out.println("In another shell (the simulators accept any credentials; these keep the AWS SDK off the network):");
            out.println("  export AWS_ACCESS_KEY_ID=" + LocalEnvironment.ACCESS_KEY + " AWS_SECRET_ACCESS_KEY="
                    + LocalEnvironment.ACCESS_KEY + " AWS_EC2_METADATA_DISABLED=true " + LocalEnvironment.CLOUDFLARE_TOKEN_ENV + "="
                    + LocalEnvironment.CLOUDFLARE_TOKEN);
            out.println("  dualdeploy status -f " + config);
            out.println("  dualdeploy release --image " + repository + ":1.0.0");
            out.println("  dualdeploy deploy -f " + config + " --stage sandbox --image " + env.release("1.0.0").image()
                    + " --release-version 1.0.0");
            out.println("  dualdeploy local break --dir " + dir + " 1.1.0=crash     # then deploy 1.1.0: it fails and is rolled back");
            if (gate) {
                out.println("  dualdeploy local break --dir " + dir + " 1.2.0=errors:50%:kubernetes     # its gate fails and it is rolled back");
            }
            out.println("  dualdeploy cutover -f " + config + " --stage prod --to 25     # traffic to kubernetes in judged steps (ALB;"
                    + " preprod: Route53, beta: Cloudflare)");
            out.println();
            out.println(limit == null ? "Press Ctrl-C to stop." : "Stopping in " + Durations.format(limit) + ".");
            out.flush();
            try {
                if (limit == null) {
                    stop.await();
                } else {
                    stop.await(limit.toMillis(), TimeUnit.MILLISECONDS);
                    Runtime.getRuntime().removeShutdownHook(hook);
                }
            } finally {
                control.stop(0);
                deleteQuietly(dir.resolve(CONTROL));
            }
        }
        return ExitCodes.OK;
    }

    /** The file in --dir that names the running environment's control endpoint, for {@code local break}. */
    static final String CONTROL = "control-url";

    /**
     * A loopback endpoint that takes one {@code --break} value per POST, so {@code local break} can break a release
     * while the environment runs. Its URL goes to {@value #CONTROL} in --dir; it answers 200 with what now fails, or
     * 400 with why the value was refused.
     */
    private HttpServer control(LocalEnvironment env) {
        try {
            HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
            server.createContext("/break", exchange -> {
                try (exchange) {
                    int status;
                    String answer;
                    if (!"POST".equals(exchange.getRequestMethod())) {
                        status = 405;
                        answer = "POST a --break value such as 1.1.0=crash";
                    } else {
                        String text = new String(exchange.getRequestBody().readNBytes(1024), StandardCharsets.UTF_8).strip();
                        try {
                            answer = apply(env, Break.parse(text));
                            status = 200;
                        } catch (UsageException | IllegalArgumentException e) {
                            status = 400;
                            answer = e.getMessage().startsWith("--break: ") ? e.getMessage() : "--break: " + e.getMessage();
                        }
                    }
                    byte[] body = (answer + "\n").getBytes(StandardCharsets.UTF_8);
                    exchange.sendResponseHeaders(status, body.length);
                    exchange.getResponseBody().write(body);
                }
            });
            server.start();
            Files.writeString(dir.resolve(CONTROL), "http://" + InetAddress.getLoopbackAddress().getHostAddress() + ":"
                    + server.getAddress().getPort() + "/break\n");
            return server;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start the local environment's control endpoint: " + e.getMessage(), e);
        }
    }

    private static String apply(LocalEnvironment env, Break b) {
        String digest = b.how() == LocalEnvironment.Breakage.OVERLOAD
                ? env.overloadRelease(b.release(), b.sides(), b.capacity(), b.percent())
                : env.breakRelease(b.release(), b.how(), b.sides(), b.percent());
        String what = switch (b.how()) {
            case PULL -> "fails to pull";
            case CRASH -> "fails to run (it crashes)";
            case STALL -> "never starts nor fails (it stalls)";
            case ERRORS -> "serves errors (" + (b.percent() == Math.rint(b.percent()) ? String.valueOf((long) b.percent())
                    : String.valueOf(b.percent())) + "% of its requests)";
            case OVERLOAD -> "serves errors (" + (long) b.percent() + "% of its requests) while its side serves more than "
                    + (long) b.capacity() + " requests a second (a cutover step past it fails)";
        };
        // Errors show only in a gate's metrics: without one, say so rather than let a deploy pass unexplained.
        String unseen = (b.how() == LocalEnvironment.Breakage.ERRORS || b.how() == LocalEnvironment.Breakage.OVERLOAD) && env.gate().isEmpty()
                ? " (the stages have no gate, so no deploy notices; start 'local' without --no-gate)" : "";
        return b.release() + " (" + Release.shortDigest(digest) + ") " + what + " on " + Side.labels(b.sides()) + unseen;
    }

    private static void deleteQuietly(Path file) {
        try {
            Files.deleteIfExists(file);
        } catch (IOException e) {
            // A stale control file only makes a later 'local break' say the environment does not answer.
        }
    }

    /** {@code dualdeploy local break}: marks a sample release as failing in the environment {@code local} runs. */
    @Command(name = "break", mixinStandardHelpOptions = true, footer = ExitCodes.HELP,
            description = {"Make a sample release fail in the running local environment (started by 'dualdeploy local'"
                    + " with the same --dir), from now on: the same values as 'local --break'.",
                    "For example: dualdeploy local break 1.1.0=crash 1.1.1=pull:legacy"})
    static final class BreakCommand implements Callable<Integer> {

        @Spec
        CommandSpec spec;

        @Option(names = "--dir", defaultValue = "dualdeploy-local", paramLabel = "DIR",
                description = "The --dir the local environment was started with (default: ${DEFAULT-VALUE}).")
        Path dir;

        @Parameters(arity = "1..*", paramLabel = "RELEASE=HOW[:SIDE]",
                description = "RELEASE is a tag (1.1.0) or a sha256: digest; HOW is pull, crash, errors[:PERCENT]"
                        + " (default 20%%) or overload[:CAPACITY] (default 800rps); SIDE is legacy or kubernetes (default: both).")
        List<String> breaks;

        @Override
        public Integer call() {
            breaks.forEach(Break::parse);
            Path file = dir.resolve(CONTROL);
            URI url;
            try {
                url = URI.create(Files.readString(file).strip());
            } catch (IOException | IllegalArgumentException e) {
                throw new TargetException("no local environment is running with --dir " + dir + " (no readable " + file
                        + "); start one with 'dualdeploy local --dir " + dir + "'");
            }
            HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
            PrintWriter out = spec.commandLine().getOut();
            for (String text : breaks) {
                HttpResponse<String> response;
                try {
                    response = http.send(HttpRequest.newBuilder(url).timeout(Duration.ofSeconds(10))
                            .POST(HttpRequest.BodyPublishers.ofString(text)).build(), HttpResponse.BodyHandlers.ofString());
                } catch (IOException e) {
                    throw new TargetException("the local environment of --dir " + dir + " does not answer at " + url
                            + " (has it stopped?); start one with 'dualdeploy local --dir " + dir + "'");
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return ExitCodes.NEEDS_ATTENTION;
                }
                if (response.statusCode() != 200) {
                    throw new UsageException(response.body().strip());
                }
                out.println("broken: " + response.body().strip());
            }
            return ExitCodes.OK;
        }
    }

    private LocalEnvironment start(String initialVersion) {
        try {
            return LocalEnvironment.start(dir, initialVersion, 2, registryPort,
                    gate ? Optional.of(LocalEnvironment.GateTiming.DEFAULT) : Optional.empty());
        } catch (UncheckedIOException e) {
            // The directory cannot be written or the registry port is taken: the person's input, not a bug.
            throw new UsageException(e.getMessage());
        }
    }
}
