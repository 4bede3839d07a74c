package dev.dualdeploy.traffic.alb;

import dev.dualdeploy.config.RouterSpec;
import dev.dualdeploy.net.AwsClients;
import dev.dualdeploy.net.Timeouts;
import dev.dualdeploy.text.Text;
import dev.dualdeploy.traffic.Split;
import dev.dualdeploy.traffic.TrafficException;
import dev.dualdeploy.traffic.TrafficRouter;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import java.util.function.Supplier;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.elasticloadbalancingv2.ElasticLoadBalancingV2Client;
import software.amazon.awssdk.services.elasticloadbalancingv2.ElasticLoadBalancingV2ClientBuilder;
import software.amazon.awssdk.services.elasticloadbalancingv2.model.Action;
import software.amazon.awssdk.services.elasticloadbalancingv2.model.AuthenticateOidcActionConfig;
import software.amazon.awssdk.services.elasticloadbalancingv2.model.ForwardActionConfig;
import software.amazon.awssdk.services.elasticloadbalancingv2.model.Listener;
import software.amazon.awssdk.services.elasticloadbalancingv2.model.Rule;
import software.amazon.awssdk.services.elasticloadbalancingv2.model.TargetGroupTuple;

/**
 * An Application Load Balancer's weighted forward action (AWS SDK v2, ELBv2): the split is the weights (0..999) of the
 * legacy and the Kubernetes target group in the {@code ForwardConfig} of one listener rule's forward action, or of the
 * listener's default actions when the spec names no rule. A whole percent p is written as legacy {@code 100-p},
 * Kubernetes {@code p}, so 0% and 100% give the other side weight 0.
 *
 * <p>Every {@link #set} reads the actions ({@code DescribeRules} or {@code DescribeListeners}) and writes all of them
 * back in their order ({@code ModifyRule} with only {@code RuleArn} and {@code Actions}, so the rule's conditions and
 * transforms stay as they are; {@code ModifyListener} with only {@code ListenerArn} and {@code DefaultActions}, so the
 * port, protocol and certificates stay), with nothing changed but the two groups' weights. A forward action in the
 * single {@code TargetGroupArn} form becomes a {@code ForwardConfig} of both groups; its stickiness and order, and
 * every other action (authentication, fixed response, redirect), are sent as they were read. Throttling is retried by
 * the SDK's standard retry strategy ({@link AwsClients}).
 *
 * <p>IAM: {@code elasticloadbalancing:DescribeRules} and {@code ModifyRule} for a rule,
 * {@code elasticloadbalancing:DescribeListeners} and {@code ModifyListener} for a listener's default action.
 */
public final class AlbRouter implements TrafficRouter {

    private final ElasticLoadBalancingV2Client client;
    private final RouterSpec.Alb spec;

    /** A router over the given client (tests give one of the ELBv2 simulator); closing the router closes the client. */
    public AlbRouter(ElasticLoadBalancingV2Client client, RouterSpec.Alb spec) {
        this.client = client;
        this.spec = spec;
    }

    /**
     * The router of a stage's {@code cutover.router: alb}, with a client for the spec's region: the default credential
     * chain and the URL-connection HTTP client, the timeouts and bounded retries of {@link Timeouts#current()}, and
     * errors of one line ({@link AwsClients}).
     *
     * @param environment not read: the SDK's default credential chain reads the AWS variables from the process itself
     */
    public static AlbRouter open(RouterSpec.Alb spec, Function<String, String> environment) {
        return new AlbRouter(connect(spec, Timeouts.current()), spec);
    }

    static ElasticLoadBalancingV2Client connect(RouterSpec.Alb spec, Timeouts timeouts) {
        ElasticLoadBalancingV2ClientBuilder builder = ElasticLoadBalancingV2Client.builder()
                .region(Region.of(spec.region()))
                .credentialsProvider(AwsClients.credentials())
                .httpClientBuilder(AwsClients.http(timeouts))
                .overrideConfiguration(AwsClients.override(timeouts,
                        spec.endpoint().map(Object::toString).orElse("ELBv2 in " + spec.region())));
        spec.endpoint().ifPresent(builder::endpointOverride);
        return builder.build();
    }

    @Override
    public String describe() {
        return spec.ruleArn().map(rule -> "alb rule " + Text.foreign(rule))
                .orElseGet(() -> "alb listener " + Text.foreign(spec.listenerArn()) + " default action");
    }

    @Override
    public Split read() {
        List<Action> actions = actions("read");
        Action forward = actions.get(forwardIndex(actions, "read"));
        List<TargetGroupTuple> groups = groups(forward);
        Integer legacy = null;
        Integer kubernetes = null;
        for (TargetGroupTuple group : groups) {
            if (spec.legacyTargetGroup().equals(group.targetGroupArn())) {
                legacy = weight(group);
            } else if (spec.kubernetesTargetGroup().equals(group.targetGroupArn())) {
                kubernetes = weight(group);
            }
        }
        if (legacy == null && kubernetes == null) {
            throw new TrafficException("cannot read " + describe() + ": its forward action forwards to neither the legacy target group "
                    + Text.foreign(spec.legacyTargetGroup()) + " nor the kubernetes target group "
                    + Text.foreign(spec.kubernetesTargetGroup()) + ", it forwards to " + show(groups));
        }
        refuseOthers(groups, "read");
        // A forward to one of the two alone (as a listener is before its first cutover, often in the single TargetGroupArn
        // form): all of its traffic goes there, and the other side's share is exactly 0, which is a split.
        legacy = legacy == null ? Integer.valueOf(0) : legacy;
        kubernetes = kubernetes == null ? Integer.valueOf(0) : kubernetes;
        if (legacy + kubernetes == 0) {
            throw new TrafficException("cannot read " + describe() + ": both target groups have weight 0, which is no split ("
                    + show(groups) + ")");
        }
        return new Split(100.0 * kubernetes / (legacy + kubernetes), "weights legacy=" + legacy + " kubernetes=" + kubernetes);
    }

    @Override
    public void set(Split split) {
        int[] weights = weights(split.kubernetes());
        List<Action> actions = actions("set the split of");
        int index = forwardIndex(actions, "set the split of");
        Action forward = actions.get(index);
        refuseOthers(groups(forward), "set the split of");
        Action weighted = weighted(forward, weights[0], weights[1]);
        if (weighted.equals(forward)) {
            return; // already this split: nothing to write, and nothing a client could see changes
        }
        List<Action> written = new ArrayList<>();
        for (int i = 0; i < actions.size(); i++) {
            written.add(i == index ? weighted : resent(actions.get(i)));
        }
        if (spec.ruleArn().isPresent()) {
            // No Conditions (nor Transforms): ModifyRule keeps what it is not sent, so they cannot be clobbered.
            call("set the split of", "ModifyRule", () -> client.modifyRule(r -> r.ruleArn(spec.ruleArn().get()).actions(written)));
        } else {
            call("set the split of", "ModifyListener", () -> client.modifyListener(r -> r.listenerArn(spec.listenerArn())
                    .defaultActions(written)));
        }
    }

    /** Closes the ELBv2 client; the split stays as it is. */
    @Override
    public void close() {
        client.close();
    }

    /**
     * The legacy and Kubernetes weights of a share: {@code 100-p, p} for a whole percent p; for any other share, the
     * pair whose share is nearest, its sum a multiple of 100 where one of those is exact (12.5% is 175/25, a third is
     * 200/100) and else any sum up to 999, the largest ELBv2 allows a weight, so that the share read back is the one
     * asked or as near as weights can say.
     */
    static int[] weights(double kubernetes) {
        long whole = Math.round(kubernetes);
        if (Math.abs(kubernetes - whole) < 1e-9) {
            return new int[] {(int) (100 - whole), (int) whole};
        }
        int[] best = null;
        double nearest = Double.MAX_VALUE;
        for (int step : new int[] {100, 1}) {
            for (int total = 100; total <= 999; total += step) {
                int k = (int) Math.round(kubernetes * total / 100);
                double error = Math.abs(100.0 * k / total - kubernetes);
                if (error < nearest - 1e-12) {
                    nearest = error;
                    best = new int[] {total - k, k};
                }
            }
            if (nearest < 1e-9) {
                break;
            }
        }
        return best;
    }

    /** The rule's actions, or the listener's default actions, as ELBv2 answers them, in their order. */
    private List<Action> actions(String what) {
        if (spec.ruleArn().isPresent()) {
            String arn = spec.ruleArn().get();
            List<Rule> rules = call(what, "DescribeRules", () -> client.describeRules(r -> r.ruleArns(arn)).rules());
            return rules.stream().filter(r -> arn.equals(r.ruleArn())).findFirst().map(Rule::actions)
                    .orElseThrow(() -> new TrafficException("cannot " + what + " " + describe() + ": DescribeRules did not answer it"));
        }
        List<Listener> listeners = call(what, "DescribeListeners",
                () -> client.describeListeners(r -> r.listenerArns(spec.listenerArn())).listeners());
        return listeners.stream().filter(l -> spec.listenerArn().equals(l.listenerArn())).findFirst().map(Listener::defaultActions)
                .orElseThrow(() -> new TrafficException("cannot " + what + " " + describe() + ": DescribeListeners did not answer it"));
    }

    /** The position of the one forward action; a rule may hold at most one, and without one there is no split. */
    private int forwardIndex(List<Action> actions, String what) {
        int found = -1;
        for (int i = 0; i < actions.size(); i++) {
            if ("forward".equals(actions.get(i).typeAsString())) {
                if (found >= 0) {
                    throw new TrafficException("cannot " + what + " " + describe() + ": it has more than one forward action");
                }
                found = i;
            }
        }
        if (found < 0) {
            List<String> types = actions.stream().map(a -> Text.foreign(a.typeAsString())).toList();
            throw new TrafficException("cannot " + what + " " + describe() + ": it has no forward action, only " + types);
        }
        return found;
    }

    /** The groups a forward action sends to: its {@code ForwardConfig}'s, or the one of the {@code TargetGroupArn} form. */
    private static List<TargetGroupTuple> groups(Action forward) {
        ForwardActionConfig config = forward.forwardConfig();
        if (config != null && !config.targetGroups().isEmpty()) {
            return config.targetGroups();
        }
        return forward.targetGroupArn() == null ? List.of()
                : List.of(TargetGroupTuple.builder().targetGroupArn(forward.targetGroupArn()).build());
    }

    /** Refuses a third target group that gets traffic: dual-deploy would misreport, or take, traffic that is not its own. */
    private void refuseOthers(List<TargetGroupTuple> groups, String what) {
        for (TargetGroupTuple group : groups) {
            String arn = group.targetGroupArn();
            boolean ours = spec.legacyTargetGroup().equals(arn) || spec.kubernetesTargetGroup().equals(arn);
            if (!ours && (group.weight() == null || group.weight() != 0)) {
                throw new TrafficException("cannot " + what + " " + describe() + ": its forward action also sends traffic to target group "
                        + Text.foreign(group.targetGroupArn()) + " (weight " + group.weight() + "), which is neither the legacy nor the "
                        + "kubernetes group; set its weight to 0 or remove it first");
            }
        }
    }

    private int weight(TargetGroupTuple group) {
        if (group.weight() == null) {
            throw new TrafficException("cannot read " + describe() + ": target group " + Text.foreign(group.targetGroupArn())
                    + " has no weight");
        }
        return group.weight();
    }

    /**
     * The forward action with the two groups' weights set and nothing else changed (order, stickiness, other groups at
     * weight 0). A single {@code TargetGroupArn} goes: ELBv2 refuses it beside a {@code ForwardConfig} of two groups.
     */
    private Action weighted(Action forward, int legacy, int kubernetes) {
        List<TargetGroupTuple> groups = new ArrayList<>();
        boolean hasLegacy = false;
        boolean hasKubernetes = false;
        for (TargetGroupTuple group : groups(forward)) {
            if (spec.legacyTargetGroup().equals(group.targetGroupArn())) {
                groups.add(group.toBuilder().weight(legacy).build());
                hasLegacy = true;
            } else if (spec.kubernetesTargetGroup().equals(group.targetGroupArn())) {
                groups.add(group.toBuilder().weight(kubernetes).build());
                hasKubernetes = true;
            } else {
                groups.add(group);
            }
        }
        if (!hasLegacy) {
            groups.add(TargetGroupTuple.builder().targetGroupArn(spec.legacyTargetGroup()).weight(legacy).build());
        }
        if (!hasKubernetes) {
            groups.add(TargetGroupTuple.builder().targetGroupArn(spec.kubernetesTargetGroup()).weight(kubernetes).build());
        }
        ForwardActionConfig config = forward.forwardConfig() == null ? ForwardActionConfig.builder().targetGroups(groups).build()
                : forward.forwardConfig().toBuilder().targetGroups(groups).build();
        Action.Builder weighted = forward.toBuilder().forwardConfig(config);
        if (groups.size() > 1) {
            weighted.targetGroupArn(null);
        }
        return weighted.build();
    }

    /**
     * An action other than the forward one, as it is sent back. ELBv2 never answers an OIDC action's client secret, and
     * refuses one sent back without it unless told to keep the secret it holds.
     */
    private static Action resent(Action action) {
        AuthenticateOidcActionConfig oidc = action.authenticateOidcConfig();
        if (oidc == null || oidc.clientSecret() != null) {
            return action;
        }
        return action.toBuilder().authenticateOidcConfig(oidc.toBuilder().useExistingClientSecret(true).build()).build();
    }

    private <T> T call(String what, String operation, Supplier<T> request) {
        try {
            return request.get();
        } catch (AwsServiceException e) {
            String code = e.awsErrorDetails() == null ? "" : e.awsErrorDetails().errorCode();
            String message = e.awsErrorDetails() == null ? e.getMessage() : e.awsErrorDetails().errorMessage();
            String attempts = e.isThrottlingException() && e.numAttempts() != null
                    ? " (throttled on all " + e.numAttempts() + " attempts)" : "";
            throw new TrafficException("cannot " + what + " " + describe() + ": ELBv2 " + operation + " answered "
                    + Text.foreign(code) + ": " + Text.foreign(message) + attempts, e);
        } catch (SdkException e) {
            throw new TrafficException("cannot " + what + " " + describe() + ": ELBv2 " + operation + " failed: "
                    + Text.line(e.getMessage(), Text.MAX_FOREIGN), e);
        }
    }

    private static String show(List<TargetGroupTuple> groups) {
        if (groups.isEmpty()) {
            return "no target group";
        }
        return String.join(", ", groups.stream().map(g -> Text.foreign(g.targetGroupArn())
                + (g.weight() == null ? " (no weight)" : " weight " + g.weight())).toList());
    }
}
