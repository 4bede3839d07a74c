package dev.dualdeploy.targets.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dualdeploy.config.KubernetesSpec;
import dev.dualdeploy.local.KubernetesSimulator;
import dev.dualdeploy.net.Timeouts;
import dev.dualdeploy.targets.RolloutResult;
import dev.dualdeploy.testing.Images;
import dev.dualdeploy.testing.SilencingProxy;
import dev.dualdeploy.time.Sleeper;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Issue 8 item 16, found by the hostile review: a Kubernetes rollout whose API server stops answering in its middle
 * followed it until the stage's timeout (10 minutes by default). It ends FAILED, saying why, once the API server has
 * not answered for one whole call ({@link Timeouts#call()}, 2s here).
 */
class KubernetesRolloutSilenceTest {

    private static final List<String> PROPERTIES = List.of(Timeouts.CONNECT_PROPERTY, Timeouts.READ_PROPERTY,
            Timeouts.RETRIES_PROPERTY);

    private final Map<String, String> saved = new HashMap<>();
    private KubernetesSimulator sim;
    private SilencingProxy proxy;

    @BeforeEach
    void start() {
        PROPERTIES.forEach(p -> saved.put(p, System.getProperty(p)));
        System.setProperty(Timeouts.CONNECT_PROPERTY, "1s");
        System.setProperty(Timeouts.READ_PROPERTY, "1s");
        System.setProperty(Timeouts.RETRIES_PROPERTY, "0");
        sim = KubernetesSimulator.start();
        proxy = new SilencingProxy(URI.create(sim.url()).getPort());
    }

    @AfterEach
    void stop() throws Exception {
        proxy.close();
        sim.close();
        saved.forEach((p, v) -> {
            if (v == null) {
                System.clearProperty(p);
            } else {
                System.setProperty(p, v);
            }
        });
    }

    @Test
    @Timeout(180) // before the fix, the informer's unbounded first list held the rollout forever
    void aRolloutWhoseApiServerStopsAnsweringEndsAfterOneWholeCallNotAtTheStageTimeout() {
        sim.seedDeployment("prod", "loan-api", "app", Images.release('a', "1.0.0").image(), 3);
        Timeouts timeouts = Timeouts.current();
        try (KubernetesClient client = new KubernetesClientBuilder().withConfig(new ConfigBuilder().withMasterUrl(proxy.url())
                .withConnectionTimeout((int) timeouts.connect().toMillis()).withRequestTimeout((int) timeouts.read().toMillis())
                .withRequestRetryBackoffLimit(timeouts.retries()).build()).build()) {
            KubernetesSpec spec = new KubernetesSpec(Optional.empty(), "prod", "loan-api", "app", Optional.empty(), Optional.empty());
            // The API server goes silent as soon as the rollout has reported its first progress: the informers run.
            KubernetesTarget target = new KubernetesTarget(client, spec, message -> {
                if (message.startsWith("updated") || message.startsWith("waiting")) {
                    proxy.silence();
                }
            }, Sleeper.SYSTEM, Clock.systemUTC());

            RolloutResult result = target.deploy(Images.release('b', "1.1.0")).await(Duration.ofMinutes(2));

            assertThat(result.outcome()).as(result.reason()).isEqualTo(RolloutResult.Outcome.FAILED);
            assertThat(result.reason()).startsWith("the platform stopped answering, so the rollout cannot be followed: ")
                    .contains("no answer from " + proxy.url() + " within 1s");
            // Not the stage's timeout: about one call of silence, plus the 5s re-check that notices it.
            assertThat(result.took()).isLessThan(Duration.ofSeconds(60));
        }
    }
}
