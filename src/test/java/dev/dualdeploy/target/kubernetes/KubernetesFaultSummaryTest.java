package dev.dualdeploy.target.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.client.KubernetesClientException;
import java.io.IOException;
import java.nio.channels.ClosedChannelException;
import org.junit.jupiter.api.Test;

/**
 * Issue 8 item 16 (found by the review of the merged fixes): with the local environment killed mid-deploy, the
 * Kubernetes side failed with "cannot watch the rollout: ClosedChannelException", a class name and no reason.
 */
class KubernetesFaultSummaryTest {

    @Test
    void aConnectionClosedUnderAWatchIsSaidInWords() {
        KubernetesClientException closed = new KubernetesClientException("An error has occurred.",
                new IOException(new ClosedChannelException()));

        assertThat(KubernetesTarget.summary(closed)).isEqualTo("the connection to the Kubernetes API server closed without an answer");
    }

    @Test
    void aRootCauseWithAMessageIsKept() {
        KubernetesClientException refused = new KubernetesClientException("An error has occurred.",
                new IOException("certificate has expired"));

        assertThat(KubernetesTarget.summary(refused)).isEqualTo("certificate has expired");
    }
}
