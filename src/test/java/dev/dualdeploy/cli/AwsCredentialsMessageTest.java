package dev.dualdeploy.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.dualdeploy.net.AwsClients;
import dev.dualdeploy.testing.Cli;
import dev.dualdeploy.testing.Cli.Run;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 8 item 13 (AWS): with no AWS credentials, {@code status} and {@code plan} say so in one line a person can act
 * on, instead of the SDK's 1,500-character dump of its provider chain, and never show a secret value.
 */
class AwsCredentialsMessageTest {

    /** A secret access key without its key id: the chain refuses it, and no message may quote it. */
    private static final String PLANTED = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYPLANTEDKEY";
    private static final List<String> PROPERTIES = List.of("aws.accessKeyId", "aws.secretAccessKey", "aws.disableEc2Metadata",
            "aws.sharedCredentialsFile", "aws.configFile", "aws.profile");

    @TempDir
    Path tmp;

    private final Map<String, String> saved = new HashMap<>();

    @BeforeEach
    void noCredentials() {
        // The process environment cannot be changed from here; a machine that has AWS credentials in it skips this.
        assumeTrue(System.getenv("AWS_ACCESS_KEY_ID") == null && System.getenv("AWS_PROFILE") == null
                && System.getenv("AWS_WEB_IDENTITY_TOKEN_FILE") == null && System.getenv("AWS_CONTAINER_CREDENTIALS_FULL_URI") == null
                && System.getenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI") == null);
        PROPERTIES.forEach(p -> saved.put(p, System.getProperty(p)));
        System.clearProperty("aws.accessKeyId");
        System.clearProperty("aws.profile");
        System.setProperty("aws.secretAccessKey", PLANTED);
        System.setProperty("aws.disableEc2Metadata", "true");
        System.setProperty("aws.sharedCredentialsFile", tmp.resolve("no-credentials").toString());
        System.setProperty("aws.configFile", tmp.resolve("no-config").toString());
    }

    @AfterEach
    void restore() {
        saved.forEach((p, v) -> {
            if (v == null) {
                System.clearProperty(p);
            } else {
                System.setProperty(p, v);
            }
        });
    }

    @Test
    void missingCredentialsAreOneLineThatSaysWhatToSet() throws IOException {
        int port;
        try (ServerSocket free = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = free.getLocalPort();
        }
        Path config = tmp.resolve("dualdeploy.yaml");
        Files.writeString(config, """
                service: loan-api
                image: registry.example.com/loan-api
                stages:
                  - name: sandbox
                    deploy: { legacy: true, kubernetes: false }
                    legacy:
                      ecs: { cluster: sandbox, service: loan-api, container: app, region: eu-west-1, endpoint: 'http://127.0.0.1:%d' }
                """.formatted(port));

        Run status = Cli.run("status", "-f", config.toString(), "--check");
        assertThat(status.code()).isEqualTo(ExitCodes.NEEDS_ATTENTION);
        assertThat(status.out()).contains("UNREADABLE").contains("ecs sandbox/loan-api: cannot describe service: " + AwsClients.NO_CREDENTIALS)
                .doesNotContain("Unable to load credentials").doesNotContain("SystemPropertyCredentialsProvider");
        assertThat(status.out().lines().mapToInt(String::length).max().orElse(0)).isLessThan(400);

        Run plan = Cli.run("plan", "-f", config.toString(), "--stage", "sandbox", "--stacktrace",
                "--image", "registry.example.com/loan-api@sha256:" + "c".repeat(64));
        assertThat(plan.code()).isEqualTo(ExitCodes.NEEDS_ATTENTION);
        assertThat(plan.err().lines().filter(l -> l.startsWith("error: ")).toList())
                .containsExactly("error: ecs sandbox/loan-api: cannot describe service: " + AwsClients.NO_CREDENTIALS);
        assertThat(status.out() + status.err() + plan.out() + plan.err()).doesNotContain(PLANTED)
                .doesNotContain("Unable to load credentials");
        assertThat(AwsClients.NO_CREDENTIALS).contains("AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY", "AWS_PROFILE");
    }
}
