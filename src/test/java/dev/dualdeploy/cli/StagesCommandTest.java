package dev.dualdeploy.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.dualdeploy.testing.Cli;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The branch → chain answer the Jenkins step reads. */
class StagesCommandTest {

    @TempDir
    Path dir;
    private String file;

    @BeforeEach
    void write() throws IOException {
        Path config = dir.resolve("dualdeploy.yaml");
        Files.writeString(config, """
                service: loan-api
                image: registry.example.com/loan-api
                branches:
                  main: [sandbox, preprod, beta, prod]
                  'PR-*': [sandbox]
                stages:
                  - { name: sandbox, kubernetes: { namespace: loan, deployment: loan-api, container: app } }
                  - { name: preprod, kubernetes: { namespace: loan, deployment: loan-api, container: app } }
                  - { name: beta, kubernetes: { namespace: loan, deployment: loan-api, container: app } }
                  - name: prod
                    kubernetes: { namespace: loan, deployment: loan-api, container: app }
                    approval: { submitter: sre, timeout: 24h }
                """);
        file = config.toString();
    }

    @Test
    void mainGetsTheWholeChainWithProdsApproval() {
        JsonNode json = Cli.run("stages", "-f", file, "--branch", "main", "--output", "json").json();

        assertThat(json.get("matched").asText()).isEqualTo("main");
        assertThat(json.get("service").asText()).isEqualTo("loan-api");
        assertThat(json.get("image").asText()).isEqualTo("registry.example.com/loan-api");
        assertThat(json.get("stages").findValuesAsText("name")).containsExactly("sandbox", "preprod", "beta", "prod");
        assertThat(json.get("stages").get(0).get("approval").isNull()).isTrue();
        assertThat(json.get("stages").get(0).get("cutover").isNull()).as("a stage without a cutover").isTrue();
        JsonNode approval = json.get("stages").get(3).get("approval");
        assertThat(approval.get("submitter").asText()).isEqualTo("sre");
        assertThat(approval.get("timeoutMinutes").asInt()).isEqualTo(1440);
    }

    @Test
    void aChangeRequestMatchesByItsIdAndAnUnmatchedBranchDeploysNothing() {
        JsonNode pr = Cli.run("stages", "-f", file, "--branch", "feature/login", "--change-id", "42", "--output", "json").json();
        assertThat(pr.get("matched").asText()).isEqualTo("PR-*");
        assertThat(pr.get("stages").findValuesAsText("name")).containsExactly("sandbox");

        Cli.Run none = Cli.run("stages", "-f", file, "--branch", "feature/login");
        assertThat(none.code()).isZero();
        assertThat(none.out().strip()).isEqualTo("branch 'feature/login' matches no entry of branches: in " + file + "; nothing to deploy");
    }

    @Test
    void anOverrideIsMergedOverTheFileAndValidatedLikeIt() {
        Cli.Run merged = Cli.run("stages", "-f", file, "--branch", "main", "--output", "json",
                "--override", "{\"service\": \"loan-api-eu\", \"branches\": {\"main\": [\"sandbox\", \"prod\"]}}");
        assertThat(merged.code()).as(merged.err()).isZero();
        assertThat(merged.json().get("service").asText()).isEqualTo("loan-api-eu");
        assertThat(merged.json().get("stages").findValuesAsText("name")).containsExactly("sandbox", "prod");

        Cli.Run unknown = Cli.run("stages", "-f", file, "--branch", "main", "--override", "{\"servce\": \"x\"}");
        assertThat(unknown.code()).isEqualTo(2);
        assertThat(unknown.err()).contains("error: " + file + " (with the step's parameters): servce: unknown key");

        Cli.Run notJson = Cli.run("stages", "-f", file, "--branch", "main", "--override", "[1, 2]");
        assertThat(notJson.code()).isEqualTo(2);
        assertThat(notJson.err()).contains("error: --override: expected a JSON object of config keys, not array");
    }

    @Test
    void stopAfterAndOnlyShapeTheChain() {
        assertThat(Cli.run("stages", "-f", file, "--branch", "main", "--stop-after", "preprod", "--output", "json").json()
                .get("stages").findValuesAsText("name")).containsExactly("sandbox", "preprod");
        assertThat(Cli.run("stages", "-f", file, "--only", "beta,prod", "--output", "json").json()
                .get("stages").findValuesAsText("name")).containsExactly("beta", "prod");

        Cli.Run notInChain = Cli.run("stages", "-f", file, "--branch", "PR-7", "--stop-after", "prod");
        assertThat(notInChain.code()).isEqualTo(2);
        assertThat(notInChain.err()).contains("--stop-after: 'prod' is not in the chain [sandbox]");
        Cli.Run unknown = Cli.run("stages", "-f", file, "--only", "qa");
        assertThat(unknown.code()).isEqualTo(2);
        assertThat(unknown.err()).contains("no stage 'qa'");
    }
}
