package dev.dualdeploy.local;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentStatusBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** What the simulator adds to the mock server must behave as a real API server does. */
class KubernetesSimulatorTest {

    private static KubernetesSimulator sim;

    @BeforeAll
    static void start() {
        sim = KubernetesSimulator.start();
    }

    @AfterAll
    static void stop() {
        sim.close();
    }

    @Test
    void aStatusWriteCarryingAStaleSpecChangesOnlyTheStatus() {
        KubernetesClient client = sim.client();
        sim.seedDeployment("status", "web", "app", "registry.example.com/web:1", 1);
        Deployment stale = client.apps().deployments().inNamespace("status").withName("web").get();
        client.apps().deployments().inNamespace("status").withName("web")
                .edit(d -> {
                    d.getSpec().getTemplate().getSpec().getContainers().get(0).setImage("registry.example.com/web:2");
                    return d;
                });

        stale.setStatus(new DeploymentStatusBuilder().withObservedGeneration(99L).build());
        client.apps().deployments().resource(stale).updateStatus();

        Deployment now = client.apps().deployments().inNamespace("status").withName("web").get();
        assertThat(now.getSpec().getTemplate().getSpec().getContainers().get(0).getImage()).isEqualTo("registry.example.com/web:2");
    }

    @Test
    void aSpecChangeBumpsTheGenerationAndAMetadataChangeDoesNot() {
        KubernetesClient client = sim.client();
        sim.seedDeployment("generation", "web", "app", "registry.example.com/web:1", 1);
        long created = client.apps().deployments().inNamespace("generation").withName("web").get().getMetadata().getGeneration();

        client.apps().deployments().inNamespace("generation").withName("web").edit(d -> {
            d.getMetadata().getAnnotations().put("note", "x");
            return d;
        });
        long afterAnnotation = client.apps().deployments().inNamespace("generation").withName("web").get().getMetadata().getGeneration();
        client.apps().deployments().inNamespace("generation").withName("web").edit(d -> {
            d.getSpec().setReplicas(3);
            return d;
        });
        long afterSpec = client.apps().deployments().inNamespace("generation").withName("web").get().getMetadata().getGeneration();

        assertThat(created).isEqualTo(1);
        assertThat(afterAnnotation).isEqualTo(1);
        assertThat(afterSpec).isEqualTo(2);
    }
}
