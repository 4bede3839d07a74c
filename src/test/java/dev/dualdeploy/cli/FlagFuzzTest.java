package dev.dualdeploy.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.dualdeploy.testing.Cli;
import dev.dualdeploy.testing.LoopbackListener;
import dev.dualdeploy.text.Text;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine;

/**
 * Issue 8 item 15 (flag sets): a seeded generator of malformed command lines for every subcommand, run in-process
 * against a config whose every endpoint (ECS, Kubernetes, Prometheus, the http check, the registry) is a loopback
 * listener that counts connections. The contract for each case: exit 2, exactly one {@code error:} line on stderr
 * (and at most one {@code hint:} line), no stack trace, no raw control character, under {@code --output json} a JSON
 * result with exitCode 2 on stdout (else nothing on stdout), no connection, and a bounded time.
 *
 * <p>The seed is fixed so that a failure can be replayed; change {@link #SEED} to explore further.
 */
class FlagFuzzTest {

    static final long SEED = 20261201L;
    /** At least 10,000 by default; {@code -Ddualdeploy.fuzz.cases=N} for a quicker or a longer run. */
    static final int CASES = Integer.getInteger("dualdeploy.fuzz.cases", 10_000);
    /** Far above what a rejected command line takes (milliseconds), far below the minutes the issue saw. */
    static final Duration PER_CASE = Duration.ofSeconds(5);
    static final String DIGEST = "sha256:" + "0".repeat(64);
    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path dir;
    static LoopbackListener listener;
    static String config;
    static String planted;
    static String registry;

    @BeforeAll
    static void start() throws IOException {
        listener = LoopbackListener.counting();
        String url = listener.url();
        registry = "127.0.0.1:" + listener.port();
        Path kubeconfig = dir.resolve("kubeconfig");
        Files.writeString(kubeconfig, """
                apiVersion: v1
                kind: Config
                clusters: [ { name: c, cluster: { server: '%s' } } ]
                users: [ { name: u, user: { token: fuzz-token } } ]
                contexts: [ { name: sandbox, context: { cluster: c, user: u } } ]
                current-context: sandbox
                """.formatted(url));
        Path yaml = dir.resolve("dualdeploy.yaml");
        Files.writeString(yaml, """
                service: loan-api
                image: registry.example.com/loan-api@%2$s
                branches:
                  main: [sandbox, prod]
                stages:
                  - name: sandbox
                    legacy: { ecs: { cluster: sandbox, service: loan-api, container: app, region: eu-west-1, endpoint: '%1$s' } }
                    kubernetes: { namespace: loan, deployment: loan-api, container: app, kubeconfig: '%3$s', context: sandbox }
                    gate:
                      soak: 10s
                      interval: 5s
                      checks:
                        - http: { url: '%1$s/health' }
                        - slo: { metric: error_rate, max: 0.01 }
                      metrics:
                        provider: prometheus
                        address: '%1$s'
                        queries:
                          error_rate: 'sum(rate(errors[{{window}}]))'
                  - name: prod
                    kubernetes: { namespace: loan, deployment: loan-api, container: app, kubeconfig: '%3$s', context: sandbox }
                """.formatted(url, DIGEST, kubeconfig));
        config = yaml.toString();
        Path secrets = dir.resolve("environ");
        Files.writeString(secrets, "AWS_SECRET_ACCESS_KEY=fuzz-planted-secret\nHOME=/root\n");
        planted = secrets.toString();
        assertThat(Cli.run("validate", "-f", config).code()).as("the fuzz config itself is valid").isZero();
    }

    @AfterAll
    static void stop() throws IOException {
        listener.close();
    }

    /** One generated command line and what it should print on stdout. */
    record Case(String command, List<String> args, List<String> mutations, boolean json) {
    }

    @Test
    void malformedFlagSetsAreExit2WithOneLineAndNoNetworkCall() throws Exception {
        Generator generator = new Generator(new Random(SEED));
        List<Case> cases = new ArrayList<>();
        Map<String, Integer> perCommand = new TreeMap<>();
        Map<String, Integer> perMutation = new TreeMap<>();
        for (int i = 0; i < CASES; i++) {
            Case c = generator.next();
            cases.add(c);
            perCommand.merge(c.command(), 1, Integer::sum);
            c.mutations().forEach(m -> perMutation.merge(m, 1, Integer::sum));
        }
        // Generated in order (so the seed replays them), run on every core: a case is a few milliseconds of picocli
        // and config parsing, and 10,000 of them one after the other would take most of a minute.
        int threads = Math.max(2, Runtime.getRuntime().availableProcessors());
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        long started = System.nanoTime();
        List<Future<Outcome>> futures = new ArrayList<>();
        for (Case c : cases) {
            futures.add(pool.submit(() -> {
                long t0 = System.nanoTime();
                Cli.Run run = Cli.run(c.args().toArray(String[]::new));
                return new Outcome(run, System.nanoTime() - t0);
            }));
        }
        List<String> violations = new ArrayList<>();
        long slowest = 0;
        int multiProblem = 0;
        for (int i = 0; i < cases.size(); i++) {
            Outcome outcome = futures.get(i).get();
            slowest = Math.max(slowest, outcome.nanos());
            String problem = violation(cases.get(i), outcome.run(), outcome.nanos());
            multiProblem += outcome.run().err().lines().filter(l -> l.startsWith("error: ")).count() > 1 ? 1 : 0;
            if (problem != null) {
                violations.add(describe(i, cases.get(i), outcome.run(), problem));
            }
        }
        pool.shutdown();
        long total = (System.nanoTime() - started) / 1_000_000;
        int connections = listener.connections();
        if (connections > 0) {
            // Which case connected cannot be told while they run at once: replay them one by one to name it.
            for (int i = 0; i < cases.size(); i++) {
                int before = listener.connections();
                Cli.Run run = Cli.run(cases.get(i).args().toArray(String[]::new));
                if (listener.connections() > before) {
                    violations.add(describe(i, cases.get(i), run, (listener.connections() - before) + " connection(s) to the platforms"));
                }
            }
        }
        System.out.printf("flag fuzz (seed %d): %d cases, violations: %d, connections: %d, %d ms on %d threads, slowest case %d ms,"
                        + " %d cases with several config problems (one error line each)%n  per command %s%n  per mutation %s%n",
                SEED, CASES, violations.size(), connections, total, threads, slowest / 1_000_000, multiProblem, perCommand, perMutation);
        assertThat(perCommand.keySet()).as("every subcommand is fuzzed")
                .containsAll(new CommandLine(new DualDeployCommand()).getSubcommands().keySet().stream()
                        .filter(n -> !n.equals("help")).toList());
        assertThat(violations.size()).as("violations; the first 20:%n%s", String.join("\n", violations.subList(0, Math.min(20, violations.size()))))
                .isZero();
        assertThat(connections).as("connections to the platforms").isZero();
    }

    /** One case's run and how long it took. */
    record Outcome(Cli.Run run, long nanos) {
    }

    private static String describe(int i, Case c, Cli.Run run, String problem) {
        return "case " + i + " " + c.mutations() + ": " + problem + "\n    args: " + Text.line(String.join(" ", c.args()), 300)
                + "\n    stderr: " + Text.line(run.err(), 300);
    }

    /** What is wrong with one run, or null if it kept the contract. */
    private static String violation(Case c, Cli.Run run, long tookNanos) {
        if (tookNanos > PER_CASE.toNanos()) {
            return "took " + tookNanos / 1_000_000 + " ms";
        }
        if (run.code() != 2) {
            return "exit " + run.code();
        }
        List<String> lines = run.err().lines().toList();
        if (run.err().contains("\tat ") || run.err().contains("Caused by:")) {
            return "a stack trace";
        }
        if (lines.isEmpty() || !lines.get(0).startsWith("error: ")) {
            return "stderr does not start with 'error: '";
        }
        // One line per problem of a config is the loader's contract (validate reports them all at once); only an
        // override can bring several, such as {"stages": 7}, which also leaves branches: naming stages that are gone.
        long errors = lines.stream().filter(l -> l.startsWith("error: ")).count();
        boolean manyAllowed = c.mutations().contains("bad --override") && errors == lines.size();
        if (!manyAllowed && (lines.size() > 2 || (lines.size() == 2 && !lines.get(1).startsWith("hint: ")))) {
            return "stderr has " + lines.size() + " lines";
        }
        for (char ch : run.err().toCharArray()) {
            if (ch != '\n' && (ch < 0x20 || (ch >= 0x7f && ch <= 0x9f))) {
                return String.format("a raw control character U+%04X on stderr", (int) ch);
            }
        }
        if (!c.json()) {
            return run.out().isEmpty() ? null : "stdout is not empty without --output json";
        }
        try {
            JsonNode json = JSON.readTree(run.out());
            if (json == null || json.path("exitCode").asInt(-1) != 2 || json.path("command").asText().isEmpty()) {
                return "the JSON has no exitCode 2 or no command: " + Text.line(run.out(), 200);
            }
            String error = json.path("error").asText();
            if (error.isEmpty() || error.contains("\n")) {
                return "the JSON error is not one line: " + Text.line(error, 200);
            }
        } catch (IOException e) {
            return "stdout is not JSON: " + Text.line(run.out(), 200);
        }
        return null;
    }

    /** Makes malformed command lines: a valid base per subcommand, then one to three mutations that each break it. */
    final class Generator {

        private final Random random;
        private final Map<String, List<String>> bases = new LinkedHashMap<>();
        private final Map<String, CommandSpec> specs = new LinkedHashMap<>();
        private final Set<String> knownNames = new HashSet<>();
        private String missing;

        Generator(Random random) {
            this.random = random;
            String ref = "registry.example.com/loan-api@" + DIGEST;
            bases.put("validate", List.of("-f", config));
            bases.put("stages", List.of("-f", config, "--branch", "main"));
            bases.put("plan", List.of("-f", config, "--stage", "sandbox", "--image", ref));
            bases.put("deploy", List.of("-f", config, "--stage", "sandbox", "--image", ref, "--release-version", "1.0.0"));
            bases.put("gate", List.of("-f", config, "--stage", "sandbox"));
            bases.put("cutover", List.of("-f", config, "--stage", "sandbox", "--to", "10"));
            bases.put("status", List.of("-f", config));
            bases.put("rollback", List.of("-f", config, "--stage", "sandbox"));
            bases.put("approval", List.of("-f", config, "--stage", "sandbox", "--approved", "--by", "alice", "--journal",
                    dir.resolve("approvals").toString()));
            bases.put("release", List.of("--image", registry + "/loan-api:1.0.0"));
            bases.put("local", List.of("--dir", dir.resolve("local").toString(), "--for", "1s"));
            bases.put("demo", List.of("--quiet", "--dir", dir.resolve("demo").toString()));
            bases.put("bench", List.of("gates", "--releases", "10"));
            // history reads only the journal (no config, no platform), so a well-formed run id that is not in it is the
            // base: every mutation must still end in exit 2 with one line (issue 9).
            bases.put("history", List.of("--journal", dir.resolve("journal").toString(), "--run", "20261201T000000.000Z-0000000000000000"));
            CommandLine root = new CommandLine(new DualDeployCommand());
            for (String name : bases.keySet()) {
                CommandSpec spec = root.getSubcommands().get(name).getCommandSpec();
                specs.put(name, spec);
                spec.options().forEach(o -> knownNames.addAll(List.of(o.names())));
            }
            knownNames.addAll(List.of("--help", "--version", "-h", "-V"));
        }

        Case next() {
            List<String> names = new ArrayList<>(bases.keySet());
            String command = names.get(random.nextInt(names.size()));
            CommandSpec spec = specs.get(command);
            List<String> args = new ArrayList<>(bases.get(command));
            List<String> applied = new ArrayList<>();
            int count = 1 + (random.nextInt(4) == 0 ? 1 + random.nextInt(2) : 0);
            boolean badOutput = false;
            while (applied.size() < count) {
                String mutation = mutate(command, spec, args);
                if (mutation != null) {
                    applied.add(mutation);
                    badOutput |= mutation.equals("bad --output");
                }
            }
            if (missing != null) {
                args.add(missing);
                missing = null;
            }
            boolean json = !badOutput && random.nextBoolean();
            if (json) {
                args.addAll(List.of("--output", "json"));
            }
            args.add(0, command);
            return new Case(command, args, applied, json);
        }

        /** Applies one mutation that makes the command line invalid; null if the one drawn does not apply here. */
        private String mutate(String command, CommandSpec spec, List<String> args) {
            boolean readsConfig = has(spec, "--file");
            switch (random.nextInt(17)) {
                case 0 -> {
                    String name;
                    do {
                        name = "--" + word();
                    } while (knownNames.contains(name));
                    insert(args, random.nextBoolean() ? name : name + "=" + value(v -> true));
                    return "unknown option";
                }
                case 1 -> {
                    String letters = "abcdegijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUWXYZ";
                    insert(args, "-" + letters.charAt(random.nextInt(letters.length())));
                    return "unknown short option";
                }
                case 2 -> {
                    insert(args, value(v -> !v.startsWith("-") && !v.isEmpty()));
                    return "stray argument";
                }
                case 3 -> {
                    // Added last (see next()), because an unknown option-like word after it would be taken as its value.
                    List<OptionSpec> valued = spec.options().stream().filter(o -> o.arity().min() >= 1).toList();
                    missing = valued.get(random.nextInt(valued.size())).longestName();
                    return "missing value";
                }
                case 4 -> {
                    String required = switch (command) {
                        case "plan", "deploy", "gate", "rollback", "approval", "cutover" -> "--stage";
                        case "release" -> "--image";
                        default -> null;
                    };
                    if (required != null && args.contains(required)) {
                        // Every occurrence: "option twice" may have given it again.
                        for (int at = args.indexOf(required); at >= 0; at = args.indexOf(required)) {
                            args.remove(at);
                            if (at < args.size()) {
                                args.remove(at);
                            }
                        }
                        return "missing required option";
                    }
                    if (command.equals("bench") && args.removeIf("gates"::equals)) {
                        return "missing required option";
                    }
                    return null;
                }
                case 5 -> {
                    List<OptionSpec> flags = spec.options().stream()
                            .filter(o -> (o.type() == boolean.class || o.type() == Boolean.class) && !o.usageHelp() && !o.versionHelp())
                            .toList();
                    String flag = flags.get(random.nextInt(flags.size())).longestName();
                    // An empty value after '=' means true to picocli, so the value is never blank.
                    insert(args, flag + "=" + value(v -> !v.isBlank() && !v.strip().equalsIgnoreCase("true")
                            && !v.strip().equalsIgnoreCase("false")));
                    return "not a boolean";
                }
                case 6 -> {
                    if (!has(spec, "--output")) {
                        return null;
                    }
                    set(args, "--output", value(v -> !v.equals("text") && !v.equals("json")));
                    return "bad --output";
                }
                case 7 -> {
                    if (command.equals("rollback")) {
                        set(args, "--side", value(v -> !List.of("legacy", "kubernetes", "both").contains(v)));
                        return "bad --side";
                    }
                    if (command.equals("gate")) {
                        set(args, random.nextBoolean() ? "--side" : "--deployed-at",
                                value(v -> !List.of("legacy", "kubernetes").contains(v)));
                        return "bad --side or --deployed-at";
                    }
                    return null;
                }
                case 8 -> {
                    if (has(spec, "--stage")) {
                        set(args, "--stage", value(v -> !List.of("sandbox", "prod").contains(v)));
                        return "unknown stage";
                    }
                    if (command.equals("stages")) {
                        // --only splits at commas, and an empty list means "no --only": keep one non-empty name.
                        set(args, random.nextBoolean() ? "--only" : "--stop-after",
                                "x" + value(v -> true).replace(',', '_'));
                        return "unknown stage";
                    }
                    return null;
                }
                case 9 -> {
                    if (!has(spec, "--image")) {
                        return null;
                    }
                    List<String> bad = new ArrayList<>(List.of("Registry/Loan@sha256:1", "a/b@sha256:" + "0".repeat(63),
                            value(v -> true) + "!", "@" + planted, "x/".repeat(1 + random.nextInt(60)) + "!",
                            "X".repeat(1 + random.nextInt(200_000))));
                    if (!command.equals("release")) {
                        bad.add("registry.example.com/loan-api:1.0.0");
                    }
                    set(args, "--image", bad.get(random.nextInt(bad.size())));
                    return "bad image";
                }
                case 10 -> {
                    if (!readsConfig) {
                        return null;
                    }
                    List<String> files = List.of(dir.resolve("missing-" + word() + ".yaml").toString(), value(v -> !v.isEmpty()),
                            dir + "/no\nsuch\u0000" + word(), "@" + planted);
                    set(args, "--file", files.get(random.nextInt(files.size())));
                    return "bad --file";
                }
                case 11 -> {
                    if (!readsConfig) {
                        return null;
                    }
                    List<String> overrides = List.of("{", "[1, 2]", "\"" + word() + "\"", "42", "null", "x" + value(v -> true),
                            "{\"zz_" + word() + "\": 1}", "{\"stages\": 7}", "@" + planted, "{\"service\": {\"a\": [" + "1,".repeat(50) + "1]}}");
                    set(args, "--override", overrides.get(random.nextInt(overrides.size())));
                    return "bad --override";
                }
                case 12 -> {
                    // '@file' where the value, taken literally, is invalid.
                    List<String> strict = new ArrayList<>(List.of("--stage", "--image", "--file", "--output", "--override", "--side",
                            "--deployed-at", "--releases", "--seed", "--for", "--only", "--stop-after"));
                    strict.removeIf(name -> !has(spec, name));
                    if (strict.isEmpty()) {
                        insert(args, "@" + planted);
                    } else {
                        set(args, strict.get(random.nextInt(strict.size())), "@" + planted);
                    }
                    return "@file";
                }
                case 13 -> {
                    List<String> once = new ArrayList<>();
                    for (int i = 0; i + 1 < args.size(); i++) {
                        OptionSpec option = spec.findOption(args.get(i));
                        if (option != null && option.arity().min() >= 1 && !List.class.isAssignableFrom(option.type())) {
                            once.add(args.get(i));
                        }
                    }
                    if (once.isEmpty()) {
                        return null;
                    }
                    String name = once.get(random.nextInt(once.size()));
                    args.addAll(List.of(name, args.get(args.indexOf(name) + 1)));
                    return "option twice";
                }
                case 14 -> {
                    if (!command.equals("bench")) {
                        return null;
                    }
                    switch (random.nextInt(3)) {
                        case 0 -> {
                            String name = value(v -> !v.equals("gates") && !v.equals("chaos") && !v.startsWith("-") && !v.isEmpty());
                            if (args.contains("gates")) {
                                args.set(args.indexOf("gates"), name);
                            } else {
                                args.add(0, name);
                            }
                        }
                        case 1 -> set(args, "--releases", List.of("9", "0", "-5", "2147483648", "99999999999999999999", "1e3", word())
                                .get(random.nextInt(7)));
                        default -> set(args, "--seed", List.of("9223372036854775808", "-9223372036854775809", "1.5", "0x10", word() + "!")
                                .get(random.nextInt(5)));
                    }
                    return "bad bench value";
                }
                case 15 -> {
                    if (!command.equals("local")) {
                        return null;
                    }
                    set(args, "--for", value(v -> true) + "!");
                    return "bad --for";
                }
                default -> {
                    // Huge numbers where any number is invalid.
                    // At least 19 digits: 10 to 18 nines still fit the long of --seed, which made the case valid.
                    String huge = random.nextBoolean() ? "9".repeat(19 + random.nextInt(391)) : "-" + "9".repeat(20);
                    List<String> targets = new ArrayList<>(List.of("--stage", "--side", "--output", "--releases", "--seed"));
                    targets.removeIf(name -> !has(spec, name));
                    if (targets.isEmpty()) {
                        insert(args, huge);
                        return "stray argument";
                    }
                    String target = targets.get(random.nextInt(targets.size()));
                    set(args, target, huge);
                    return "huge number";
                }
            }
        }

        private boolean has(CommandSpec spec, String name) {
            return spec.findOption(name) != null;
        }

        /** Inserts an argument anywhere after the subcommand's own first argument position. */
        private void insert(List<String> args, String arg) {
            args.add(random.nextInt(args.size() + 1), arg);
        }

        /** Sets an option's value: replaces the value after it where present, else adds both. */
        private void set(List<String> args, String name, String value) {
            int at = args.indexOf(name);
            if (at < 0 && name.equals("--file")) {
                at = args.indexOf("-f");
            }
            if (at >= 0 && at + 1 < args.size()) {
                args.set(at + 1, value);
            } else {
                args.addAll(List.of(name, value));
            }
        }

        private String word() {
            String letters = "abcdefghijklmnopqrstuvwxyz0123456789-_";
            StringBuilder word = new StringBuilder().append((char) ('a' + random.nextInt(26)));
            for (int i = random.nextInt(12); i > 0; i--) {
                word.append(letters.charAt(random.nextInt(letters.length())));
            }
            return word.toString();
        }

        /** A hostile value: control characters, megabytes, huge numbers, unicode, '@file', empty, option-like. */
        private String value(Predicate<String> acceptable) {
            while (true) {
                String value = switch (random.nextInt(9)) {
                    case 0, 1 -> word();
                    case 2 -> word() + List.of("\n", "\r", "\t", "\u0000", "\u001b[31m", "\u0007", "\u007f", "\u202e", "\u0085")
                            .get(random.nextInt(9)) + word();
                    case 3 -> String.valueOf((char) ('a' + random.nextInt(26))).repeat(1_000 + random.nextInt(200_000));
                    case 4 -> List.of("9".repeat(30), "-1", "0", "1e400", "NaN", "-9223372036854775809").get(random.nextInt(6));
                    case 5 -> "ü→漢字" + word();
                    case 6 -> "@" + planted;
                    case 7 -> random.nextBoolean() ? "" : " ";
                    default -> "--" + word();
                };
                if (acceptable.test(value)) {
                    return value;
                }
            }
        }
    }
}
