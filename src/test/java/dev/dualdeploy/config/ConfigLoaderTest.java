package dev.dualdeploy.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class ConfigLoaderTest {

    private static final String VALID = """
            service: loan-api
            image: registry.example.com/loan-api
            stages:
              - name: sandbox
                deploy: { legacy: true, kubernetes: true }
                legacy:
                  ecs: { cluster: sandbox, service: loan-api, container: app, region: eu-west-1 }
                kubernetes: { context: sandbox, namespace: loan, deployment: loan-api, container: app, manifests: deploy/k8s }
                timeout: 10m
              - name: preprod
                legacy:
                  ecs: { cluster: preprod, service: loan-api, container: app, region: eu-west-1, poll: 5s }
                kubernetes: { namespace: loan, deployment: loan-api, container: app }
              - name: prod
                deploy: { legacy: false }
                legacy:
                  ecs: { cluster: prod, service: loan-api, container: app, region: eu-west-1 }
                kubernetes: { namespace: loan, deployment: loan-api, container: app }
                timeout: 1h30m
            """;

    private final ConfigLoader loader = new ConfigLoader();

    private DualDeploySpec parse(String yaml) {
        return loader.parse("dualdeploy.yaml", yaml, Path.of("/repo"));
    }

    private List<ConfigProblem> problems(String yaml) {
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> parse(yaml));
        assertThat(e).as("expected the config to be rejected").isNotNull();
        return e.problems();
    }

    @Test
    void parsesTheDocumentedShape() {
        DualDeploySpec spec = parse(VALID);

        assertThat(spec.service()).isEqualTo("loan-api");
        assertThat(spec.stages()).extracting(StageSpec::name).containsExactly("sandbox", "preprod", "prod");
        StageSpec sandbox = spec.stage("sandbox").orElseThrow();
        assertThat(sandbox.toggle()).isEqualTo(new ToggleSpec(true, true));
        assertThat(((EcsSpec) sandbox.legacy().orElseThrow()).region()).isEqualTo("eu-west-1");
        assertThat(sandbox.kubernetes().orElseThrow().manifests()).contains(Path.of("/repo/deploy/k8s"));
        assertThat(sandbox.kubernetes().orElseThrow().context()).contains("sandbox");
        assertThat(sandbox.timeout()).isEqualTo(Duration.ofMinutes(10));
        StageSpec preprod = spec.stage("preprod").orElseThrow();
        assertThat(preprod.toggle()).as("a configured side defaults to on").isEqualTo(new ToggleSpec(true, true));
        assertThat(((EcsSpec) preprod.legacy().orElseThrow()).poll()).isEqualTo(Duration.ofSeconds(5));
        assertThat(preprod.timeout()).isEqualTo(Duration.ofMinutes(10));
        StageSpec prod = spec.stage("prod").orElseThrow();
        assertThat(prod.toggle()).isEqualTo(new ToggleSpec(false, true));
        assertThat(prod.timeout()).isEqualTo(Duration.ofMinutes(90));
    }

    @Test
    void unknownKeysAreErrorsWithTheirPath() {
        List<ConfigProblem> problems = problems(VALID.replace("container: app, manifests", "containr: app, manifests")
                .replace("service: loan-api\n", "service: loan-api\nowner: team-a\n"));

        assertThat(problems).extracting(ConfigProblem::path)
                .contains("owner", "stages[0].kubernetes.containr", "stages[0].kubernetes.container");
        assertThat(problems).filteredOn(p -> p.path().equals("stages[0].kubernetes.containr")).singleElement()
                .satisfies(p -> assertThat(p.problem()).startsWith("unknown key; expected one of [container, context,"));
        assertThat(problems).filteredOn(p -> p.path().equals("stages[0].kubernetes.container")).singleElement()
                .satisfies(p -> assertThat(p.render()).isEqualTo(
                        "dualdeploy.yaml: stages[0].kubernetes.container: missing required key (for example: container: app)"));
    }

    @Test
    void missingRequiredKeysNameThePathAndAnExample() {
        List<ConfigProblem> problems = problems("""
                image: registry.example.com/loan-api
                stages:
                  - name: sandbox
                    kubernetes: { deployment: loan-api, container: app }
                  - legacy:
                      ecs: { cluster: c, service: s, container: app }
                """);

        assertThat(problems).extracting(ConfigProblem::render).containsExactlyInAnyOrder(
                "dualdeploy.yaml: service: missing required key (for example: service: loan-api)",
                "dualdeploy.yaml: stages[0].kubernetes.namespace: missing required key (for example: namespace: loan)",
                "dualdeploy.yaml: stages[1].name: missing required key (for example: name: preprod)",
                "dualdeploy.yaml: stages[1].legacy.ecs.region: missing required key (for example: region: eu-west-1)");
    }

    @Test
    void duplicateStageNamesAreErrors() {
        List<ConfigProblem> problems = problems(VALID.replace("name: preprod", "name: sandbox"));

        assertThat(problems).singleElement().satisfies(p -> {
            assertThat(p.path()).isEqualTo("stages[1].name");
            assertThat(p.problem()).isEqualTo("duplicate stage name 'sandbox'; stage names must be unique");
        });
    }

    @Test
    void duplicateYamlKeysAreErrors() {
        List<ConfigProblem> problems = problems("service: a\nservice: b\nimage: r/x\nstages: []\n");

        assertThat(problems).singleElement().satisfies(p -> assertThat(p.problem()).contains("duplicate key").contains("service"));
    }

    @Test
    void aToggleOnForASideThatIsNotConfiguredIsAnError() {
        List<ConfigProblem> problems = problems("""
                service: loan-api
                image: registry.example.com/loan-api
                stages:
                  - name: sandbox
                    deploy: { legacy: true }
                    kubernetes: { namespace: loan, deployment: loan-api, container: app }
                """);

        assertThat(problems).singleElement().satisfies(p -> {
            assertThat(p.path()).isEqualTo("stages[0].deploy.legacy");
            assertThat(p.problem()).contains("the toggle is on but the stage has no 'legacy' section");
            assertThat(p.example()).isEqualTo("legacy: false");
        });
    }

    @Test
    void aLegacySideWithBothEcsAndVmIsAnError() {
        List<ConfigProblem> problems = problems(VALID.replace(
                "ecs: { cluster: sandbox, service: loan-api, container: app, region: eu-west-1 }",
                "ecs: { cluster: sandbox, service: loan-api, container: app, region: eu-west-1 }\n      vm: { hosts: [a] }"));

        assertThat(problems).singleElement().satisfies(p -> {
            assertThat(p.path()).isEqualTo("stages[0].legacy");
            assertThat(p.problem()).startsWith("a legacy side is either ecs or vm, not both");
        });
    }

    @Test
    void vmTargetsAreRefusedUntilTheyExist() {
        List<ConfigProblem> problems = problems(VALID.replace(
                "ecs: { cluster: sandbox, service: loan-api, container: app, region: eu-west-1 }", "vm: { hosts: [a] }"));

        assertThat(problems).singleElement().satisfies(p -> {
            assertThat(p.path()).isEqualTo("stages[0].legacy.vm");
            assertThat(p.problem()).startsWith("VM targets are not supported by this version yet");
        });
    }

    @Test
    void badDurationsAreErrors() {
        List<ConfigProblem> problems = problems(VALID.replace("timeout: 10m", "timeout: ten minutes")
                .replace("timeout: 1h30m", "timeout: 0s").replace("poll: 5s", "poll: 5"));

        assertThat(problems).extracting(ConfigProblem::path)
                .containsExactlyInAnyOrder("stages[0].timeout", "stages[1].legacy.ecs.poll", "stages[2].timeout");
        assertThat(problems.get(0).render()).isEqualTo("dualdeploy.yaml: stages[0].timeout: 'ten minutes' is not a duration"
                + " from 1s to 24h; expected a number with ms, s, m or h, such as 90s or 1h30m (for example: timeout: 10m)");
    }

    @Test
    void invalidImageReferencesAreErrors() {
        for (String bad : List.of("Registry.example.com/Loan-API", "registry.example.com/loan-api@sha256:abc",
                "registry.example.com/loan api", "registry.example.com/loan-api:", "-loan")) {
            List<ConfigProblem> problems = problems(VALID.replace("image: registry.example.com/loan-api", "image: '" + bad + "'"));
            assertThat(problems).as(bad).singleElement().satisfies(p -> {
                assertThat(p.path()).isEqualTo("image");
                assertThat(p.example()).isEqualTo("image: registry.example.com/loan-api");
            });
        }
    }

    @Test
    void wrongTypesAndEmptyStagesAreErrors() {
        assertThat(problems("service: loan-api\nimage: r/x\nstages: []\n")).extracting(ConfigProblem::path).containsExactly("stages");
        assertThat(problems("- a\n- b\n")).extracting(ConfigProblem::problem).containsExactly("expected a mapping of keys to values");
        assertThat(problems("service: loan-api\nimage: r/x\nstages:\n  - name: a\n"))
                .extracting(ConfigProblem::problem).containsExactly("a stage needs at least one side: legacy or kubernetes");
        assertThat(problems(VALID.replace("deploy: { legacy: false }", "deploy: { legacy: no-thanks }")))
                .extracting(ConfigProblem::path).containsExactly("stages[2].deploy.legacy");
    }

    @Test
    void missingFileIsAnError() {
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> loader.load(Path.of("does-not-exist.yaml")));
        assertThat(e.getMessage()).isEqualTo("does-not-exist.yaml: file not found (for example: dualdeploy validate -f dualdeploy.yaml)");
    }
}
