package dev.dualdeploy.analysis;

import dev.dualdeploy.config.CheckSpec;
import dev.dualdeploy.config.Side;
import dev.dualdeploy.text.Secrets;
import dev.dualdeploy.text.Text;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.regex.Pattern;

/**
 * An HTTP probe, once a window: FAILs when it answers other than expected {@code failures} times in a row. Its
 * verdict is whole after every window, so a gate stopped early keeps it.
 */
final class HttpTracker extends BaseTracker {
    private final CheckSpec.Http probe;
    private final Meter meter;
    private final Consumer<Probe> progress;
    private final Optional<Side> side;
    private final URI url;
    private final String shown;
    private final String label;
    private final List<Double> codes = new ArrayList<>();
    private int inARow;
    private int bad;

    /**
     * @param side the side whose {@code {{side}}} the URL names, or empty for one probe of a URL without it
     * @param progress where every answer is said as it happens
     */
    HttpTracker(CheckSpec.Http check, Optional<Side> side, Meter meter, Consumer<Probe> progress) {
        // The URL may carry credentials (user information, a token in the query): everything this check says (its name,
        // its probes, its verdicts) shows it redacted; only the request uses it whole.
        super("http", "http " + Text.redactUrl(check.url()) + side.map(s -> " [" + s.label() + "]").orElse(""));
        this.probe = check;
        this.meter = meter;
        this.progress = progress;
        this.side = side;
        this.url = URI.create(meter.fill(check.url(), side, meter.spec().interval()));
        this.shown = Text.redactUrl(url.toString());
        registerSecrets(url);
        this.label = side.map(Side::label).orElse("probe");
    }

    /**
     * The URL's password and the values of its credential-like query parameters ({@code access_token}, {@code key},
     * {@code sig}…), for {@link Secrets#redact}: the probed service may quote the request in its answer.
     */
    private static void registerSecrets(URI url) {
        Optional.ofNullable(url.getRawUserInfo()).filter(u -> u.contains(":")).ifPresent(u -> {
            Secrets.register(u.substring(u.indexOf(':') + 1));
            Secrets.register(URLDecoder.decode(u.substring(u.indexOf(':') + 1), StandardCharsets.UTF_8));
        });
        for (String parameter : Optional.ofNullable(url.getRawQuery()).orElse("").split("&")) {
            int eq = parameter.indexOf('=');
            if (eq > 0 && CREDENTIAL_NAME.matcher(parameter.substring(0, eq)).find()) {
                Secrets.register(parameter.substring(eq + 1));
                Secrets.register(URLDecoder.decode(parameter.substring(eq + 1), StandardCharsets.UTF_8));
            }
        }
    }

    private static final Pattern CREDENTIAL_NAME = Pattern.compile("(?i)token|key|secret|pass|sig|auth|credential|session");

    @Override
    public Optional<Verdict> window(WindowReading data) {
        Optional<Meter.Answer> got = meter.probe(url, probe.timeout());
        if (got.isEmpty()) {
            return Optional.empty();
        }
        int code = got.get().code();
        String answer = got.get().said();
        codes.add((double) code);
        if (code == probe.expect()) {
            inARow = 0;
            progress.accept(new Probe(shown, side, code, answer, probe.expect(), 0));
            return Optional.empty();
        }
        bad++;
        inARow++;
        progress.accept(new Probe(shown, side, code, answer, probe.expect(), inARow));
        if (inARow >= probe.failures()) {
            return fail(Verdict.fail(check, "GET " + shown + " " + answer + ", expected " + probe.expect() + ", " + inARow
                    + " times in a row"));
        }
        return Optional.empty();
    }

    @Override
    boolean decidedEachWindow() {
        return true;
    }

    @Override
    Verdict judge(Duration took) {
        if (codes.isEmpty()) {
            return Verdict.inconclusive(check, "no probe was made");
        }
        return Verdict.pass(check, (codes.size() - bad) + " of " + codes.size() + " probes of " + shown + " answered "
                + probe.expect() + (bad == 0 ? "" : "; the " + bad + " others never " + probe.failures() + " in a row"));
    }

    @Override
    Map<String, List<Double>> samples() {
        return Map.of(label, List.copyOf(codes));
    }
}
