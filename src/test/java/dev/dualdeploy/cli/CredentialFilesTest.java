package dev.dualdeploy.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.dualdeploy.testing.Cli;
import dev.dualdeploy.testing.Cli.Run;
import dev.dualdeploy.testing.LoopbackListener;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 8 items 2, 4, 11 and 12 through the CLI: a malformed kubeconfig or Docker config is bad input (exit 2) named
 * by file and line, never by content, from {@code validate} on; a context the kubeconfig lacks is an error, never the
 * current context; {@code kubeconfig: /dev/zero} fails at once. None of it makes a network call: the kubeconfig's
 * server is a port nothing listens on, and every command here ends before reaching it.
 */
class CredentialFilesTest {

    /** A value shaped like a service-account token, planted where a parser would quote it. */
    private static final String TOKEN = "eyJhbGciOiJSUzI1NiJ9.c2VjcmV0LXRva2VuLXZhbHVl.sig";
    private static final String DIGEST = "sha256:" + "b".repeat(64);

    @TempDir
    Path tmp;

    private Path kubeconfig(String user) throws IOException {
        Path file = tmp.resolve("kubeconfig");
        Files.writeString(file, """
                apiVersion: v1
                kind: Config
                clusters:
                - name: prod-cluster
                  cluster:
                    server: https://127.0.0.1:9
                contexts:
                - name: prod
                  context:
                    cluster: prod-cluster
                    user: deployer
                - name: sandbox
                  context:
                    cluster: prod-cluster
                    user: deployer
                current-context: prod
                users:
                - name: deployer
                  user:
                %s
                """.formatted(user.indent(4).stripTrailing()));
        return file;
    }

    private Path config(String context, Path kubeconfig) throws IOException {
        Path file = tmp.resolve("dualdeploy.yaml");
        Files.writeString(file, """
                service: loan-api
                image: registry.example.com/loan-api
                stages:
                  - name: sandbox
                    deploy: { legacy: false, kubernetes: true }
                    kubernetes: { context: %s, namespace: sandbox, deployment: loan-api, container: app, kubeconfig: '%s' }
                """.formatted(context, kubeconfig));
        return file;
    }

    private static String all(Run run) {
        return run.out() + run.err();
    }

    @Test
    void item4_aMalformedKubeconfigNamesFileAndLineAndNeverTheToken() throws IOException {
        Path kubeconfig = kubeconfig("token: " + TOKEN + ": extra");
        String config = config("sandbox", kubeconfig).toString();
        String expected = "error: " + kubeconfig + ": line 20: the kubeconfig is not valid YAML";

        for (String command : new String[] {"validate", "status", "plan"}) {
            Run run = command.equals("plan")
                    ? Cli.run(command, "-f", config, "--stage", "sandbox", "--image", "registry.example.com/loan-api@" + DIGEST, "--stacktrace")
                    : Cli.run(command, "-f", config, "--stacktrace");
            assertThat(run.code()).as(command + ": " + run.err()).isEqualTo(ExitCodes.BAD_INPUT);
            assertThat(run.err()).as(command).contains(expected);
            assertThat(all(run)).as(command).doesNotContain(TOKEN).doesNotContain("extra").doesNotContain("c2VjcmV0");
        }
        Run json = Cli.run("validate", "-f", config, "--output", "json");
        assertThat(json.code()).isEqualTo(ExitCodes.BAD_INPUT);
        assertThat(json.json().get("problems").get(0).get("path").asText()).isEqualTo("line 20");
        assertThat(json.json().get("problems").get(0).get("file").asText()).isEqualTo(kubeconfig.toString());
        assertThat(all(json)).doesNotContain(TOKEN);
    }

    @Test
    void item2_aContextTheKubeconfigLacksIsExit2AtValidateNeverTheCurrentContext() throws IOException {
        Path kubeconfig = kubeconfig("token: " + TOKEN);
        String config = config("prod-typo", kubeconfig).toString();

        Run validate = Cli.run("validate", "-f", config);
        assertThat(validate.code()).isEqualTo(ExitCodes.BAD_INPUT);
        assertThat(validate.err()).contains("error: " + config + ": stages[0].kubernetes.context: 'prod-typo' is not a context of "
                + kubeconfig + " (contexts: prod, sandbox) (for example: context: prod)");

        // plan validates as validate does, before it connects; connect's own check (for a kubeconfig bound only then)
        // is KubeconfigTest's. The current context 'prod' is never used instead.
        Run plan = Cli.run("plan", "-f", config, "--stage", "sandbox", "--image", "registry.example.com/loan-api@" + DIGEST);
        assertThat(plan.code()).isEqualTo(ExitCodes.BAD_INPUT);
        assertThat(plan.err()).contains("stages[0].kubernetes.context: 'prod-typo' is not a context of " + kubeconfig);
        assertThat(all(plan)).doesNotContain(TOKEN);

        assertThat(Cli.run("validate", "-f", config("sandbox", kubeconfig).toString()).code()).isZero();
    }

    /** Every command validates as validate does: a wrong context is exit 2 before the other side's platform is asked. */
    @Test
    void item2_aWrongContextStopsEveryCommandBeforeAnyPlatformIsAsked() throws IOException {
        Path kubeconfig = kubeconfig("token: " + TOKEN);
        try (LoopbackListener ecs = LoopbackListener.counting()) {
            Path file = tmp.resolve("two-sided.yaml");
            Files.writeString(file, """
                    service: loan-api
                    image: registry.example.com/loan-api
                    stages:
                      - name: sandbox
                        legacy:
                          ecs: { cluster: sandbox, service: loan-api, container: app, region: eu-west-1, endpoint: '%s' }
                        kubernetes: { context: prod-typo, namespace: sandbox, deployment: loan-api, container: app, kubeconfig: '%s' }
                    """.formatted(ecs.url(), kubeconfig));
            String image = "registry.example.com/loan-api@sha256:" + "b".repeat(64);
            for (String[] args : List.of(new String[] {"plan", "--stage", "sandbox", "--image", image},
                    new String[] {"deploy", "--stage", "sandbox", "--image", image}, new String[] {"status"},
                    new String[] {"rollback", "--stage", "sandbox"}, new String[] {"gate", "--stage", "sandbox"})) {
                List<String> line = new ArrayList<>(List.of(args));
                line.addAll(List.of("-f", file.toString()));
                Run run = Cli.run(line.toArray(String[]::new));
                assertThat(run.code()).as(String.join(" ", args) + ": " + run.err()).isEqualTo(2);
                assertThat(run.err()).contains("stages[0].kubernetes.context: 'prod-typo' is not a context of " + kubeconfig);
            }
            assertThat(ecs.connections()).as("connections to the legacy side's platform").isZero();
        }
    }

    @Test
    void item12_badCertificateDataIsExit2NamingTheUserAndContextNotTheData() throws IOException {
        String key = Base64.getEncoder().encodeToString("not a key, but a secret-looking value".getBytes(StandardCharsets.US_ASCII));
        Path kubeconfig = kubeconfig("client-certificate-data: '%%%not-base64'\nclient-key-data: " + key);
        String config = config("sandbox", kubeconfig).toString();

        Run validate = Cli.run("validate", "-f", config, "--stacktrace");
        assertThat(validate.code()).isEqualTo(ExitCodes.BAD_INPUT);
        assertThat(validate.err()).contains("error: " + kubeconfig + ": users[deployer].client-certificate-data: is not base64-encoded "
                + "PEM certificate data (used by context 'sandbox'; the value is not shown)");
        assertThat(all(validate)).doesNotContain("not-base64").doesNotContain(key);
    }

    /** A self-signed test certificate (public data; its key was thrown away). */
    private static final String CERTIFICATE =
            "-----BEGIN CERTIFICATE-----\n" +
            "MIIBjDCCATGgAwIBAgIUYHSDJ7cKq0hZwnR/54jq+lUJi04wCgYIKoZIzj0EAwIw\n" +
            "GjEYMBYGA1UEAwwPZHVhbGRlcGxveS10ZXN0MCAXDTI2MTIwMTAzMDc0NloYDzIx\n" +
            "MjYxMTA3MDMwNzQ2WjAaMRgwFgYDVQQDDA9kdWFsZGVwbG95LXRlc3QwWTATBgcq\n" +
            "hkjOPQIBBggqhkjOPQMBBwNCAARiNS6abhSvOe+3PUB4t+OPKowBKh4qAN6ZIyu/\n" +
            "Z3gG+FapT4rTh8XR2ofISAAiNlpD4hwkjFOeu5LoPchzRA/4o1MwUTAdBgNVHQ4E\n" +
            "FgQUwOQTF76IZiIscj9w8/xJ3BBWXT8wHwYDVR0jBBgwFoAUwOQTF76IZiIscj9w\n" +
            "8/xJ3BBWXT8wDwYDVR0TAQH/BAUwAwEB/zAKBggqhkjOPQQDAgNJADBGAiEAzuQ7\n" +
            "1BU7T/5xQGAuPhRWANVOnOlrA8d1jAQNWuuEkGcCIQC9n2RY/Okrg555uqac4PPj\n" +
            "v9+pyaWYN9MMIfIc7TcGAA==\n" +
            "-----END CERTIFICATE-----\n";

    @Test
    void item12_aKeyThatDecodesButCannotBeLoadedIsExit2AtValidateAndConnect() throws IOException {
        Base64.Encoder base64 = Base64.getEncoder();
        String cert = base64.encodeToString(CERTIFICATE.getBytes(StandardCharsets.US_ASCII));
        String key = base64.encodeToString(("-----BEGIN EC PRIVATE KEY-----\n" + base64.encodeToString(TOKEN.getBytes(StandardCharsets.US_ASCII))
                + "\n-----END EC PRIVATE KEY-----\n").getBytes(StandardCharsets.US_ASCII));
        Path kubeconfig = kubeconfig("client-certificate-data: " + cert + "\nclient-key-data: " + key);
        String config = config("sandbox", kubeconfig).toString();
        String expected = "error: " + kubeconfig + ": users[deployer]: the client certificate and key of context 'sandbox' cannot be loaded (";

        Run validate = Cli.run("validate", "-f", config, "--stacktrace");
        assertThat(validate.code()).as(validate.err()).isEqualTo(ExitCodes.BAD_INPUT);
        assertThat(validate.err()).contains(expected);
        Run plan = Cli.run("plan", "-f", config, "--stage", "sandbox", "--image", "registry.example.com/loan-api@" + DIGEST, "--stacktrace");
        assertThat(plan.code()).as(plan.err()).isEqualTo(ExitCodes.BAD_INPUT);
        assertThat(plan.err()).contains(expected);
        assertThat(all(validate) + all(plan)).doesNotContain(key).doesNotContain(TOKEN).doesNotContain("c2VjcmV0");
    }

    @Test
    void item12_aKubeconfigThatIsNotYamlOrNotAKubeconfigIsExit2() throws IOException {
        Path binary = tmp.resolve("binary");
        Files.write(binary, new byte[] {'k', ':', ' ', '[', (byte) 0xC3, (byte) 0x28, 0, 1, 2});
        Run notYaml = Cli.run("validate", "-f", config("sandbox", binary).toString());
        assertThat(notYaml.code()).isEqualTo(ExitCodes.BAD_INPUT);
        assertThat(notYaml.err()).contains("error: " + binary + ": line 1: the kubeconfig is not valid YAML");

        Path list = tmp.resolve("list");
        Files.writeString(list, "- just\n- a list\n");
        Run notKubeconfig = Cli.run("validate", "-f", config("sandbox", list).toString());
        assertThat(notKubeconfig.code()).isEqualTo(ExitCodes.BAD_INPUT);
        assertThat(notKubeconfig.err()).contains("error: " + list + ": not a kubeconfig: expected a YAML mapping");
    }

    @Test
    void item11_aKubeconfigOfDevZeroFailsAtOnce() throws IOException {
        Path zero = Path.of("/dev/zero");
        assumeTrue(Files.exists(zero));
        long start = System.nanoTime();
        Run run = Cli.run("validate", "-f", config("sandbox", zero).toString());
        assertThat((System.nanoTime() - start) / 1_000_000_000).as("seconds").isLessThan(5);
        assertThat(run.code()).isEqualTo(ExitCodes.BAD_INPUT);
        assertThat(run.err()).contains("error: /dev/zero: the kubeconfig is not a regular file (a device, FIFO or socket)");
    }

    /** Issue 8 item 11 (found by the review): a kubeconfig or Docker config that is a FIFO hung validate and release. */
    @Test
    void item11_aKubeconfigOrDockerConfigThatIsAFifoFailsAtOnce() throws Exception {
        Path fifo = tmp.resolve("fifo");
        Process mkfifo = new ProcessBuilder("mkfifo", fifo.toString()).start();
        assertThat(mkfifo.waitFor()).isZero();
        ExecutorService pool = Executors.newSingleThreadExecutor();
        try {
            Run kube = pool.submit(() -> Cli.run("validate", "-f", config("sandbox", fifo).toString())).get(20, TimeUnit.SECONDS);
            assertThat(kube.code()).isEqualTo(ExitCodes.BAD_INPUT);
            assertThat(kube.err()).isEqualTo("error: " + fifo + ": the kubeconfig is not a regular file (a device, FIFO or socket);"
                    + " it is not a kubeconfig\n");
            Run docker = pool.submit(() -> Cli.run("release", "--image", "registry.example.com/loan-api:1.0.0",
                    "--docker-config", fifo.toString())).get(20, TimeUnit.SECONDS);
            assertThat(docker.code()).isEqualTo(ExitCodes.BAD_INPUT);
            assertThat(docker.err()).startsWith("error: " + fifo + ": the Docker config is not a regular file (a device, FIFO or socket)");
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void item4_aDockerConfigThatIsNotJsonNamesFileAndLineOnly() throws IOException {
        String auth = Base64.getEncoder().encodeToString("robot:s3cret-passw0rd".getBytes(StandardCharsets.UTF_8));
        Path docker = tmp.resolve("config.json");
        Files.writeString(docker, "{\n  \"auths\": {\n    \"registry.example.com\": { \"auth\": \"" + auth + "\" } extra\n  }\n}\n");
        Run run = Cli.run("release", "--image", "registry.example.com/loan-api:1.0", "--docker-config", docker.toString(), "--stacktrace");
        assertThat(run.code()).as(run.err()).isEqualTo(ExitCodes.BAD_INPUT);
        assertThat(run.err()).contains("error: " + docker + ": line 3: the Docker config is not valid JSON");
        assertThat(all(run)).doesNotContain(auth).doesNotContain("s3cret").doesNotContain("extra");

        Files.writeString(docker, "[1, 2]");
        Run notObject = Cli.run("release", "--image", "registry.example.com/loan-api:1.0", "--docker-config", docker.toString());
        assertThat(notObject.code()).isEqualTo(ExitCodes.BAD_INPUT);
        assertThat(notObject.err()).contains("not a Docker config: expected a JSON object with an \"auths\" object");
    }
}
