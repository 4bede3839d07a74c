package dev.dualdeploy.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.dualdeploy.testing.Cli;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The text of a config file before it is a tree: YAML features that would change its meaning silently (issue 8 item
 * 10), inputs that would exhaust the JVM (item 11), and parser messages people cannot act on (item 13).
 */
class ConfigInputTest {

    private static final String VALID = """
            service: loan-api
            image: registry.example.com/loan-api
            stages:
              - name: sandbox
                kubernetes: { namespace: loan, deployment: loan-api, container: app }
            """;

    @TempDir
    Path dir;

    private List<String> problems(String yaml) throws IOException {
        return problems(yaml.getBytes(StandardCharsets.UTF_8));
    }

    private List<String> problems(byte[] bytes) throws IOException {
        Path file = dir.resolve("dualdeploy.yaml");
        Files.write(file, bytes);
        return problems(file, null);
    }

    private static List<String> problems(Path file, String override) {
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> new ConfigLoader().load(file, override));
        assertThat(e).as("expected the config to be rejected").isNotNull();
        return e.problems().stream().map(p -> (p.path().isEmpty() ? "" : p.path() + ": ") + p.problem()).toList();
    }

    @Test
    void anAliasIsRefusedNotReplacedByTheAnchorsName() throws IOException {
        // issue 8 item 10: `image: *svc` deployed the image "svc", and an undefined alias was accepted.
        assertThat(problems(VALID.replace("service: loan-api", "service: &svc loan-api")
                .replace("image: registry.example.com/loan-api", "image: *svc"))).containsExactly(
                "line 1: a YAML anchor (&name); aliases and anchors are not supported, write the value out",
                "line 2: a YAML alias (*name); aliases and anchors are not supported, write the value out");
        assertThat(problems(VALID.replace("image: registry.example.com/loan-api", "image: *nope"))).containsExactly(
                "line 2: a YAML alias (*name); aliases and anchors are not supported, write the value out");
    }

    @Test
    void aMergeKeyIsAnAliasToo() throws IOException {
        assertThat(problems(VALID + "    legacy: &ecs { ecs: { cluster: a, service: b, container: c, region: eu-west-1 } }\n"
                + "  - name: prod\n    legacy: { <<: *ecs }\n"))
                .containsExactly("line 6: a YAML anchor (&name); aliases and anchors are not supported, write the value out",
                        "line 8: a YAML alias (*name); aliases and anchors are not supported, write the value out");
    }

    @Test
    void aNumberOrBooleanWhereTextIsExpectedIsRefusedNotReadAsADifferentText() throws IOException {
        // Found after issue 8 item 10: YAML reads `1.10` as the number 1.1 and `0x1F` as 31, so the text the platforms
        // saw differed from the file's; quoted, the same values are read as written.
        assertThat(problems(VALID.replace("namespace: loan", "namespace: 0x1F").replace("container: app", "container: true")))
                .containsExactly(
                        "stages[0].kubernetes.namespace: '31' is read as a number in YAML, not as text; quote the value so it is read as written",
                        "stages[0].kubernetes.container: 'true' is read as a boolean in YAML, not as text; quote the value so it is read as written");
        assertThat(problems(VALID.replace("name: sandbox", "name: 1.10"))).containsExactly(
                "stages[0].name: '1.1' is read as a number in YAML, not as text; quote the value so it is read as written");
        DualDeploySpec quoted = new ConfigLoader().parse("dualdeploy.yaml", VALID.replace("namespace: loan", "namespace: '0x1f'")
                .replace("name: sandbox", "name: \"1-10\""), dir);
        assertThat(quoted.stages().get(0).name()).isEqualTo("1-10");
    }

    @Test
    void aSecondDocumentIsRefusedNotIgnored() throws IOException {
        // issue 8 item 10: everything after `---` was silently ignored.
        assertThat(problems("---\n" + VALID + "---\nservice: other\n"))
                .containsExactly("line 7: a second YAML document (after ---); a config file is one document");
        assertThat(new ConfigLoader().parse("dualdeploy.yaml", "---\n" + VALID, dir).service())
                .as("one document with an explicit start is fine").isEqualTo("loan-api");
    }

    @Test
    void aFileThatIsNotUtf8NamesTheByte() throws IOException {
        // issue 8 item 13: it said "Input length = 1".
        byte[] latin1 = VALID.replace("loan-api", "loan-\u00e9pi").getBytes(StandardCharsets.ISO_8859_1);

        assertThat(problems(latin1)).containsExactly("not UTF-8 text at byte 14 (counting from 0); save the file as UTF-8");
    }

    @Test
    void aParseErrorIsOneLineWithLineAndColumnAndNoSnippet() throws IOException {
        // issue 8 item 13: the parser's multi-line dump quoted the file's content.
        Path file = dir.resolve("dualdeploy.yaml");
        Files.writeString(file, VALID.replace("container: app }", "container: app }\n    token: s3cr3t: extra"));

        Cli.Run run = Cli.run("validate", "-f", file.toString());

        assertThat(run.code()).isEqualTo(2);
        assertThat(run.err()).isEqualTo("error: " + file + ": line 6, column 18: not valid YAML: mapping values are not"
                + " allowed here\n");
        assertThat(run.err()).doesNotContain("s3cr3t");
    }

    @Test
    void controlCharactersInAnyQuotedValueAreEscaped() throws IOException {
        // issue 8 item 13: NULs and escape sequences reached the terminal raw; a newline forged a second line.
        Path file = dir.resolve("dualdeploy.yaml");
        Files.writeString(file, VALID.replace("service: loan-api", "service: \"loan\\0\\e[31m-api\"")
                .replace("name: sandbox", "name: \"sand\\nerror: forged\""));

        Cli.Run run = Cli.run("validate", "-f", file.toString());

        assertThat(run.code()).isEqualTo(2);
        assertThat(run.err().lines()).containsExactly(
                "error: " + file + ": service: 'loan\\u0000\\u001b[31m-api' contains control characters (for example: service: loan-api)",
                "error: " + file + ": stages[0].name: 'sand\\nerror: forged' is not a lower-case name of letters, digits and -"
                        + " (for example: name: preprod)");
    }

    @Test
    void theStagesListedAreOnlyValidNames() throws IOException {
        // issue 8 item 13: "stages are [null, sandbox]".
        assertThat(problems(VALID + "  - name: Bad_Name\n    kubernetes: { namespace: loan, deployment: loan-api, container: app }\n"
                + "branches: { main: [prod] }\n"))
                .contains("branches.main[0]: 'prod' is not a stage in this file; stages are [sandbox]");
    }

    @Test
    void aHugeValueIsShortenedInTheMessage() throws IOException {
        assertThat(problems(VALID.replace("service: loan-api", "service: " + "X".repeat(10_000))))
                .singleElement().satisfies(p -> assertThat(p.length()).isLessThan(ConfigProblem.MAX_FIELD + 20));
    }

    @Test
    void devZeroAFifoAndADirectoryFailFast() throws Exception {
        // issue 8 item 11: -f /dev/zero ran out of memory after 20 s; a FIFO would block the open forever.
        Path fifo = dir.resolve("fifo");
        Process mkfifo = new ProcessBuilder("mkfifo", fifo.toString()).start();
        assertThat(mkfifo.waitFor()).isZero();

        for (Path input : List.of(Path.of("/dev/zero"), fifo)) {
            long started = System.nanoTime();
            assertThat(problems(input, null)).containsExactly(
                    "is not a regular file (a device, FIFO or socket); expected a YAML file");
            assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(2));
        }
        assertThat(problems(dir, null)).containsExactly("is a directory; expected a YAML file");
    }

    @Test
    void aFileOverOneMebibyteIsRefusedUnread() throws IOException {
        // issue 8 item 11: an 8 MB single line took 28 s to parse.
        long started = System.nanoTime();

        assertThat(problems(("service: " + "a".repeat(8 * 1024 * 1024) + "\n").getBytes(StandardCharsets.UTF_8)))
                .containsExactly("the file is larger than 1024 KiB; a config file is a few kilobytes");
        assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(2));
    }

    @Test
    void aLongLineAndDeepNestingAreRefused() throws IOException {
        long started = System.nanoTime();

        assertThat(problems(VALID + "# " + "x".repeat(ConfigLoader.MAX_LINE) + "\n"))
                .containsExactly("line 6: the line is longer than 16384 characters");
        assertThat(problems(VALID + "extra: " + "[".repeat(200) + "]".repeat(200) + "\n"))
                .containsExactly("line 6: nested deeper than 32 levels");
        assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(2));
    }

    @Test
    void overrideErrorsNameTheOverrideAndWhereNotItsText() throws IOException {
        // issue 8 item 13: the --override error paths.
        Path file = dir.resolve("dualdeploy.yaml");
        Files.writeString(file, VALID);

        assertThat(problems(file, "{\"service\": s3cr3t}")).containsExactly(
                "not valid JSON at line 1, column 13; expected a JSON object of config keys");
        assertThat(problems(file, "[1]")).containsExactly("expected a JSON object of config keys, not array");
        assertThat(problems(file, "{\"a\": 1} {\"b\": 2}")).containsExactly(
                "not valid JSON at line 1, column 10; expected a JSON object of config keys");
        assertThat(problems(file, "{\"a\": 1, \"a\": 2}")).containsExactly(
                "a duplicate key at line 1, column 13; expected a JSON object of config keys");
        assertThat(problems(file, "{\"a\": " + "[".repeat(100) + "]".repeat(100) + "}")).singleElement().asString()
                .startsWith("nested too deeply or too long");
        assertThat(problems(file, "{\"a\": \"" + "x".repeat(ConfigLoader.MAX_OVERRIDE) + "\"}")).containsExactly(
                "the override is longer than 64 KiB; expected a JSON object of config keys");
    }
}
