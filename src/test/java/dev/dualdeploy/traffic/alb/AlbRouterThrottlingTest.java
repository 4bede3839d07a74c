package dev.dualdeploy.traffic.alb;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.dualdeploy.config.RouterSpec;
import dev.dualdeploy.local.ElbSimulator;
import dev.dualdeploy.net.Timeouts;
import dev.dualdeploy.traffic.Split;
import dev.dualdeploy.traffic.TrafficException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.elasticloadbalancingv2.ElasticLoadBalancingV2Client;
import software.amazon.awssdk.services.elasticloadbalancingv2.model.ActionTypeEnum;
import software.amazon.awssdk.services.elasticloadbalancingv2.model.TargetGroupTuple;

/**
 * ELBv2 throttles past its request rate with {@code Throttling} (400). The router built as in production
 * ({@link AlbRouter#open}: the default credential chain, {@code AwsClients}' retry strategy with the retries of
 * {@link Timeouts}) leaves it to the SDK's standard retries: a few throttled answers are retried to success, and
 * throttling on every attempt is one clear line. The pause between attempts is the SDK's own jittered backoff for
 * throttling (0 to 2 s), which cannot be injected; the default of one retry keeps the three pauses here short.
 */
class AlbRouterThrottlingTest {

    private static final List<String> PROPERTIES = List.of(Timeouts.RETRIES_PROPERTY, "aws.accessKeyId", "aws.secretAccessKey",
            "aws.disableEc2Metadata");

    private final Map<String, String> saved = new HashMap<>();
    private ElbSimulator sim;
    private String rule;
    private AlbRouter router;

    @BeforeEach
    void alb() {
        PROPERTIES.forEach(p -> saved.put(p, System.getProperty(p)));
        System.setProperty(Timeouts.RETRIES_PROPERTY, "1"); // the default: one retry, two attempts
        System.setProperty("aws.accessKeyId", "test");
        System.setProperty("aws.secretAccessKey", "test");
        System.setProperty("aws.disableEc2Metadata", "true");
        sim = ElbSimulator.start();
        String legacy = sim.targetGroup("legacy");
        String kubernetes = sim.targetGroup("k8s");
        String lb = sim.loadBalancer("web");
        try (ElasticLoadBalancingV2Client seeder = ElasticLoadBalancingV2Client.builder().region(Region.EU_WEST_1)
                .endpointOverride(sim.endpoint()).httpClientBuilder(UrlConnectionHttpClient.builder())
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("local", "local"))).build()) {
            String listener = seeder.createListener(r -> r.loadBalancerArn(lb).protocol("HTTP").port(80)
                    .defaultActions(a -> a.type(ActionTypeEnum.FORWARD).targetGroupArn(legacy))).listeners().get(0).listenerArn();
            rule = seeder.createRule(r -> r.listenerArn(listener).priority(1).conditions(c -> c.field("path-pattern").values("/*"))
                    .actions(a -> a.type(ActionTypeEnum.FORWARD).forwardConfig(f -> f.targetGroups(
                            TargetGroupTuple.builder().targetGroupArn(legacy).weight(100).build(),
                            TargetGroupTuple.builder().targetGroupArn(kubernetes).weight(0).build())))).rules().get(0).ruleArn();
            router = AlbRouter.open(new RouterSpec.Alb("eu-west-1", listener, Optional.of(rule), legacy, kubernetes,
                    Optional.of(sim.endpoint())), name -> null);
        }
    }

    @AfterEach
    void restore() {
        router.close();
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
    void throttledAnswersAreRetriedByTheSdkUntilOneSucceeds() {
        sim.throttle(1);
        int before = sim.requests();

        router.set(Split.of(10));

        assertThat(sim.requests() - before).as("DescribeRules throttled, then it, then ModifyRule").isEqualTo(3);
        assertThat(sim.calls("DescribeRules")).isEqualTo(1);
        assertThat(sim.calls("ModifyRule")).isEqualTo(1);
        assertThat(sim.rule(rule).get("Actions.member.1.ForwardConfig.TargetGroups.member.2.Weight")).isEqualTo("10");
    }

    @Test
    void throttlingOnEveryAttemptIsOneClearLineAndChangesNothing() {
        sim.throttle(2);
        assertThatThrownBy(router::read).isInstanceOf(TrafficException.class).hasMessage("cannot read alb rule " + rule
                + ": ELBv2 DescribeRules answered Throttling: Rate exceeded (throttled on all 2 attempts)");

        sim.throttle("ModifyRule", 2);
        ElbSimulator.Stored before = sim.rule(rule);
        assertThatThrownBy(() -> router.set(Split.of(50))).isInstanceOf(TrafficException.class)
                .hasMessage("cannot set the split of alb rule " + rule
                        + ": ELBv2 ModifyRule answered Throttling: Rate exceeded (throttled on all 2 attempts)");
        assertThat(sim.rule(rule).changedFrom(before)).isEmpty();
        assertThat(router.read().reported()).isEqualTo("weights legacy=100 kubernetes=0");
    }
}
