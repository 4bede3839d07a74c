package dev.dualdeploy.targets.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.dualdeploy.config.ConfigException;
import dev.dualdeploy.config.ConfigProblem;
import dev.dualdeploy.config.KubernetesSpec;
import dev.dualdeploy.net.Timeouts;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Issue 8 items 2, 4 and 16: the one place a kubeconfig is read, for {@code connect} and {@code validate} alike. */
class KubeconfigTest {

    @TempDir
    Path tmp;

    private Path write(String name, String contexts, String current) throws IOException {
        Path file = tmp.resolve(name);
        StringBuilder yaml = new StringBuilder("apiVersion: v1\nkind: Config\nclusters:\n");
        StringBuilder ctx = new StringBuilder("contexts:\n");
        int port = 7001;
        for (String context : contexts.split(",")) {
            yaml.append("- name: ").append(context).append("-cluster\n  cluster: { server: 'https://127.0.0.1:").append(port++).append("' }\n");
            ctx.append("- name: ").append(context).append("\n  context: { cluster: ").append(context).append("-cluster, user: u }\n");
        }
        yaml.append(ctx).append("current-context: ").append(current).append("\nusers:\n- name: u\n  user: { token: t }\n");
        Files.writeString(file, yaml);
        return file;
    }

    private static KubernetesSpec spec(String context, Path kubeconfig) {
        return new KubernetesSpec(Optional.ofNullable(context), "ns", "app", "app", Optional.empty(), Optional.ofNullable(kubeconfig));
    }

    @Test
    void item2_connectUsesTheNamedContextAndRefusesAnUnknownOneInsteadOfTheCurrent() throws IOException {
        Path file = write("kubeconfig", "prod,sandbox", "prod");
        Timeouts timeouts = new Timeouts(Duration.ofSeconds(2), Duration.ofSeconds(3), 1);
        try (KubernetesClient client = KubernetesTarget.connect(spec("sandbox", file), Map.of(), tmp, timeouts)) {
            assertThat(client.getMasterUrl().toString()).isEqualTo("https://127.0.0.1:7002/");
            // Issue 8 item 16: the timeouts and the bounded retries reach the client.
            assertThat(client.getConfiguration().getConnectionTimeout()).isEqualTo(2000);
            assertThat(client.getConfiguration().getRequestTimeout()).isEqualTo(3000);
            assertThat(client.getConfiguration().getRequestRetryBackoffLimit()).isEqualTo(1);
        }
        assertThatThrownBy(() -> KubernetesTarget.connect(spec("sandbx", file), Map.of(), tmp, timeouts))
                .isInstanceOf(ConfigException.class)
                .hasMessage(file + ": contexts: has no context 'sandbx' (contexts: prod, sandbox) (for example: context: prod)");
    }

    @Test
    void item2_aContextNamedWithoutAnyKubeconfigIsAnErrorNotTheInClusterAccount() {
        assertThatThrownBy(() -> KubernetesTarget.connect(spec("prod", null), Map.of(), tmp, Timeouts.DEFAULT))
                .isInstanceOf(ConfigException.class).hasMessageContaining("context 'prod' is named, but there is no kubeconfig");
    }

    @Test
    void item2_kubeconfigListedInTheEnvironmentIsCheckedAtValidateAcrossItsFiles() throws IOException {
        Path first = write("a", "prod", "prod");
        Path second = write("b", "sandbox", "sandbox");
        String variable = first + File.pathSeparator + tmp.resolve("missing") + File.pathSeparator + second;
        Kubeconfig kubeconfig = Kubeconfig.read(Kubeconfig.locate(spec(null, null), Map.of("KUBECONFIG", variable), tmp));
        assertThat(kubeconfig.contexts()).containsExactly("prod", "sandbox");
        assertThat(kubeconfig.check(Optional.of("sandbox"))).contains("sandbox");
        assertThat(kubeconfig.check(Optional.empty())).contains("prod");
        assertThatThrownBy(() -> kubeconfig.check(Optional.of("beta"))).isInstanceOf(ConfigException.class)
                .extracting(e -> ((ConfigException) e).problems().get(0)).extracting(ConfigProblem::problem)
                .isEqualTo("has no context 'beta' (contexts: prod, sandbox)");
    }

    @Test
    void item2_withoutKubeconfigOrKubeconfigVariableTheHomeConfigIsUsedIfItExists() throws IOException {
        assertThat(Kubeconfig.locate(spec(null, null), Map.of(), tmp)).isEmpty();
        Files.createDirectories(tmp.resolve(".kube"));
        Path standard = write(".kube/config", "prod", "prod");
        assertThat(Kubeconfig.locate(spec(null, null), Map.of(), tmp)).containsExactly(standard);
        assertThat(Kubeconfig.locate(spec(null, tmp.resolve("named")), Map.of("KUBECONFIG", standard.toString()), tmp))
                .containsExactly(tmp.resolve("named"));
    }

    @Test
    void item4_aParseErrorCarriesNoCauseThatCouldQuoteTheFile() throws IOException {
        Path file = tmp.resolve("bad");
        Files.writeString(file, "users:\n- name: u\n  user:\n    token: abc.SECRET: extra\n");
        assertThatThrownBy(() -> Kubeconfig.read(List.of(file))).isInstanceOf(ConfigException.class)
                .hasNoCause().hasMessage(file + ": line 4: the kubeconfig is not valid YAML (the content is not shown, as it may hold credentials)");
    }

    @Test
    void item12_certificateDataMustBeBase64Pem() {
        assertThat(Kubeconfig.validPem("!!!", false)).isFalse();
        assertThat(Kubeconfig.validPem("aGVsbG8=", false)).isFalse();
        assertThat(Kubeconfig.validPem("aGVsbG8=", true)).isFalse();
        String key = java.util.Base64.getEncoder().encodeToString(
                "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEE\n-----END EC PRIVATE KEY-----\n".getBytes(StandardCharsets.US_ASCII));
        assertThat(Kubeconfig.validPem(key, true)).isTrue();
    }
}
