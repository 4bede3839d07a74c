package dev.dualdeploy.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dualdeploy.local.LocalEnvironment;
import dev.dualdeploy.testing.Cli;
import dev.dualdeploy.testing.Cli.Run;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 8 item 12 (manifests): a {@code manifests:} file that is not YAML, not Kubernetes objects, or lacks the
 * Deployment is bad input: exit 2, one line naming the file (and the document or line), never the file's content,
 * no stack trace, and neither side changed, because the manifests are read before any side is.
 */
class ManifestsInputTest {

    /** Planted in every bad file: it must never be echoed. */
    private static final String SECRET = "s3cr3t-token-value";

    private static LocalEnvironment env;

    @TempDir
    Path tmp;

    @BeforeAll
    static void start(@TempDir Path dir) {
        env = LocalEnvironment.start(dir, LocalEnvironment.sampleRelease("0.9.0"), 1);
    }

    @AfterAll
    static void stop() {
        env.close();
    }

    @Test
    void aManifestThatIsNotYamlIsExit2NamingTheFileAndLine() throws IOException {
        Path file = manifest("notyaml.yaml", "apiVersion: apps/v1\nkind: Deployment\ndata: {token: \"" + SECRET + "\", [\n");

        refused(file, file + ": line ", ": is not valid YAML");
    }

    @Test
    void aManifestThatIsNotKubernetesObjectsIsExit2NamingTheDocument() throws IOException {
        Path file = manifest("plain.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ok}\n---\ntoken: " + SECRET + "\n");

        refused(file, file + ": document 2: is not a Kubernetes object: it needs apiVersion, kind and metadata.name", "");
    }

    @Test
    void manifestsWithoutTheDeploymentAreExit2NamingTheFile() throws IOException {
        Path file = manifest("other.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: loan-api}\ndata: {token: " + SECRET + "}\n");

        refused(file, file + ": the manifests hold no Deployment named loan-api", "");
    }

    /** Issue 8 item 12 (follow-up): a manifests path that is not there is bad input (exit 2) naming it, not a platform failure. */
    @Test
    void aManifestsPathThatDoesNotExistIsExit2NamingThePath() throws IOException {
        Path missing = tmp.resolve("missing-k8s");

        refused(missing, missing + ": the manifests path does not exist (for example: manifests: deploy/k8s, a .yaml file"
                + " or a directory of them, relative to the config file)", "");
    }

    /** Issue 8 item 12 (follow-up), the same class: a manifests directory without YAML files is bad input too. */
    @Test
    void aManifestsDirectoryWithoutYamlIsExit2NamingIt() throws IOException {
        Path empty = Files.createDirectory(tmp.resolve("empty-k8s"));
        Files.writeString(empty.resolve("notes.txt"), "token: " + SECRET);

        refused(empty, empty + ": the manifests directory holds no .yaml or .yml files", "relative to the config file)");
    }

    private Path manifest(String name, String content) throws IOException {
        Path file = tmp.resolve(name);
        Files.writeString(file, content);
        return file;
    }

    /** Deploys sandbox with the manifests and asserts the refusal and that nothing changed on either side. */
    private void refused(Path manifests, String starts, String ends) throws IOException {
        Path config = tmp.resolve("dualdeploy.yaml");
        String yaml = Files.readString(env.config());
        // Only sandbox gets the manifests; they sit next to the config and are named relative to it.
        int sandbox = yaml.indexOf("deployment: loan-api", yaml.indexOf("name: sandbox"));
        Files.writeString(config, yaml.substring(0, sandbox) + "manifests: " + manifests.getFileName() + ", "
                + yaml.substring(sandbox));
        Run before = Cli.run("status", "-f", config.toString(), "--stage", "sandbox", "--output", "json");
        assertThat(before.code()).as(before.err()).isZero();

        Run run = Cli.run("deploy", "-f", config.toString(), "--stage", "sandbox", "--image",
                LocalEnvironment.sampleRelease("1.0.0").image());

        assertThat(run.code()).as(run.err()).isEqualTo(2);
        List<String> errors = run.err().lines().filter(l -> l.startsWith("error: ")).toList();
        assertThat(errors).singleElement().satisfies(line -> assertThat(line).startsWith("error: " + starts).endsWith(ends));
        assertThat(run.err() + run.out()).doesNotContain(SECRET).doesNotContain("\tat ").doesNotContain("Exception");
        assertThat(Cli.run("status", "-f", config.toString(), "--stage", "sandbox", "--output", "json").json().get("stages"))
                .as("neither side changed").isEqualTo(before.json().get("stages"));
    }
}
