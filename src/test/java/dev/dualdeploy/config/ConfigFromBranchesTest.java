package dev.dualdeploy.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.dualdeploy.testing.Cli;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Issue 8 item 7: a config file comes from a branch, so it may not name the job's own credentials as *_env variables,
 * nor point manifests: outside its own directory unless the command line allows it.
 */
class ConfigFromBranchesTest {

    private static final String HEAD = """
            service: loan-api
            image: registry.example.com/loan-api
            stages:
              - name: prod
                kubernetes: { namespace: loan, deployment: loan-api, container: app, manifests: MANIFESTS }
            """;
    private static final String GATE = """
                gate:
                  checks: [ { slo: { metric: error_rate, max: 0.01 } } ]
                  metrics:
                    provider: prometheus
                    address: http://prometheus:9090
                    auth: AUTH
                    queries: { error_rate: x }
            """;

    @TempDir
    Path dir;

    private List<String> problems(Path file, boolean allowOutside) {
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> new ConfigLoader(allowOutside).load(file));
        assertThat(e).as("expected the config to be rejected").isNotNull();
        return e.problems().stream().map(p -> p.path() + ": " + p.problem()).toList();
    }

    private Path config(String manifests, String auth) throws IOException {
        Path file = dir.resolve("repo").resolve("dualdeploy.yaml");
        Files.createDirectories(file.getParent());
        Files.writeString(file, HEAD.replace("MANIFESTS", manifests) + (auth == null ? "" : GATE.replace("AUTH", auth)));
        return file;
    }

    @ParameterizedTest(name = "issue 8 item 7: {0} is refused as a *_env name")
    @ValueSource(strings = {"AWS_SECRET_ACCESS_KEY", "AWS_ACCESS_KEY_ID", "AWS_SESSION_TOKEN", "AWS_PROFILE", "aws_secret_access_key",
            "KUBECONFIG", "DD_TOKEN", "DUALDEPLOY_ANYTHING"})
    void theJobsOwnCredentialsCannotBeNamed(String name) throws IOException {
        Path bearer = config("deploy/k8s", "{ bearer_token_env: " + name + " }");

        assertThat(problems(bearer, true)).containsExactly("stages[0].gate.metrics.auth.bearer_token_env: '" + name + "' is reserved"
                + " for dualdeploy's own credentials (AWS_*, KUBECONFIG, DD_*, DUALDEPLOY_*); bind the secret to a variable of its own");
        Path basic = config("deploy/k8s", "{ username_env: PROM_USER, password_env: " + name + " }");
        assertThat(problems(basic, true)).anySatisfy(p -> assertThat(p).startsWith("stages[0].gate.metrics.auth.password_env: '"
                + name + "' is reserved"));
    }

    @Test
    void aVariableOfItsOwnIsFine() throws IOException {
        DualDeploySpec spec = new ConfigLoader().load(config("deploy/k8s", "{ bearer_token_env: PROMETHEUS_TOKEN }"));

        assertThat(spec.stages().get(0).gate().metrics().orElseThrow().auth().bearerTokenEnv()).contains("PROMETHEUS_TOKEN");
    }

    @Test
    void manifestsInsideTheConfigDirectoryAreFine() throws IOException {
        Path file = config("deploy/../k8s", null);

        assertThat(new ConfigLoader().load(file).stages().get(0).kubernetes().orElseThrow().manifests())
                .contains(file.getParent().toAbsolutePath().resolve("k8s"));
    }

    @Test
    void manifestsOutsideTheConfigDirectoryAreRefusedUnlessAllowed() throws IOException {
        String fix = "; keep the manifests next to the config, or pass --allow-outside-manifests (trusted branches only)";

        assertThat(problems(config("../../../../etc", null), false))
                .containsExactly("stages[0].kubernetes.manifests: '../../../../etc' leads out of the config file's directory" + fix);
        assertThat(problems(config("/etc", null), false))
                .containsExactly("stages[0].kubernetes.manifests: an absolute path is outside the config file's directory" + fix);
        assertThat(new ConfigLoader(true).load(config("/etc", null)).stages().get(0).kubernetes().orElseThrow().manifests())
                .contains(Path.of("/etc"));
    }

    @Test
    void aSymbolicLinkOutOfTheDirectoryIsRefused() throws IOException {
        Path file = config("k8s", null);
        Files.createSymbolicLink(file.getParent().resolve("k8s"), Path.of("/etc"));

        assertThat(problems(file, false)).containsExactly("stages[0].kubernetes.manifests: 'k8s' is a symbolic link out of the config"
                + " file's directory; keep the manifests next to the config, or pass --allow-outside-manifests (trusted branches only)");
    }

    @Test
    void theCliFlagAllowsOutsideManifests() throws IOException {
        Path file = config("/etc", null);

        Cli.Run refused = Cli.run("validate", "-f", file.toString());
        Cli.Run allowed = Cli.run("validate", "-f", file.toString(), "--allow-outside-manifests");

        assertThat(refused.code()).isEqualTo(2);
        assertThat(refused.err()).contains("stages[0].kubernetes.manifests: an absolute path is outside the config file's directory");
        assertThat(allowed.code()).as(allowed.err()).isZero();
    }

    @Test
    void aPathWithANulIsAProblemNotACrash() throws IOException {
        // Path.of throws InvalidPathException on a NUL, which would have been exit 70.
        Path file = config("\"deploy\\0k8s\"", null);

        assertThat(problems(file, true)).containsExactly("stages[0].kubernetes.manifests: 'deploy\\u0000k8s' contains control characters");
    }
}
