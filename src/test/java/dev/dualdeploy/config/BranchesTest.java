package dev.dualdeploy.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class BranchesTest {

    private static final String CONFIG = """
            service: loan-api
            image: registry.example.com/loan-api
            branches:
              main: [sandbox, preprod, beta, prod]
              release/*: [sandbox, preprod]
              'PR-*': [sandbox]
              hotfix/**: [prod]
            stages:
              - { name: sandbox, kubernetes: { namespace: loan, deployment: loan-api, container: app } }
              - { name: preprod, kubernetes: { namespace: loan, deployment: loan-api, container: app } }
              - { name: beta, kubernetes: { namespace: loan, deployment: loan-api, container: app } }
              - name: prod
                kubernetes: { namespace: loan, deployment: loan-api, container: app }
                approval: { submitter: 'sre, release-managers', timeout: 2h }
                gate: {}
            """;

    private static DualDeploySpec parse(String yaml) {
        return new ConfigLoader().parse("dualdeploy.yaml", yaml, Path.of("."));
    }

    @Test
    void theFirstMatchingGlobGivesTheChain() {
        DualDeploySpec spec = parse(CONFIG);

        assertThat(spec.chain("main").orElseThrow().stages()).containsExactly("sandbox", "preprod", "beta", "prod");
        assertThat(spec.chain("release/1.4").orElseThrow().stages()).containsExactly("sandbox", "preprod");
        assertThat(spec.chain("release/1.4/rc1")).as("* does not cross /").isEmpty();
        assertThat(spec.chain("hotfix/a/b").orElseThrow().stages()).as("** crosses /").containsExactly("prod");
        assertThat(spec.chain("PR-42").orElseThrow().pattern()).isEqualTo("PR-*");
        assertThat(spec.chain("feature/x")).isEmpty();
        assertThat(spec.chain("mainline")).isEmpty();
    }

    @Test
    void withoutBranchesEveryBranchGetsEveryStage() {
        DualDeploySpec spec = parse(CONFIG.replaceAll("(?s)branches:.*?stages:", "stages:"));

        assertThat(spec.chain("anything/at-all").orElseThrow().stages()).containsExactly("sandbox", "preprod", "beta", "prod");
    }

    @Test
    void approvalIsParsedWithItsSubmittersAndTimeout() {
        StageSpec prod = parse(CONFIG).stage("prod").orElseThrow();
        ApprovalSpec approval = prod.approval().orElseThrow();

        assertThat(approval.submitters()).containsExactly("sre", "release-managers");
        assertThat(approval.timeout()).isEqualTo(Duration.ofHours(2));
        assertThat(parse(CONFIG).stage("beta").orElseThrow().approval()).isEmpty();
        assertThat(parse(CONFIG.replace(", timeout: 2h", "")).stage("prod").orElseThrow().approval().orElseThrow().timeout())
                .isEqualTo(Duration.ofHours(24));
    }

    @Test
    void unknownStagesInBranchesAndBadApprovalsAreErrors() {
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> parse(CONFIG
                .replace("release/*: [sandbox, preprod]", "release/*: [sandbox, qa, sandbox]")
                .replace("submitter: 'sre, release-managers', ", "")
                .replace("gate: {}", "gate: { hold: 5m }")));

        assertThat(e.problems()).extracting(ConfigProblem::render).containsExactlyInAnyOrder(
                "dualdeploy.yaml: branches.release/*[1]: 'qa' is not a stage in this file; stages are [sandbox, preprod, beta, prod]"
                        + " (for example: release/*: [sandbox])",
                "dualdeploy.yaml: branches.release/*[2]: stage 'sandbox' is listed twice (for example: release/*: [sandbox, preprod])",
                "dualdeploy.yaml: stages[3].gate.hold: unknown key; expected one of [canary, checks, error_limit, follow_soak, interval, metrics, min_requests, on_error, on_inconclusive, soak]",
                "dualdeploy.yaml: stages[3].approval.submitter: missing required key (for example: submitter: sre,release-managers)");
        List<String> paths = e.problems().stream().map(ConfigProblem::path).toList();
        assertThat(paths).hasSize(4);
    }

    @Test
    void globsMatchInBoundedTimeWhateverTheirShape() {
        // issue 8 item 11: a glob compiled to a regex backtracked exponentially on many stars.
        BranchSpec stars = new BranchSpec("*a".repeat(60) + "*b", List.of());
        String branch = "a".repeat(250);
        long started = System.nanoTime();

        assertThat(stars.matches(branch)).isFalse();
        assertThat(stars.matches(branch + "b")).isTrue();
        assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(1));
    }

    @Test
    void globSemanticsAreKept() {
        assertThat(new BranchSpec("release/*", List.of()).matches("release/1.2")).isTrue();
        assertThat(new BranchSpec("release/*", List.of()).matches("release/1/2")).isFalse();
        assertThat(new BranchSpec("hotfix/**", List.of()).matches("hotfix/a/b")).isTrue();
        assertThat(new BranchSpec("PR-?", List.of()).matches("PR-7")).isTrue();
        assertThat(new BranchSpec("PR-?", List.of()).matches("PR-77")).isFalse();
        assertThat(new BranchSpec("a?b", List.of()).matches("a/b")).isFalse();
        assertThat(new BranchSpec("**", List.of()).matches("")).isTrue();
        assertThat(new BranchSpec("a.b", List.of()).matches("axb")).as("no regex meaning").isFalse();
    }

    /** Issue 8 item 23: approval after the gate came when the stage was already live; the old key says where it went. */
    @Test
    void gateApprovalIsRefusedWithThePlaceItMovedTo() {
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> parse(CONFIG
                .replace("    approval: { submitter: 'sre, release-managers', timeout: 2h }\n", "")
                .replace("gate: {}", "gate: { approval: { submitter: sre } }")));

        assertThat(e.problems()).extracting(ConfigProblem::render).containsExactly(
                "dualdeploy.yaml: stages[3].gate.approval: gate.approval was removed: approval is asked before a stage deploys,"
                        + " not after its gate; move it to the stage, next to gate: (for example: approval: { submitter: sre, timeout: 24h })");
    }
}
