package dev.dualdeploy.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentBuilder;
import io.fabric8.kubernetes.api.model.apps.DeploymentStatusBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
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

    /**
     * Issue 8 item 28: the ownership of a Deployment's spec.replicas is modelled as a real API server keeps it. An
     * apply that leaves out the field its manager alone owns removes it (the Deployment falls to 1 replica); with a
     * second manager co-owning the field at the same count (the handover) the omission leaves it; and an apply
     * without force that would change a count another manager owns conflicts.
     */
    @Test
    void anApplyWithoutReplicasRemovesThemOnlyFromTheirSoleOwner() {
        KubernetesClient client = sim.client();
        client.apps().deployments().inNamespace("owners").resource(replicasOnly(4)).fieldManager("first").forceConflicts().serverSideApply();
        client.apps().deployments().inNamespace("owners").resource(replicasOnly(2)).fieldManager("dualdeploy").forceConflicts().serverSideApply();

        client.apps().deployments().inNamespace("owners").resource(withoutReplicas()).fieldManager("dualdeploy").forceConflicts().serverSideApply();
        assertThat(replicas(client)).as("the sole owner dropped the field").isEqualTo(1);

        client.apps().deployments().inNamespace("owners").resource(replicasOnly(3)).fieldManager("dualdeploy").forceConflicts().serverSideApply();
        client.apps().deployments().inNamespace("owners").resource(replicasOnly(3)).fieldManager("handover").serverSideApply();
        client.apps().deployments().inNamespace("owners").resource(withoutReplicas()).fieldManager("dualdeploy").forceConflicts().serverSideApply();
        assertThat(replicas(client)).as("co-owned, the field stays").isEqualTo(3);

        assertThatThrownBy(() -> client.apps().deployments().inNamespace("owners").resource(replicasOnly(6))
                .fieldManager("other").serverSideApply())
                .isInstanceOfSatisfying(KubernetesClientException.class, e -> assertThat(e.getCode()).isEqualTo(409));
        assertThat(replicas(client)).isEqualTo(3);
    }

    private static int replicas(KubernetesClient client) {
        return client.apps().deployments().inNamespace("owners").withName("web").get().getSpec().getReplicas();
    }

    private static Deployment replicasOnly(int replicas) {
        return new DeploymentBuilder().withNewMetadata().withName("web").withNamespace("owners").endMetadata()
                .withNewSpec().withReplicas(replicas).endSpec().build();
    }

    private static Deployment withoutReplicas() {
        return new DeploymentBuilder().withNewMetadata().withName("web").withNamespace("owners").addToLabels("applied", "yes").endMetadata()
                .withNewSpec().withMinReadySeconds(0).endSpec().build();
    }
}
