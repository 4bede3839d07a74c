package dev.dualdeploy.traffic.alb;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.dualdeploy.local.ElbSimulator;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.elasticloadbalancingv2.ElasticLoadBalancingV2Client;
import software.amazon.awssdk.services.elasticloadbalancingv2.model.Action;
import software.amazon.awssdk.services.elasticloadbalancingv2.model.ActionTypeEnum;
import software.amazon.awssdk.services.elasticloadbalancingv2.model.ListenerNotFoundException;
import software.amazon.awssdk.services.elasticloadbalancingv2.model.ModifyRuleRequest;
import software.amazon.awssdk.services.elasticloadbalancingv2.model.Rule;
import software.amazon.awssdk.services.elasticloadbalancingv2.model.RuleNotFoundException;
import software.amazon.awssdk.services.elasticloadbalancingv2.model.TargetGroupNotFoundException;
import software.amazon.awssdk.services.elasticloadbalancingv2.model.TargetGroupTuple;

/**
 * The ELBv2 simulator through the real SDK client: what it refuses, with ELBv2's error codes (which the SDK maps to its
 * modelled exceptions), and how it answers what it holds. A refusal changes nothing.
 */
class ElbSimulatorTest {

    private static ElbSimulator sim;
    private static ElasticLoadBalancingV2Client client;
    private String legacy;
    private String kubernetes;
    private String listener;
    private String rule;

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

    @BeforeEach
    void alb() {
        legacy = sim.targetGroup("legacy");
        kubernetes = sim.targetGroup("k8s");
        String lb = sim.loadBalancer("web");
        listener = client.createListener(r -> r.loadBalancerArn(lb).protocol("HTTP").port(80)
                .defaultActions(a -> a.type(ActionTypeEnum.FORWARD).targetGroupArn(legacy))).listeners().get(0).listenerArn();
        rule = client.createRule(r -> r.listenerArn(listener).priority(5)
                .conditions(c -> c.field("host-header").values("api.example.com"),
                        c -> c.field("path-pattern").pathPatternConfig(p -> p.values("/v2/*")))
                .actions(oidc("idp-secret"), forward(2, 100, 0))).rules().get(0).ruleArn();
    }

    private static Action oidc(String secret) {
        return Action.builder().type(ActionTypeEnum.AUTHENTICATE_OIDC).order(1)
                .authenticateOidcConfig(o -> o.issuer("https://idp.example.com")
                .authorizationEndpoint("https://idp.example.com/a").tokenEndpoint("https://idp.example.com/t")
                .userInfoEndpoint("https://idp.example.com/u").clientId("app").clientSecret(secret)).build();
    }

    private Action forward(int order, int legacyWeight, int kubernetesWeight) {
        return Action.builder().type(ActionTypeEnum.FORWARD).order(order).forwardConfig(f -> f.targetGroups(
                TargetGroupTuple.builder().targetGroupArn(legacy).weight(legacyWeight).build(),
                TargetGroupTuple.builder().targetGroupArn(kubernetes).weight(kubernetesWeight).build())).build();
    }

    private Action keptOidc() {
        Action oidc = oidc(null);
        return oidc.toBuilder().authenticateOidcConfig(oidc.authenticateOidcConfig().toBuilder().useExistingClientSecret(true).build())
                .build();
    }

    /** The modification is refused with this code and message, and the rule is as it was. */
    private void refused(Consumer<ModifyRuleRequest.Builder> modification, String code, String message) {
        ElbSimulator.Stored before = sim.rule(rule);
        assertThatThrownBy(() -> client.modifyRule(r -> modification.accept(r.ruleArn(rule))))
                .isInstanceOf(AwsServiceException.class)
                .satisfies(e -> {
                    assertThat(((AwsServiceException) e).awsErrorDetails().errorCode()).isEqualTo(code);
                    assertThat(((AwsServiceException) e).awsErrorDetails().errorMessage()).contains(message);
                    assertThat(((AwsServiceException) e).statusCode()).isEqualTo(400);
                });
        assertThat(sim.rule(rule).changedFrom(before)).isEmpty();
    }

    @Test
    void weightsOutsideZeroTo999AreAValidationError() {
        refused(r -> r.actions(keptOidc(), forward(2, 1000, 0)), "ValidationError",
                "Value '1000' at 'actions.2.member.forwardConfig.targetGroups.1.member.weight' failed to satisfy constraint: "
                        + "Member must have value less than or equal to 999");
        refused(r -> r.actions(keptOidc(), forward(2, 50, -1)), "ValidationError",
                "Member must have value greater than or equal to 0");
    }

    @Test
    void anUnknownTargetGroupIsTargetGroupNotFound() {
        Action unknown = forward(2, 90, 10).toBuilder().forwardConfig(f -> f.targetGroups(
                TargetGroupTuple.builder().targetGroupArn(legacy).weight(90).build(),
                TargetGroupTuple.builder().targetGroupArn(kubernetes + "x").weight(10).build())).build();
        refused(r -> r.actions(keptOidc(), unknown), "TargetGroupNotFound", "One or more target groups not found");
        assertThatThrownBy(() -> client.modifyRule(r -> r.ruleArn(rule).actions(keptOidc(), unknown)))
                .isInstanceOf(TargetGroupNotFoundException.class);
    }

    @Test
    void aSingleTargetGroupArnBesideTwoWeightedGroupsIsAValidationError() {
        refused(r -> r.actions(keptOidc(), forward(2, 90, 10).toBuilder().targetGroupArn(legacy).build()), "ValidationError",
                "You cannot specify both TargetGroupArn and a ForwardConfig");
    }

    @Test
    void unknownActionsMissingOrdersAndAForwardThatIsNotLastAreValidationErrors() {
        refused(r -> r.actions(keptOidc(), Action.builder().type("jwt-validation").order(2).build()), "ValidationError",
                "Value 'jwt-validation' at 'actions.2.member.type' failed to satisfy constraint: Member must satisfy enum value set");
        refused(r -> r.actions(keptOidc(), forward(2, 90, 10).toBuilder().order(null).build()), "ValidationError",
                "An action order must be specified");
        refused(r -> r.actions(keptOidc().toBuilder().order(3).build(), forward(2, 90, 10)), "ValidationError",
                "it must be the last action to be performed");
    }

    @Test
    void theOidcClientSecretIsNeverAnsweredAndMustBeSentOrKept() {
        Rule described = client.describeRules(r -> r.ruleArns(rule)).rules().get(0);
        assertThat(described.actions().get(0).authenticateOidcConfig().clientSecret()).isNull();
        assertThat(described.actions().get(0).authenticateOidcConfig().clientId()).isEqualTo("app");

        refused(r -> r.actions(described.actions()), "ValidationError", "A client secret must be specified");

        client.modifyRule(r -> r.ruleArn(rule).actions(keptOidc(), forward(2, 90, 10)));
        assertThat(sim.rule(rule).get("Actions.member.1.AuthenticateOidcConfig.ClientSecret")).isEqualTo("idp-secret");
        assertThat(sim.rule(rule).has("Actions.member.1.AuthenticateOidcConfig.UseExistingClientSecret")).isFalse();
        client.modifyRule(r -> r.ruleArn(rule).actions(oidc("rotated"), forward(2, 90, 10)));
        assertThat(sim.rule(rule).get("Actions.member.1.AuthenticateOidcConfig.ClientSecret")).isEqualTo("rotated");
    }

    @Test
    void aModificationKeepsWhatItDoesNotSendAndReplacesWhatItSends() {
        client.modifyRule(r -> r.ruleArn(rule).actions(keptOidc(), forward(2, 50, 50)));
        Rule kept = client.describeRules(r -> r.ruleArns(rule)).rules().get(0);
        assertThat(kept.conditions()).hasSize(2);
        assertThat(kept.conditions().get(0).values()).containsExactly("api.example.com");
        assertThat(kept.conditions().get(1).pathPatternConfig().values()).containsExactly("/v2/*");
        assertThat(kept.priority()).isEqualTo("5");
        assertThat(kept.isDefault()).isFalse();

        client.modifyRule(r -> r.ruleArn(rule).conditions(c -> c.field("path-pattern").values("/v3/*")));
        Rule replaced = client.describeRules(r -> r.ruleArns(rule)).rules().get(0);
        assertThat(replaced.conditions()).hasSize(1);
        assertThat(replaced.actions()).isEqualTo(kept.actions());
    }

    @Test
    void aForwardIsAnsweredAsElbv2AnswersIt() {
        Action single = client.describeListeners(r -> r.listenerArns(listener)).listeners().get(0).defaultActions().get(0);
        assertThat(single.targetGroupArn()).isEqualTo(legacy);
        assertThat(single.forwardConfig().targetGroups())
                .containsExactly(TargetGroupTuple.builder().targetGroupArn(legacy).weight(1).build());
        assertThat(single.forwardConfig().targetGroupStickinessConfig().enabled()).isFalse();

        Action weighted = client.describeRules(r -> r.ruleArns(rule)).rules().get(0).actions().get(1);
        assertThat(weighted.targetGroupArn()).isNull();
        assertThat(weighted.order()).isEqualTo(2);
        assertThat(weighted.forwardConfig().targetGroups()).extracting(TargetGroupTuple::weight).containsExactly(100, 0);
    }

    @Test
    void unknownRulesAndListenersAreTheirNotFoundErrors() {
        assertThatThrownBy(() -> client.describeRules(r -> r.ruleArns(rule + "0"))).isInstanceOf(RuleNotFoundException.class)
                .hasMessageStartingWith("One or more rules not found");
        assertThatThrownBy(() -> client.modifyRule(r -> r.ruleArn(rule + "0").actions(forward(1, 1, 1))))
                .isInstanceOf(RuleNotFoundException.class);
        assertThatThrownBy(() -> client.describeListeners(r -> r.listenerArns(listener + "0")))
                .isInstanceOf(ListenerNotFoundException.class)
                .hasMessageStartingWith("One or more listeners not found");
        assertThatThrownBy(() -> client.describeRules(r -> r.listenerArn(listener + "0"))).isInstanceOf(ListenerNotFoundException.class);

        String second = client.createRule(r -> r.listenerArn(listener).priority(1).conditions(c -> c.field("path-pattern").values("/"))
                .actions(forward(1, 1, 0))).rules().get(0).ruleArn();
        assertThat(client.describeRules(r -> r.listenerArn(listener)).rules()).extracting(Rule::ruleArn).as("by priority")
                .isEqualTo(List.of(second, rule));
    }
}
