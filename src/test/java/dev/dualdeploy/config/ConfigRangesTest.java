package dev.dualdeploy.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Issue 8 item 9: every number and duration the config reads has a documented range, checked in the loader, so that no
 * value is accepted and overflows (or is truncated) later.
 */
class ConfigRangesTest {

    private static final String STAGE = """
            service: loan-api
            image: registry.example.com/loan-api
            stages:
              - name: prod
                legacy: { ecs: { cluster: prod, service: loan-api, container: app, region: eu-west-1, poll: 3s } }
                kubernetes: { namespace: loan, deployment: loan-api, container: app, lease_duration: 90s }
                timeout: 10m
                gate:
                  soak: 15m
                  interval: 30s
                  min_requests: 100
                  error_limit: 2
                  checks:
                    - http: { url: 'https://loan-api.internal/health', expect: 200, failures: 3, timeout: 5s }
                    - slo: { metric: error_rate, max: 0.01, breaches: 2 }
                    - compare: { metric: error_rate, baseline: legacy, min_windows: 5 }
                    - sequential: { baseline: legacy, min_errors: 10 }
                  metrics:
                    provider: prometheus
                    address: http://prometheus:9090
                    timeout: 10s
                    delay: 0s
                    queries: { requests: 'r', errors: 'e', error_rate: 'x' }
            """;

    private static List<String> problems(String yaml) {
        ConfigException e = catchThrowableOfType(ConfigException.class,
                () -> new ConfigLoader().parse("dualdeploy.yaml", yaml, Path.of("/repo")));
        assertThat(e).as("expected the config to be rejected").isNotNull();
        return e.problems().stream().map(p -> p.path() + ": " + p.problem()).toList();
    }

    @ParameterizedTest(name = "issue 8 item 9: {0} -> {1}")
    @CsvSource(delimiter = '|', value = {
            "timeout: 10m|timeout: 9223372036854775807s|stages[0].timeout: '9223372036854775807s' is not a duration from 1s to 24h",
            "timeout: 10m|timeout: 25h|stages[0].timeout: '25h' is not a duration from 1s to 24h",
            "timeout: 10m|timeout: 99999999999999999999h|stages[0].timeout: '99999999999999999999h' is not a duration from 1s to 24h",
            "poll: 3s|poll: 10ms|stages[0].legacy.ecs.poll: '10ms' is not a duration from 100ms to 5m",
            "poll: 3s|poll: 6m|stages[0].legacy.ecs.poll: '6m' is not a duration from 100ms to 5m",
            "soak: 15m|soak: 9223372036854775807s|stages[0].gate.soak: '9223372036854775807s' is not a duration from 1s to 168h",
            "soak: 15m|soak: 169h|stages[0].gate.soak: '169h' is not a duration from 1s to 168h",
            "interval: 30s|interval: 9223372036854775807s|stages[0].gate.interval: '9223372036854775807s' is not a duration from 1s to 1h",
            "interval: 30s|interval: 2h|stages[0].gate.interval: '2h' is not a duration from 1s to 1h",
            "timeout: 5s|timeout: 1h|stages[0].gate.checks[0].http.timeout: '1h' is not a duration from 100ms to 5m",
            "timeout: 10s|timeout: 0s|stages[0].gate.metrics.timeout: '0s' is not a duration from 100ms to 5m",
            "delay: 0s|delay: 2h|stages[0].gate.metrics.delay: '2h' is not a duration from 0s to 1h",
            "expect: 200|expect: 2147483648|stages[0].gate.checks[0].http.expect: '2147483648' is not a whole number from 100 to 599",
            "expect: 200|expect: 4294967496|stages[0].gate.checks[0].http.expect: '4294967496' is not a whole number from 100 to 599",
            "expect: 200|expect: 200.5|stages[0].gate.checks[0].http.expect: '200.5' is not a whole number from 100 to 599",
            "failures: 3|failures: 1001|stages[0].gate.checks[0].http.failures: '1001' is not a whole number from 1 to 1000",
            "breaches: 2|breaches: 9223372036854775808|stages[0].gate.checks[1].slo.breaches: '9223372036854775808' is not a whole number from 1 to 1000",
            "min_windows: 5|min_windows: 2147483648|stages[0].gate.checks[2].compare.min_windows: '2147483648' is not a whole number from 3 to 10000",
            "min_errors: 10|min_errors: -1|stages[0].gate.checks[3].sequential.min_errors: '-1' is not a whole number from 0 to 1000000000",
            "min_requests: 100|min_requests: 99999999999|stages[0].gate.min_requests: '99999999999' is not a whole number from 1 to 1000000000",
            "error_limit: 2|error_limit: 5000|stages[0].gate.error_limit: '5000' is not a whole number from 0 to 1000",
            "max: 0.01|max: -1e400|stages[0].gate.checks[1].slo.max: '-Infinity' is not a number from -1000000000000000 to 1000000000000000",
            "max: 0.01|max: 2e15|stages[0].gate.checks[1].slo.max: '2.0E15' is not a number from -1000000000000000 to 1000000000000000",
            "lease_duration: 90s|lease_duration: 14s|stages[0].kubernetes.lease_duration: '14s' is not a duration from 15s to 10m",
            "lease_duration: 90s|lease_duration: 0s|stages[0].kubernetes.lease_duration: '0s' is not a duration from 15s to 10m",
            "lease_duration: 90s|lease_duration: 601s|stages[0].kubernetes.lease_duration: '601s' is not a duration from 15s to 10m",
            "lease_duration: 90s|lease_duration: 1|stages[0].kubernetes.lease_duration: '1' is not a duration from 15s to 10m",
            "max: 0.01|max: 1e400|stages[0].gate.checks[1].slo.max: 'Infinity' is not a number from -1000000000000000 to 1000000000000000",
    })
    void outOfRangeIsAProblemNamingTheRange(String valid, String invalid, String expected) {
        assertThat(STAGE).contains(valid);

        assertThat(problems(STAGE.replace(valid, invalid))).anySatisfy(p -> assertThat(p).startsWith(expected));
    }

    @ParameterizedTest(name = "issue 8 item 9: the bounds themselves are accepted: {0}")
    @CsvSource(delimiter = '|', value = {
            "timeout: 10m|timeout: 24h", "timeout: 10m|timeout: 1s", "poll: 3s|poll: 100ms", "poll: 3s|poll: 5m",
            "soak: 15m|soak: 168h", "expect: 200|expect: 599", "delay: 0s|delay: 1h",
            "lease_duration: 90s|lease_duration: 15s", "lease_duration: 90s|lease_duration: 10m",
    })
    void theBoundsAreInclusive(String valid, String edge) {
        DualDeploySpec spec = new ConfigLoader().parse("dualdeploy.yaml", STAGE.replace(valid, edge), Path.of("/repo"));

        assertThat(spec.stages()).hasSize(1);
    }

    @Test
    void aHugeIntervalIsAProblemNotACrash() {
        // issue 8 item 9: `gate: {interval: 9223372036854775807s}` threw ArithmeticException from validate itself.
        String yaml = STAGE.substring(0, STAGE.indexOf("    gate:")) + "    gate: {interval: 9223372036854775807s}\n";

        assertThat(problems(yaml)).containsExactly(
                "stages[0].gate.interval: '9223372036854775807s' is not a duration from 1s to 1h; expected a number with ms, s,"
                        + " m or h, such as 90s or 1h30m");
    }

    @Test
    void theStageLeaseLivesSixtySecondsUnlessTheConfigSaysOtherwise() {
        DualDeploySpec given = new ConfigLoader().parse("dualdeploy.yaml", STAGE, Path.of("/repo"));
        DualDeploySpec absent = new ConfigLoader().parse("dualdeploy.yaml", STAGE.replace(", lease_duration: 90s", ""), Path.of("/repo"));
        DualDeploySpec nulled = new ConfigLoader().parse("dualdeploy.yaml", STAGE.replace("lease_duration: 90s", "lease_duration: null"),
                Path.of("/repo"));

        assertThat(given.stages().get(0).kubernetes().orElseThrow().leaseDuration()).isEqualTo(Duration.ofSeconds(90));
        assertThat(absent.stages().get(0).kubernetes().orElseThrow().leaseDuration()).isEqualTo(Duration.ofSeconds(60));
        assertThat(nulled.stages().get(0).kubernetes().orElseThrow().leaseDuration()).isEqualTo(Duration.ofSeconds(60));
    }

    @Test
    void aDurationParsesToItsValueWithinRange() {
        DualDeploySpec spec = new ConfigLoader().parse("dualdeploy.yaml", STAGE.replace("timeout: 10m", "timeout: 23h59m59s"),
                Path.of("/repo"));

        assertThat(spec.stages().get(0).timeout()).isEqualTo(Duration.ofHours(24).minusSeconds(1));
    }
}
