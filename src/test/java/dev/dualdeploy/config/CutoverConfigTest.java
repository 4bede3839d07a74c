package dev.dualdeploy.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The cutover: section of dualdeploy.yaml: the issue's shape for each router, the defaults, and one error per mistake. */
class CutoverConfigTest {

    private static final String STAGE = """
            service: loan-api
            image: registry.example.com/loan-api
            stages:
              - name: prod
                legacy: { ecs: { cluster: prod, service: loan-api, container: app, region: eu-west-1 } }
                kubernetes: { namespace: loan, deployment: loan-api, container: app }
                cutover:
            """;

    private static final String GATE = """
                  steps: [10, 25, 50, 100]
                  gate:
                    soak: 30m
                    interval: 1m
                    checks:
                      - slo: { metric: error_rate, max: 0.01 }
                      - sequential: { baseline: legacy }
                    metrics:
                      provider: cloudwatch
                      region: eu-west-1
                      queries: { requests: 'r', errors: 'e', error_rate: 'e / r' }
            """;

    private static final String ARN = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:";

    private static CutoverSpec cutover(String yaml) {
        return new ConfigLoader().parse("dualdeploy.yaml", yaml, Path.of("/repo")).stage("prod").orElseThrow().cutover().orElseThrow();
    }

    private static List<String> problems(String yaml) {
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> cutover(yaml));
        assertThat(e).as("expected the config to be rejected").isNotNull();
        return e.problems().stream().map(p -> p.path() + ": " + p.problem()).toList();
    }

    private static String router(String router) {
        return STAGE + "      router:\n        " + router + "\n" + GATE;
    }

    @Test
    void eachRouterOfTheIssueParses() {
        CutoverSpec cloudflare = cutover(router("cloudflare: { zone_id: 023e105f4ecef8ad9ca31a8372d0c353, load_balancer_id:"
                + " 699d98642c564d2e855e9661899b7252, legacy_pool: 17b5962d775c646f3f9725cbc7a53df4, kubernetes_pool:"
                + " 9290f38c5d07c2e2f4df57b1f61d4196, token_env: CF_API_TOKEN }"));
        assertThat(cloudflare.router()).isEqualTo(new RouterSpec.Cloudflare("023e105f4ecef8ad9ca31a8372d0c353",
                "699d98642c564d2e855e9661899b7252", "17b5962d775c646f3f9725cbc7a53df4", "9290f38c5d07c2e2f4df57b1f61d4196",
                "CF_API_TOKEN", Optional.empty()));
        assertThat(cloudflare.steps()).containsExactly(10, 25, 50, 100);
        assertThat(cloudflare.last()).isEqualTo(100);
        assertThat(cloudflare.gate().soak()).isEqualTo(Duration.ofMinutes(30));
        assertThat(cloudflare.gate().checks()).hasSize(2);

        CutoverSpec alb = cutover(router("alb: { region: eu-west-1, listener_arn: " + ARN + "listener/app/api/50dc6c495c0c9188/f2f7dc8efc522ab2,"
                + " rule_arn: " + ARN + "listener-rule/app/api/50dc6c495c0c9188/f2f7dc8efc522ab2/9683b2d02a6cabee,"
                + " legacy_target_group: " + ARN + "targetgroup/ecs/73e2d6bc24d8a067, kubernetes_target_group: " + ARN
                + "targetgroup/k8s/2453ed029918f21f, endpoint: 'http://127.0.0.1:4566' }"));
        assertThat(alb.router()).isEqualTo(new RouterSpec.Alb("eu-west-1", ARN + "listener/app/api/50dc6c495c0c9188/f2f7dc8efc522ab2",
                Optional.of(ARN + "listener-rule/app/api/50dc6c495c0c9188/f2f7dc8efc522ab2/9683b2d02a6cabee"),
                ARN + "targetgroup/ecs/73e2d6bc24d8a067", ARN + "targetgroup/k8s/2453ed029918f21f",
                Optional.of(URI.create("http://127.0.0.1:4566"))));

        CutoverSpec route53 = cutover(router("route53: { region: us-east-1, hosted_zone_id: Z0123456789ABCDEFGHIJ, name: api.example.com,"
                + " type: CNAME, legacy_set: ecs, kubernetes_set: k8s }"));
        assertThat(route53.router()).isEqualTo(new RouterSpec.Route53("us-east-1", "Z0123456789ABCDEFGHIJ", "api.example.com", "CNAME",
                "ecs", "k8s", Optional.empty()));

        CutoverSpec nginx = cutover(router("nginx: { file: /etc/nginx/dualdeploy/loan-api.conf, legacy_upstream: ecs_pool,"
                + " kubernetes_upstream: k8s_pool, reload: [nginx, -s, reload], probe: 'http://127.0.0.1:8080/__dualdeploy' }"));
        assertThat(nginx.router()).isEqualTo(new RouterSpec.Nginx(Path.of("/etc/nginx/dualdeploy/loan-api.conf"), "ecs_pool", "k8s_pool",
                "dualdeploy_upstream", List.of("nginx", "-t"), List.of("nginx", "-s", "reload"),
                URI.create("http://127.0.0.1:8080/__dualdeploy"), Duration.ofSeconds(30)));
    }

    @Test
    void aRelativeNginxFileIsTheConfigDirectorysAndCommandsAreArgumentLists() {
        CutoverSpec nginx = cutover(router("nginx: { file: nginx/split.conf, legacy_upstream: a, kubernetes_upstream: b, variable: svc_up,"
                + " test: [/usr/sbin/nginx, -t, -c, /etc/nginx/nginx.conf], reload: [sudo, -n, systemctl, reload, nginx],"
                + " probe: 'http://127.0.0.1:8080/__dualdeploy', timeout: 5s }"));
        RouterSpec.Nginx spec = (RouterSpec.Nginx) nginx.router();
        assertThat(spec.file()).isEqualTo(Path.of("/repo/nginx/split.conf"));
        assertThat(spec.variable()).isEqualTo("svc_up");
        assertThat(spec.test()).containsExactly("/usr/sbin/nginx", "-t", "-c", "/etc/nginx/nginx.conf");
        assertThat(spec.reload()).containsExactly("sudo", "-n", "systemctl", "reload", "nginx");
        assertThat(spec.timeout()).isEqualTo(Duration.ofSeconds(5));
    }

    @Test
    void stepsIncreaseStrictlyFromOneToAHundred() {
        String nginx = "nginx: { file: /x.conf, legacy_upstream: a, kubernetes_upstream: b, probe: 'http://127.0.0.1:1/p' }";
        for (String steps : List.of("[]", "[0, 50]", "[10, 10]", "[50, 25]", "[10, 101]", "[10.5]", "['10']", "10", "[-1]",
                "[99999999999999999999]")) {
            String yaml = STAGE + "      router: { " + nginx + " }\n" + GATE.replace("[10, 25, 50, 100]", steps);
            assertThat(problems(yaml)).as(steps).anyMatch(p -> p.startsWith("stages[0].cutover.steps"));
        }
        String yaml = STAGE + "      router: { " + nginx + " }\n" + GATE.replace("[10, 25, 50, 100]", "[1, 100]");
        assertThat(cutover(yaml).steps()).containsExactly(1, 100);
        assertThat(cutover(STAGE + "      router: { " + nginx + " }\n" + GATE.replace("[10, 25, 50, 100]", "[30]")).last()).isEqualTo(30);
    }

    @Test
    void oneRouterExactly() {
        assertThat(problems(STAGE + "      router: {}\n" + GATE)).contains("stages[0].cutover.router: expected one of cloudflare, alb,"
                + " route53 or nginx");
        assertThat(problems(STAGE + "      router: { haproxy: {} }\n" + GATE))
                .anyMatch(p -> p.startsWith("stages[0].cutover.router.haproxy: unknown key"));
        assertThat(problems(router("nginx: { file: /x, legacy_upstream: a, kubernetes_upstream: b, probe: 'http://h/p' }\n"
                + "        route53: { region: us-east-1, hosted_zone_id: Z1, name: a.b, type: A, legacy_set: a, kubernetes_set: b }")))
                .anyMatch(p -> p.contains("a stage has one router, not 2"));
        assertThat(problems(STAGE + "      steps: [10]\n      gate: {}\n")).contains("stages[0].cutover.router: missing required key;"
                + " expected one of cloudflare, alb, route53 or nginx");
    }

    @Test
    void eachRoutersMistakesAreNamedAtTheirPath() {
        assertThat(problems(router("cloudflare: { zone_id: 'a/../b', load_balancer_id: x, legacy_pool: p, kubernetes_pool: p,"
                + " token_env: AWS_SECRET_ACCESS_KEY }"))).contains(
                "stages[0].cutover.router.cloudflare.zone_id: 'a/../b' is not a Cloudflare zone id",
                "stages[0].cutover.router.cloudflare.kubernetes_pool: the same pool as the legacy side; a cutover moves traffic between"
                        + " two different ones")
                .anyMatch(p -> p.startsWith("stages[0].cutover.router.cloudflare.token_env: 'AWS_SECRET_ACCESS_KEY' is reserved"));
        for (String elsewhere : List.of("http://evil.example.com/", "https://evil.example.com/client/v4/", "http://api.cloudflare.com/client/v4/",
                "https://api.cloudflare.com:8443/client/v4/", "https://user@api.cloudflare.com/client/v4/")) {
            assertThat(problems(router("cloudflare: { zone_id: z, load_balancer_id: x, legacy_pool: p, kubernetes_pool: q, token_env: CF,"
                    + " endpoint: '" + elsewhere + "' }"))).as(elsewhere).anyMatch(p -> p.startsWith("stages[0].cutover.router.cloudflare.endpoint:"
                    + " the API token is sent to the endpoint"));
        }
        for (String allowed : List.of("https://api.cloudflare.com/client/v4/", "http://127.0.0.1:8787/client/v4/", "http://localhost:1/",
                "http://[::1]:9/v4/")) {
            RouterSpec.Cloudflare spec = (RouterSpec.Cloudflare) cutover(router("cloudflare: { zone_id: z, load_balancer_id: x, legacy_pool: p,"
                    + " kubernetes_pool: q, token_env: CF, endpoint: '" + allowed + "' }")).router();
            assertThat(spec.endpoint()).as(allowed).contains(URI.create(allowed));
        }
        assertThat(problems(router("cloudflare: { zone_id: z, load_balancer_id: x, legacy_pool: p, kubernetes_pool: q }")))
                .anyMatch(p -> p.startsWith("stages[0].cutover.router.cloudflare.token_env: missing required key"));
        assertThat(problems(router("alb: { region: mars, listener_arn: 'arn:aws:ecs:x', legacy_target_group: " + ARN + "targetgroup/a/1,"
                + " kubernetes_target_group: " + ARN + "targetgroup/a/1 }"))).contains(
                "stages[0].cutover.router.alb.region: 'mars' is not an AWS region",
                "stages[0].cutover.router.alb.listener_arn: 'arn:aws:ecs:x' is not an ELBv2 listener ARN",
                "stages[0].cutover.router.alb.kubernetes_target_group: the same target group as the legacy side; a cutover moves"
                        + " traffic between two different ones");
        assertThat(problems(router("alb: { region: eu-west-1, listener_arn: " + ARN + "targetgroup/a/1, rule_arn: " + ARN + "listener/app/x/1,"
                + " legacy_target_group: " + ARN + "loadbalancer/app/x/1, kubernetes_target_group: "
                + ARN.replace("eu-west-1", "us-east-1") + "targetgroup/b/2 }"))).contains(
                "stages[0].cutover.router.alb.listener_arn: '" + ARN + "targetgroup/a/1' is not the ARN of a listener (it has no ':listener/')",
                "stages[0].cutover.router.alb.rule_arn: '" + ARN + "listener/app/x/1' is not the ARN of a listener rule (it has no"
                        + " ':listener-rule/')",
                "stages[0].cutover.router.alb.legacy_target_group: '" + ARN + "loadbalancer/app/x/1' is not the ARN of a target group (it"
                        + " has no ':targetgroup/')",
                "stages[0].cutover.router.alb.kubernetes_target_group: the ARN is in us-east-1, not in the router's region eu-west-1");
        String label = "a".repeat(63);
        String longest = String.join(".", label, label, label, "a".repeat(61));
        assertThat(longest).hasSize(253);
        assertThat(cutover(router("route53: { region: us-east-1, hosted_zone_id: Z1, name: " + longest + ", type: A, legacy_set: a,"
                + " kubernetes_set: b }")).router()).isNotNull();
        assertThat(problems(router("route53: { region: us-east-1, hosted_zone_id: Z1, name: " + longest + "a, type: A, legacy_set: a,"
                + " kubernetes_set: b }"))).contains("stages[0].cutover.router.route53.name: a DNS name is at most 253 characters");
        assertThat(problems(router("route53: { region: us-east-1, hosted_zone_id: z1, name: 'a..b', type: SOA, legacy_set: a,"
                + " kubernetes_set: \"b\\u0007\" }"))).contains(
                "stages[0].cutover.router.route53.hosted_zone_id: 'z1' is not a hosted zone id (upper-case letters and digits)",
                "stages[0].cutover.router.route53.name: 'a..b' is not a DNS name")
                .anyMatch(p -> p.startsWith("stages[0].cutover.router.route53.type: 'SOA' is not a record type Route53 weights"))
                .anyMatch(p -> p.startsWith("stages[0].cutover.router.route53.kubernetes_set:") && p.contains("control characters"));
        assertThat(problems(router("nginx: { file: /x, legacy_upstream: 'a; return 200', kubernetes_upstream: 'b}', variable: '$v',"
                + " reload: 'nginx -s reload', test: [nginx, ''], probe: 'ftp://h/p', timeout: 0s }"))).contains(
                "stages[0].cutover.router.nginx.legacy_upstream: 'a; return 200' is not an nginx upstream name (letters, digits, _ . -)",
                "stages[0].cutover.router.nginx.kubernetes_upstream: 'b}' is not an nginx upstream name (letters, digits, _ . -)",
                "stages[0].cutover.router.nginx.variable: '$v' is not an nginx variable name without $ (letters, digits, _)",
                "stages[0].cutover.router.nginx.reload: expected the command as a list of 1 to 32 arguments (it is run without a shell)",
                "stages[0].cutover.router.nginx.test[1]: expected a non-empty argument of at most 1024 characters without control"
                        + " characters",
                "stages[0].cutover.router.nginx.probe: expected an http or https URL with a host")
                .anyMatch(p -> p.startsWith("stages[0].cutover.router.nginx.timeout: '0s' is not a duration from 1s to 10m"));
    }

    @Test
    void eachStepIsJudgedKubernetesAgainstLegacy() {
        String nginx = "      router: { nginx: { file: /x.conf, legacy_upstream: a, kubernetes_upstream: b, probe: 'http://127.0.0.1:1/p' } }\n";
        assertThat(problems(STAGE + nginx + "      steps: [10]\n")).contains("stages[0].cutover.gate: missing required key; each step is"
                + " judged (kubernetes against legacy) before the next, and a cutover without a gate would move traffic unjudged");
        assertThat(problems(STAGE + nginx + "      steps: [10]\n      gate: { soak: 1m }\n"))
                .contains("stages[0].cutover.gate.checks: a cutover step needs at least one check");
        assertThat(problems(STAGE + nginx + GATE.replace("soak: 30m", "soak: 30m\n        canary: kubernetes\n        follow_soak: 5m")
                .replace("baseline: legacy", "baseline: before-deploy").replace("interval: 1m", "interval: 1m\n        on_error: pause"))).contains(
                "stages[0].cutover.gate.on_error: pause has no place in a cutover: a step that cannot be judged puts the traffic back"
                        + " on legacy",
                "stages[0].cutover.gate.canary: canary has no meaning in a cutover: each step judges kubernetes against legacy under"
                        + " the same traffic",
                "stages[0].cutover.gate.follow_soak: follow_soak has no meaning in a cutover: each step judges kubernetes against"
                        + " legacy under the same traffic",
                "stages[0].cutover.gate.checks[1]: baseline: before-deploy in a cutover; each step judges kubernetes against legacy"
                        + " under the same traffic");
    }

    @Test
    void aCutoverNeedsBothSides() {
        String yaml = """
                service: loan-api
                image: registry.example.com/loan-api
                stages:
                  - name: prod
                    kubernetes: { namespace: loan, deployment: loan-api, container: app }
                    cutover:
                      router: { nginx: { file: /x.conf, legacy_upstream: a, kubernetes_upstream: b, probe: 'http://127.0.0.1:1/p' } }
                      steps: [100]
                      gate: { soak: 1m, checks: [ { http: { url: 'http://127.0.0.1:1/health' } } ] }
                """;
        assertThat(problems(yaml)).contains("stages[0].cutover: a cutover moves traffic from the legacy side to the kubernetes side,"
                + " so the stage needs both a legacy and a kubernetes section");
    }

    @Test
    void aStageWithoutCutoverHasNone() {
        String yaml = STAGE.replace("    cutover:\n", "");
        assertThat(new ConfigLoader().parse("dualdeploy.yaml", yaml, Path.of("/repo")).stage("prod").orElseThrow().cutover()).isEmpty();
    }
}
