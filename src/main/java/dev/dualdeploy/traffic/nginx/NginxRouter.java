package dev.dualdeploy.traffic.nginx;

import dev.dualdeploy.config.RouterSpec;
import dev.dualdeploy.net.Faults;
import dev.dualdeploy.net.Timeouts;
import dev.dualdeploy.text.Text;
import dev.dualdeploy.time.Sleeper;
import dev.dualdeploy.traffic.Split;
import dev.dualdeploy.traffic.TrafficException;
import dev.dualdeploy.traffic.TrafficRouter;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;

/**
 * The Kubernetes share of an nginx's traffic, set by an include file that dualdeploy owns and read back from the running
 * nginx. The file holds a {@code split_clients} block on {@code $request_id} that sets {@code $<variable>} to one of the
 * two upstreams' names (the user writes {@code proxy_pass http://$<variable>;}), and a variable
 * {@code $<variable>_split} that says which generation and share it is; the user's probe location sends that back as
 * the {@value #HEADER} header.
 *
 * <p>Why a variable and not an {@code add_header} in the include itself: an {@code add_header} at {@code http} level is
 * dropped by every server or location that has an {@code add_header} of its own (HSTS, CORS), which is most real
 * configurations, and it would tell every client the split. The probe location sends it only where it is asked for.
 *
 * <p>Every {@link #set} takes the lock {@code <file>.lock}, writes the new file beside the old one and renames it in
 * place, runs the test command, and on success the reload command; if either fails, the old file is put back byte for
 * byte. It returns once the running nginx reports the new generation: a reload is asynchronous, and only the probe
 * says what the workers that answer requests apply. Reading never looks at the file.
 */
public final class NginxRouter implements TrafficRouter {

    /** The response header the probe location sends, carrying {@code $<variable>_split}. */
    public static final String HEADER = "X-Dualdeploy-Split";
    /** The first wait between two probes while nginx reloads; it doubles up to {@link #LONGEST_PAUSE}. */
    static final Duration FIRST_PAUSE = Duration.ofMillis(50);
    static final Duration LONGEST_PAUSE = Duration.ofSeconds(1);
    /** How long the new generation must go on being reported before the old workers count as gone (see {@link #await}). */
    static final Duration SETTLE = Duration.ofMillis(250);
    /** The shortest wait for a probe's answer, even at the deadline. */
    static final Duration LAST_PROBE = Duration.ofMillis(500);

    private final RouterSpec.Nginx spec;
    private final IncludeFile file;
    private final Clock clock;
    private final Sleeper sleeper;
    private final HttpClient http;

    /**
     * A router on the spec's file and probe; time is injected so that tests step the read-back instead of waiting it out.
     *
     * @throws TrafficException if a name could not be written safely into nginx's configuration, the probe is not an
     *                          http(s) URL, or the timeout is not positive
     */
    public NginxRouter(RouterSpec.Nginx spec, Clock clock, Sleeper sleeper) {
        Include.validate(spec.legacyUpstream(), spec.kubernetesUpstream(), spec.variable());
        String scheme = spec.probe().getScheme();
        if (!("http".equalsIgnoreCase(scheme) || "https".equalsIgnoreCase(scheme)) || spec.probe().getHost() == null) {
            throw new TrafficException("the nginx router's probe " + Text.foreign(Text.redactUrl(spec.probe().toString()))
                    + " is not an http or https URL, such as http://127.0.0.1/__dualdeploy");
        }
        if (spec.timeout().isNegative() || spec.timeout().isZero()) {
            throw new TrafficException("the nginx router's timeout must be positive, such as 30s");
        }
        this.spec = spec;
        this.file = new IncludeFile(spec.file());
        this.clock = clock;
        this.sleeper = sleeper;
        this.http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).followRedirects(HttpClient.Redirect.NEVER)
                .connectTimeout(shorter(Timeouts.current().connect(), spec.timeout())).build();
    }

    /**
     * The router for production: the real clock. nginx needs no credential (the probe location is to be reachable from
     * where dualdeploy runs, and nowhere else), so {@code environment} is not read; it is taken for the same shape as
     * the other routers' factories.
     */
    public static NginxRouter open(RouterSpec.Nginx spec, Function<String, String> environment) {
        return new NginxRouter(spec, Clock.systemUTC(), Sleeper.SYSTEM);
    }

    /**
     * The text dualdeploy writes into the include file for this split and generation (the README quotes one).
     *
     * @throws TrafficException if a name in the spec could not be written safely into nginx's configuration
     */
    public static String include(RouterSpec.Nginx spec, Split split, long generation) {
        Include.validate(spec.legacyUpstream(), spec.kubernetesUpstream(), spec.variable());
        if (generation < 1 || generation > Include.LAST_GENERATION + 1) {
            throw new IllegalArgumentException("a generation is from 1 to " + (Include.LAST_GENERATION + 1) + ", not " + generation);
        }
        return Include.text(spec.legacyUpstream(), spec.kubernetesUpstream(), spec.variable(), Include.basisPoints(split), generation);
    }

    /** Reads the split the running nginx applies from its probe location; the file is not looked at. */
    @Override
    public Split read() {
        return probe(shorter(Timeouts.current().read(), spec.timeout())).split();
    }

    /**
     * Writes, tests and reloads the split, then waits until the running nginx reports it. Setting the split the running
     * nginx already applies from the current file writes nothing and reloads nothing.
     *
     * @throws TrafficException if the file cannot be written or is not ours, the test or reload fails (the old file is
     *                          then back in place), or nginx does not report the new generation within the timeout
     */
    @Override
    public void set(Split split) {
        int basisPoints = Include.basisPoints(split);
        Instant deadline = clock.instant().plus(spec.timeout());
        try (IncludeFile.Held lock = file.lock(clock, sleeper, deadline)) {
            byte[] old = file.current();
            long generation = old == null ? 0 : IncludeFile.generation(old).orElseThrow();
            if (old != null && applied(old, generation, basisPoints, deadline)) {
                return;
            }
            if (generation > Include.LAST_GENERATION) {
                throw new TrafficException("the nginx include " + IncludeFile.shown(file.path()) + " is at generation " + generation
                        + ", the last one; remove it to start again at 1");
            }
            long next = generation + 1;
            String wanted = "generation " + next + " (" + Include.percent(basisPoints) + "% on kubernetes)";
            file.install(Include.text(spec.legacyUpstream(), spec.kubernetesUpstream(), spec.variable(), basisPoints, next)
                    .getBytes(StandardCharsets.UTF_8));
            try {
                run("test", spec.test(), deadline, wanted);
                run("reload", spec.reload(), deadline, wanted);
            } catch (TrafficException e) {
                throw restored(e, old);
            }
            await(next, basisPoints, deadline, wanted);
        }
    }

    @Override
    public String describe() {
        return "nginx include " + IncludeFile.shown(file.path()) + " (probe " + probeShown() + ")";
    }

    /** Whether the file already holds this split and the running nginx applies exactly that file's generation. */
    private boolean applied(byte[] old, long generation, int basisPoints, Instant deadline) {
        String same = Include.text(spec.legacyUpstream(), spec.kubernetesUpstream(), spec.variable(), basisPoints, generation);
        if (!new String(old, StandardCharsets.UTF_8).equals(same)) {
            return false;
        }
        try {
            Include.State running = probe(left(deadline));
            return running.generation() == generation && running.basisPoints() == basisPoints;
        } catch (TrafficException unreadable) {
            return false; // write, test and reload as for any change; the read-back after it says what is wrong
        }
    }

    private void run(String what, List<String> argv, Instant deadline, String wanted) {
        Command.Result result = Command.run(what, argv, Duration.between(clock.instant(), deadline), spec.timeout());
        if (result.exit() != 0) {
            throw new TrafficException("nginx's " + what + " command " + Command.show(argv) + " failed (exit " + result.exit()
                    + ") on " + wanted + ": " + Command.quote(result.output()));
        }
    }

    /** Puts the old file back after a failed test or reload, and says so (or says that it could not). */
    private TrafficException restored(TrafficException failure, byte[] old) {
        try {
            file.restore(old);
        } catch (TrafficException e) {
            return new TrafficException(failure.getMessage() + "; and the old include could not be put back: " + e.getMessage(),
                    failure);
        }
        return new TrafficException(failure.getMessage() + "; " + IncludeFile.shown(file.path()) + " is as it was before", failure);
    }

    /**
     * Waits, with backoff, until the probe reports the generation just written, and reports it again after
     * {@link #SETTLE}: nginx's master lets the old workers go on accepting connections for 100 ms after it started the
     * new ones (it sleeps before telling them to stop), so one answer from a new worker does not yet mean that every new
     * request gets the new split. The old workers then finish the requests they hold and exit.
     */
    private void await(long generation, int basisPoints, Instant deadline, String wanted) {
        Duration pause = FIRST_PAUSE;
        boolean seen = false;
        while (true) {
            Include.State running = null;
            String last;
            try {
                running = probe(left(deadline));
                last = "still reports " + running.describe();
            } catch (TrafficException unreadable) {
                // Between the reload and its new workers, the probe may briefly find no one answering: ask again.
                last = "could not be read: " + unreadable.getMessage();
            }
            boolean applied = running != null && running.generation() == generation && running.basisPoints() == basisPoints;
            if (applied && seen) {
                return;
            }
            if (running != null && running.generation() > generation) {
                throw new TrafficException("the running nginx (probe " + probeShown() + ") reports " + running.describe()
                        + ", newer than the " + wanted + " just written: something else writes the include "
                        + IncludeFile.shown(file.path()) + " without dualdeploy's lock");
            }
            Instant now = clock.instant();
            if (!now.isBefore(deadline)) {
                throw new TrafficException("nginx did not apply " + wanted + " within " + Command.seconds(spec.timeout())
                        + " after its reload: the running nginx (probe " + probeShown() + ") " + last + "; "
                        + IncludeFile.shown(file.path()) + " holds generation " + generation
                        + ", which nginx applies at its next reload");
            }
            if (Thread.currentThread().isInterrupted()) {
                // An interrupted sleep returns at once: without this the wait would spin until the deadline.
                throw new TrafficException("interrupted while waiting for nginx to apply " + wanted + "; the running nginx (probe "
                        + probeShown() + ") " + last);
            }
            Duration left = Duration.between(now, deadline);
            seen = applied;
            Duration wait = applied ? SETTLE : pause;
            sleeper.sleep(wait.compareTo(left) < 0 ? wait : left);
            pause = applied ? pause : shorter(pause.multipliedBy(2), LONGEST_PAUSE);
        }
    }

    /** One GET of the probe, and the state its header carries. */
    private Include.State probe(Duration timeout) {
        HttpRequest request = HttpRequest.newBuilder(spec.probe()).timeout(timeout).GET().build();
        HttpResponse<Void> response;
        try {
            response = http.send(request, HttpResponse.BodyHandlers.discarding());
        } catch (IOException e) {
            throw new TrafficException("cannot read the split from nginx at " + probeShown() + ": "
                    + Text.foreign(Faults.describe(e, probeShown(), timeout)));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new TrafficException("interrupted while reading the split from nginx at " + probeShown());
        }
        List<String> values = response.headers().allValues(HEADER);
        if (values.size() != 1) {
            throw new TrafficException("nginx's probe " + probeShown() + " answered HTTP " + response.statusCode() + " with "
                    + (values.isEmpty() ? "no " + HEADER + " header" : values.size() + " " + HEADER + " headers")
                    + "; its location must send exactly one: add_header " + HEADER + " $" + Include.stateVariable(spec.variable()) + " always;");
        }
        Optional<Include.State> state = Include.parse(values.get(0));
        if (state.isEmpty()) {
            throw new TrafficException("nginx's probe " + probeShown() + " answered " + HEADER + ": \"" + Text.foreign(values.get(0))
                    + "\", which is not a split dualdeploy writes"
                    + " (generation=N kubernetes=P legacy-upstream=… kubernetes-upstream=…)");
        }
        Include.State running = state.get();
        if (!running.legacy().equals(spec.legacyUpstream()) || !running.kubernetes().equals(spec.kubernetesUpstream())) {
            throw new TrafficException("the running nginx (probe " + probeShown() + ") splits between the upstreams "
                    + running.legacy() + " (legacy) and " + running.kubernetes() + " (kubernetes), not the configured "
                    + spec.legacyUpstream() + " and " + spec.kubernetesUpstream());
        }
        return running;
    }

    private String probeShown() {
        return Text.foreign(Text.redactUrl(spec.probe().toString()));
    }

    /**
     * How long a probe during {@link #set} may wait: the read timeout, cut to the time left, but at least
     * {@link #LAST_PROBE} so that the probe at the deadline can still be answered and the message says what nginx reports.
     */
    private Duration left(Instant deadline) {
        Duration left = Duration.between(clock.instant(), deadline);
        return shorter(Timeouts.current().read(), left.compareTo(LAST_PROBE) < 0 ? LAST_PROBE : left);
    }

    private static Duration shorter(Duration a, Duration b) {
        return a.compareTo(b) <= 0 ? a : b;
    }
}
