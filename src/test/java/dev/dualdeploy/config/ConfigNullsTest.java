package dev.dualdeploy.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Issue 8 item 14: a key set to null is the same as a key left out, everywhere, so validate and the engine never
 * disagree about it (`kubernetes: null` passed validate and deploy then refused the stage).
 */
class ConfigNullsTest {

    private static final String HEAD = """
            service: loan-api
            image: registry.example.com/loan-api
            stages:
              - name: prod
            """;
    private static final String LEGACY = "    legacy: { ecs: { cluster: prod, service: loan-api, container: app, region: eu-west-1 } }\n";
    private static final String KUBERNETES = "    kubernetes: { namespace: loan, deployment: loan-api, container: app }\n";

    private static DualDeploySpec parse(String yaml) {
        return new ConfigLoader().parse("dualdeploy.yaml", yaml, Path.of("/repo"));
    }

    private static List<String> problems(String yaml) {
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> parse(yaml));
        assertThat(e).as("expected the config to be rejected").isNotNull();
        return e.problems().stream().map(p -> p.path() + ": " + p.problem()).toList();
    }

    @Test
    void aNullSideIsNoSideAndItsToggleIsOff() {
        StageSpec stage = parse(HEAD + LEGACY + "    kubernetes: null\n").stages().get(0);

        assertThat(stage.kubernetes()).isEmpty();
        assertThat(stage.toggledOn(Side.KUBERNETES)).as("validate and deploy agree: no kubernetes side").isFalse();
        assertThat(stage.toggledOn(Side.LEGACY)).isTrue();
    }

    @Test
    void aNullLegacySideIsNoSide() {
        StageSpec stage = parse(HEAD + KUBERNETES + "    legacy: null\n").stages().get(0);

        assertThat(stage.legacy()).isEmpty();
        assertThat(stage.toggledOn(Side.LEGACY)).isFalse();
    }

    @Test
    void bothSidesNullIsAStageWithNoSide() {
        assertThat(problems(HEAD + "    legacy: null\n    kubernetes: ~\n"))
                .containsExactly("stages[0]: a stage needs at least one side: legacy or kubernetes");
    }

    @Test
    void aToggleOnForANullSideIsAProblem() {
        assertThat(problems(HEAD + LEGACY + "    kubernetes: null\n    deploy: { kubernetes: true }\n"))
                .singleElement().asString().startsWith("stages[0].deploy.kubernetes: the toggle is on but the stage has no 'kubernetes'");
    }

    @Test
    void aNullGateIsNoGateAndANullMaxIsMissing() {
        assertThat(parse(HEAD + LEGACY + "    gate: null\n").stages().get(0).gate()).isEqualTo(GateSpec.none());
        assertThat(problems(HEAD + LEGACY + KUBERNETES + """
                    gate:
                      checks: [ { slo: { metric: error_rate, max: null } } ]
                      metrics: { provider: prometheus, address: 'http://p:9090', queries: { error_rate: x } }
                """)).containsExactly("stages[0].gate.checks[0].slo.max: missing required key; expected the highest acceptable value");
    }

    @Test
    void aNullMetricsSectionIsMissingWhereAChecksNeedsIt() {
        assertThat(problems(HEAD + LEGACY + KUBERNETES + """
                    gate:
                      checks: [ { slo: { metric: error_rate, max: 0.1 } } ]
                      metrics: null
                """)).singleElement().asString().startsWith("stages[0].gate.metrics: missing;");
    }
}
