package dev.dualdeploy.traffic.alb;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.tuple;
import static org.assertj.core.api.Assertions.within;

import dev.dualdeploy.config.RouterSpec;
import dev.dualdeploy.local.ElbSimulator;
import dev.dualdeploy.traffic.Split;
import dev.dualdeploy.traffic.TrafficException;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.elasticloadbalancingv2.ElasticLoadBalancingV2Client;
import software.amazon.awssdk.services.elasticloadbalancingv2.model.Action;
import software.amazon.awssdk.services.elasticloadbalancingv2.model.ActionTypeEnum;
import software.amazon.awssdk.services.elasticloadbalancingv2.model.AuthenticateOidcActionConfig;
import software.amazon.awssdk.services.elasticloadbalancingv2.model.Rule;
import software.amazon.awssdk.services.elasticloadbalancingv2.model.RuleCondition;
import software.amazon.awssdk.services.elasticloadbalancingv2.model.TargetGroupTuple;

/**
 * The ALB router through the real ELBv2 SDK client against the AWS Query simulator: the split is set and read back on
 * a rule and on a listener's default action, and what the simulator holds afterwards differs from before in the two
 * weights alone.
 */
class AlbRouterTest {

    private static ElbSimulator sim;
    private static ElasticLoadBalancingV2Client client;
    private String legacy;
    private String kubernetes;
    private String listener;

    @BeforeAll
    static void start() {
        sim = ElbSimulator.start();
        client = ElasticLoadBalancingV2Client.builder().region(Region.EU_WEST_1).endpointOverride(sim.endpoint())
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("local", "local")))
                .httpClientBuilder(UrlConnectionHttpClient.builder()).build();
    }

    @AfterAll
    static void stop() {
        client.close();
        sim.close();
    }

    /** A fresh ALB for each test: an HTTPS listener whose default action forwards to the legacy group alone. */
    @BeforeEach
    void alb() {
        legacy = sim.targetGroup("legacy");
        kubernetes = sim.targetGroup("k8s");
        String lb = sim.loadBalancer("web");
        listener = client.createListener(r -> r.loadBalancerArn(lb).protocol("HTTPS").port(443)
                .sslPolicy("ELBSecurityPolicy-TLS13-1-2-2021-06")
                .certificates(c -> c.certificateArn("arn:aws:acm:eu-west-1:000000000000:certificate/1"))
                .defaultActions(a -> a.type(ActionTypeEnum.FORWARD).targetGroupArn(legacy))).listeners().get(0).listenerArn();
    }

    private AlbRouter router(Optional<String> rule) {
        return new AlbRouter(client, new RouterSpec.Alb("eu-west-1", listener, rule, legacy, kubernetes, Optional.of(sim.endpoint())));
    }

    private String rule(int priority, List<RuleCondition> conditions, Action... actions) {
        return client.createRule(r -> r.listenerArn(listener).priority(priority).conditions(conditions).actions(actions))
                .rules().get(0).ruleArn();
    }

    private static RuleCondition path(String pattern) {
        return RuleCondition.builder().field("path-pattern").pathPatternConfig(p -> p.values(pattern)).build();
    }

    private Action weighted(int legacyWeight, int kubernetesWeight) {
        return Action.builder().type(ActionTypeEnum.FORWARD).forwardConfig(f -> f.targetGroups(
                TargetGroupTuple.builder().targetGroupArn(legacy).weight(legacyWeight).build(),
                TargetGroupTuple.builder().targetGroupArn(kubernetes).weight(kubernetesWeight).build())).build();
    }

    @Test
    void aRuleIsSetAndReadBackAtEachStepWithExactWeights() {
        String rule = rule(10, List.of(path("/api/*")), weighted(100, 0));
        AlbRouter router = router(Optional.of(rule));

        for (int percent : new int[] {0, 10, 50, 100}) {
            router.set(Split.of(percent));

            Split read = router.read();
            assertThat(read.kubernetes()).isEqualTo(percent);
            assertThat(read.reported()).isEqualTo("weights legacy=" + (100 - percent) + " kubernetes=" + percent);
            String weights = "Actions.member.1.ForwardConfig.TargetGroups.member.";
            assertThat(sim.rule(rule).get(weights + "1.Weight")).isEqualTo(String.valueOf(100 - percent));
            assertThat(sim.rule(rule).get(weights + "2.Weight")).isEqualTo(String.valueOf(percent));
        }
        assertThat(router.describe()).isEqualTo("alb rule " + rule);
    }

    @Test
    void theListenersDefaultActionIsSetAndReadBackAndNothingElseOfTheListenerIsSent() {
        AlbRouter router = router(Optional.empty());
        ElbSimulator.Stored before = sim.listener(listener);

        for (int percent : new int[] {0, 10, 50, 100}) {
            router.set(Split.of(percent));
            assertThat(router.read()).satisfies(read -> {
                assertThat(read.kubernetes()).isEqualTo(percent);
                assertThat(read.reported()).isEqualTo("weights legacy=" + (100 - percent) + " kubernetes=" + percent);
            });
        }

        ElbSimulator.Stored sent = sim.lastModified().orElseThrow();
        assertThat(sent.action()).isEqualTo("ModifyListener");
        assertThat(sent.fields().keySet()).allSatisfy(k -> assertThat(k).matches("ListenerArn|DefaultActions\\..*"));
        // The single-group form became both groups at 0/100; port, protocol, policy and certificate are as they were.
        assertThat(sim.listener(listener).changedFrom(before)).isEqualTo(new TreeMap<>(Map.of(
                "DefaultActions.member.1.TargetGroupArn", "(removed)",
                "DefaultActions.member.1.ForwardConfig.TargetGroups.member.1.Weight", "0",
                "DefaultActions.member.1.ForwardConfig.TargetGroups.member.2.TargetGroupArn", kubernetes,
                "DefaultActions.member.1.ForwardConfig.TargetGroups.member.2.Weight", "100")));
        assertThat(router.describe()).isEqualTo("alb listener " + listener + " default action");
    }

    @Test
    void aRuleWithAuthenticationAndStickinessKeepsEverythingButTheWeights() {
        Action oidc = Action.builder().type(ActionTypeEnum.AUTHENTICATE_OIDC).order(1)
                .authenticateOidcConfig(AuthenticateOidcActionConfig.builder()
                .issuer("https://idp.example.com").authorizationEndpoint("https://idp.example.com/authorize")
                .tokenEndpoint("https://idp.example.com/token").userInfoEndpoint("https://idp.example.com/userinfo")
                .clientId("loan-api").clientSecret("s3cret-of-the-idp").sessionCookieName("LOANSESSION").scope("openid email")
                .sessionTimeout(3600L).authenticationRequestExtraParams(Map.of("prompt", "login", "display", "page"))
                .onUnauthenticatedRequest("authenticate").build()).build();
        Action forward = weighted(100, 0).toBuilder().order(2)
                .forwardConfig(weighted(100, 0).forwardConfig().toBuilder()
                        .targetGroupStickinessConfig(s -> s.enabled(true).durationSeconds(3600)).build())
                .build();
        List<RuleCondition> conditions = List.of(
                RuleCondition.builder().field("host-header").hostHeaderConfig(h -> h.values("loans.example.com")).build(),
                path("/apply/*"));
        String rule = rule(20, conditions, oidc, forward);
        ElbSimulator.Stored before = sim.rule(rule);
        Rule described = client.describeRules(r -> r.ruleArns(rule)).rules().get(0);

        router(Optional.of(rule)).set(Split.of(10));

        SortedMap<String, String> changed = sim.rule(rule).changedFrom(before);
        assertThat(changed).isEqualTo(new TreeMap<>(Map.of(
                "Actions.member.2.ForwardConfig.TargetGroups.member.1.Weight", "90",
                "Actions.member.2.ForwardConfig.TargetGroups.member.2.Weight", "10")));
        assertThat(sim.rule(rule).get("Actions.member.1.AuthenticateOidcConfig.ClientSecret")).as("the secret ELBv2 never answers")
                .isEqualTo("s3cret-of-the-idp");
        ElbSimulator.Stored sent = sim.lastModified().orElseThrow();
        assertThat(sent.action()).isEqualTo("ModifyRule");
        assertThat(sent.has("Conditions")).as("conditions are not sent, so they cannot change").isFalse();
        assertThat(sent.get("Actions.member.1.AuthenticateOidcConfig.UseExistingClientSecret")).isEqualTo("true");

        // The same through the SDK, field by field: the authentication action, the conditions and the priority equal.
        Rule after = client.describeRules(r -> r.ruleArns(rule)).rules().get(0);
        assertThat(after.conditions()).isEqualTo(described.conditions());
        assertThat(after.priority()).isEqualTo("20");
        assertThat(after.actions().get(0)).isEqualTo(described.actions().get(0));
        Action weightedAfter = after.actions().get(1);
        Action weightedBefore = described.actions().get(1);
        assertThat(weightedAfter.type()).isEqualTo(weightedBefore.type());
        assertThat(weightedAfter.order()).isEqualTo(2);
        assertThat(weightedAfter.targetGroupArn()).isNull();
        assertThat(weightedAfter.forwardConfig().targetGroupStickinessConfig())
                .isEqualTo(weightedBefore.forwardConfig().targetGroupStickinessConfig());
        assertThat(weightedAfter.forwardConfig().targetGroupStickinessConfig().durationSeconds()).isEqualTo(3600);
        assertThat(weightedAfter.forwardConfig().targetGroups()).extracting(TargetGroupTuple::targetGroupArn, TargetGroupTuple::weight)
                .containsExactly(tuple(legacy, 90), tuple(kubernetes, 10));
    }

    @Test
    void aSingleTargetGroupArnForwardIsAllOnThatSideUntilSetThenBecomesBothGroups() {
        Action single = Action.builder().type(ActionTypeEnum.FORWARD).targetGroupArn(legacy).build();
        String rule = rule(30, List.of(path("/legacy/*")), single);
        AlbRouter router = router(Optional.of(rule));
        ElbSimulator.Stored before = sim.rule(rule);

        // Before its first cutover a listener forwards to the legacy group alone: 0% on kubernetes, exactly.
        assertThat(router.read()).isEqualTo(new Split(0, "weights legacy=1 kubernetes=0"));

        router.set(Split.of(10));

        assertThat(router.read().reported()).isEqualTo("weights legacy=90 kubernetes=10");
        assertThat(sim.rule(rule).changedFrom(before)).isEqualTo(new TreeMap<>(Map.of(
                "Actions.member.1.TargetGroupArn", "(removed)",
                "Actions.member.1.ForwardConfig.TargetGroups.member.1.Weight", "90",
                "Actions.member.1.ForwardConfig.TargetGroups.member.2.TargetGroupArn", kubernetes,
                "Actions.member.1.ForwardConfig.TargetGroups.member.2.Weight", "10")));
    }

    @Test
    void aThirdTargetGroupWithTrafficIsRefusedAndOneAtZeroIsKept() {
        String other = sim.targetGroup("batch");
        Action three = weighted(80, 10).toBuilder().forwardConfig(f -> f.targetGroups(
                TargetGroupTuple.builder().targetGroupArn(legacy).weight(80).build(),
                TargetGroupTuple.builder().targetGroupArn(kubernetes).weight(10).build(),
                TargetGroupTuple.builder().targetGroupArn(other).weight(10).build())).build();
        String rule = rule(40, List.of(path("/three/*")), three);
        AlbRouter router = router(Optional.of(rule));
        int modifications = sim.calls("ModifyRule");
        ElbSimulator.Stored before = sim.rule(rule);

        String refused = "alb rule " + rule + ": its forward action also sends traffic to target group " + other
                + " (weight 10), which is neither the legacy nor the kubernetes group; set its weight to 0 or remove it first";
        assertThatThrownBy(router::read).isInstanceOf(TrafficException.class).hasMessage("cannot read " + refused);
        assertThatThrownBy(() -> router.set(Split.of(50))).isInstanceOf(TrafficException.class)
                .hasMessage("cannot set the split of " + refused);
        assertThat(sim.calls("ModifyRule")).isEqualTo(modifications);
        assertThat(sim.rule(rule).changedFrom(before)).isEmpty();

        String idle = rule(41, List.of(path("/idle/*")), three.toBuilder().forwardConfig(f -> f.targetGroups(
                TargetGroupTuple.builder().targetGroupArn(legacy).weight(100).build(),
                TargetGroupTuple.builder().targetGroupArn(other).weight(0).build())).build());
        router(Optional.of(idle)).set(Split.of(25));
        assertThat(router(Optional.of(idle)).read().reported()).isEqualTo("weights legacy=75 kubernetes=25");
        assertThat(sim.rule(idle).get("Actions.member.1.ForwardConfig.TargetGroups.member.2.TargetGroupArn")).isEqualTo(other);
        assertThat(sim.rule(idle).get("Actions.member.1.ForwardConfig.TargetGroups.member.2.Weight")).isEqualTo("0");
        assertThat(sim.rule(idle).get("Actions.member.1.ForwardConfig.TargetGroups.member.3.TargetGroupArn")).isEqualTo(kubernetes);
    }

    @Test
    void noForwardActionAndBothWeightsZeroAreNoSplit() {
        String fixed = rule(50, List.of(path("/maintenance/*")), Action.builder().type(ActionTypeEnum.FIXED_RESPONSE)
                .fixedResponseConfig(f -> f.statusCode("503").contentType("text/plain").messageBody("down for maintenance")).build());
        assertThatThrownBy(() -> router(Optional.of(fixed)).read()).isInstanceOf(TrafficException.class)
                .hasMessage("cannot read alb rule " + fixed + ": it has no forward action, only [fixed-response]");
        assertThatThrownBy(() -> router(Optional.of(fixed)).set(Split.of(10))).isInstanceOf(TrafficException.class)
                .hasMessageStartingWith("cannot set the split of alb rule " + fixed + ": it has no forward action");

        String zero = rule(51, List.of(path("/zero/*")), weighted(0, 0));
        assertThatThrownBy(() -> router(Optional.of(zero)).read()).isInstanceOf(TrafficException.class)
                .hasMessage("cannot read alb rule " + zero + ": both target groups have weight 0, which is no split (" + legacy + " weight 0, "
                        + kubernetes + " weight 0)");
    }

    @Test
    void aMissingRuleOrListenerIsTheServicesErrorInOneLine() {
        String missing = listener.replace(":listener/", ":listener-rule/") + "/0000000000000000";
        assertThatThrownBy(() -> router(Optional.of(missing)).read()).isInstanceOf(TrafficException.class)
                .hasMessage("cannot read alb rule " + missing
                        + ": ELBv2 DescribeRules answered RuleNotFound: One or more rules not found");

        String gone = listener + "0";
        AlbRouter router = new AlbRouter(client, new RouterSpec.Alb("eu-west-1", gone, Optional.empty(), legacy, kubernetes,
                Optional.empty()));
        assertThatThrownBy(() -> router.set(Split.of(10))).isInstanceOf(TrafficException.class)
                .hasMessage("cannot set the split of alb listener " + gone
                        + " default action: ELBv2 DescribeListeners answered ListenerNotFound: One or more listeners not found");
    }

    @Test
    void settingTheSplitItAlreadyAppliesWritesNothing() {
        String rule = rule(60, List.of(path("/same/*")), weighted(90, 10));
        int modifications = sim.calls("ModifyRule");

        router(Optional.of(rule)).set(Split.of(10));

        assertThat(sim.calls("ModifyRule")).isEqualTo(modifications);
        assertThat(router(Optional.of(rule)).read().kubernetes()).isEqualTo(10);
    }

    @Test
    void aShareThatIsNoWholePercentIsWrittenAsTheNearestWeightsAndReadBackExactly() {
        assertThat(AlbRouter.weights(0)).containsExactly(100, 0);
        assertThat(AlbRouter.weights(100)).containsExactly(0, 100);
        assertThat(AlbRouter.weights(37)).containsExactly(63, 37);
        assertThat(AlbRouter.weights(12.5)).containsExactly(175, 25);
        assertThat(AlbRouter.weights(100.0 / 3)).containsExactly(200, 100);
        assertThat(AlbRouter.weights(100.0 / 11)).as("no multiple of 100 is exact; 110 is").containsExactly(100, 10);

        String rule = rule(70, List.of(path("/third/*")), weighted(100, 0));
        router(Optional.of(rule)).set(new Split(100.0 / 3, ""));
        assertThat(router(Optional.of(rule)).read().kubernetes()).isCloseTo(100.0 / 3, within(1e-9));
    }
}
