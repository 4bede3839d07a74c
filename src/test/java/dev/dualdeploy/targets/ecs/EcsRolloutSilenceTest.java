package dev.dualdeploy.targets.ecs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dualdeploy.config.EcsSpec;
import dev.dualdeploy.net.Timeouts;
import dev.dualdeploy.targets.RolloutResult;
import dev.dualdeploy.testing.LoopbackListener;
import dev.dualdeploy.time.SteppedClock;
import java.io.IOException;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.ecs.EcsClient;

/**
 * Issue 8 item 16, found by the hostile review: an ECS rollout whose platform stops answering polled it until the
 * stage's timeout (10 minutes by default), each poll paying its read timeout. It ends FAILED, saying why, once the
 * platform has not answered for one whole call; the stepped clock keeps time, the listener counts the polls.
 */
class EcsRolloutSilenceTest {

    private static final List<String> PROPERTIES = List.of(Timeouts.CONNECT_PROPERTY, Timeouts.READ_PROPERTY,
            Timeouts.RETRIES_PROPERTY, "aws.accessKeyId", "aws.secretAccessKey", "aws.disableEc2Metadata");

    private final Map<String, String> saved = new HashMap<>();
    private LoopbackListener silent;

    @BeforeEach
    void silentPeer() {
        PROPERTIES.forEach(p -> saved.put(p, System.getProperty(p)));
        System.setProperty(Timeouts.CONNECT_PROPERTY, "1s");
        System.setProperty(Timeouts.READ_PROPERTY, "500ms");
        System.setProperty(Timeouts.RETRIES_PROPERTY, "0");
        System.setProperty("aws.accessKeyId", "test");
        System.setProperty("aws.secretAccessKey", "test");
        System.setProperty("aws.disableEc2Metadata", "true");
        silent = LoopbackListener.silent();
    }

    @AfterEach
    void restore() throws IOException {
        silent.close();
        saved.forEach((p, v) -> {
            if (v == null) {
                System.clearProperty(p);
            } else {
                System.setProperty(p, v);
            }
        });
    }

    @Test
    void aRolloutWhosePlatformStopsAnsweringEndsAfterOneWholeCallNotAtTheStageTimeout() {
        EcsSpec spec = new EcsSpec("prod", "loan-api", "app", "eu-west-1", Optional.of(URI.create(silent.url())),
                Duration.ofSeconds(3));
        SteppedClock clock = new SteppedClock(Instant.parse("2026-12-01T00:00:00Z"));
        try (EcsClient client = EcsTarget.connect(spec, Timeouts.current())) {
            EcsRollout rollout = new EcsRollout(client, spec, "arn:aws:ecs:eu-west-1:1:task-definition/loan-api:2", "ecs-svc/1",
                    message -> { }, clock, clock);

            RolloutResult result = rollout.await(Duration.ofMinutes(1));

            assertThat(result.outcome()).isEqualTo(RolloutResult.Outcome.FAILED);
            assertThat(result.reason()).startsWith("the platform stopped answering, so the rollout cannot be followed: ")
                    .contains("no answer from " + silent.url() + " within 500ms");
            // Timeouts.call() is 1.5s here: the first poll's fault is at 0s of silence, the second, 3s later, ends it.
            // Without the rule it polled 20 times, until the stage timeout (1 minute at 3s; 200 times with the default 10m).
            assertThat(silent.connections()).isEqualTo(2);
            assertThat(result.took()).isEqualTo(Duration.ofSeconds(3));
        }
    }
}
