package dev.dualdeploy.targets.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.io.IOException;
import java.nio.channels.ClosedChannelException;
import org.junit.jupiter.api.Test;

/**
 * Issue 8 item 16 (found by the review of the merged fixes): with the local environment killed mid-deploy, the
 * Kubernetes side failed with "cannot watch the rollout: ClosedChannelException", a class name and no reason.
 */
class KubernetesFaultSummaryTest {

    /** A client that is never used to connect: summary only reads its API server's URL. */
    private final KubernetesClient client = new KubernetesClientBuilder()
            .withConfig(new ConfigBuilder().withMasterUrl("https://127.0.0.1:6443/").build()).build();

    @Test
    void aConnectionClosedUnderAWatchIsSaidInWords() {
        KubernetesClientException closed = new KubernetesClientException("An error has occurred.",
                new IOException(new ClosedChannelException()));

        assertThat(KubernetesTarget.summary(client, closed)).isEqualTo("the connection to https://127.0.0.1:6443 closed without an answer");
    }

    @Test
    void aRootCauseWithAMessageIsKept() {
        KubernetesClientException refused = new KubernetesClientException("An error has occurred.",
                new IOException("certificate has expired"));

        assertThat(KubernetesTarget.summary(client, refused)).isEqualTo("certificate has expired");
    }
}
