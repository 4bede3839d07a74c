package dev.dualdeploy.jenkins;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** Rules every step of the shared library keeps. */
class LibraryConventionsTest {

    /** A shell step whose script is a double-quoted (so interpolating) Groovy string that holds a $. */
    private static final Pattern INTERPOLATED_SHELL = Pattern.compile(
            "\\b(sh|bat|powershell)\\s*\\(?\\s*(script\\s*:\\s*)?\"[^\"]*\\$");
    private static final int MAX_LINES = 40;

    private static List<Path> groovy(String dir) throws IOException {
        try (Stream<Path> files = Files.walk(Path.of(dir))) {
            return files.filter(f -> f.toString().endsWith(".groovy")).sorted().toList();
        }
    }

    @Test
    void everyStepHasAHelpPageAndStaysAnAdapter() throws IOException {
        List<Path> vars = groovy("vars");
        assertThat(vars).extracting(p -> p.getFileName().toString())
                .contains("dualDeploy.groovy", "dualDeployStatus.groovy", "dualDeployRollback.groovy", "dualDeployCutover.groovy");
        for (Path step : vars) {
            Path help = Path.of(step.toString().replace(".groovy", ".txt"));
            assertThat(help).as("help page of " + step).exists();
            assertThat(Files.readString(help)).as(help.toString()).isNotBlank();
            assertThat(Files.readAllLines(step)).as(step + " stays within " + MAX_LINES + " lines").hasSizeLessThanOrEqualTo(MAX_LINES);
        }
    }

    @Test
    void noGroovyStringIsInterpolatedIntoAShellStep() throws IOException {
        for (Path file : Stream.concat(groovy("vars").stream(), groovy("src/dev").stream()).toList()) {
            List<String> lines = Files.readAllLines(file);
            for (int i = 0; i < lines.size(); i++) {
                assertThat(INTERPOLATED_SHELL.matcher(lines.get(i)).find())
                        .as(file + ":" + (i + 1) + " passes a Groovy-interpolated string to a shell step: " + lines.get(i).strip())
                        .isFalse();
            }
        }
        assertThat(INTERPOLATED_SHELL.matcher("sh \"deploy ${image}\"").find()).as("the rule itself catches the case").isTrue();
        assertThat(INTERPOLATED_SHELL.matcher("sh(script: \"x $HOME\", returnStatus: true)").find()).isTrue();
        assertThat(INTERPOLATED_SHELL.matcher("sh(script: 'docker push \"$DD_TAG\"')").find()).isFalse();
    }

    /**
     * Every step that takes Jenkins' lock names it with {@code DualDeployCli.lockResource}, so that the steps that change
     * one stage (a deploy, a cutover) take the one lock and never interleave.
     */
    @Test
    void everyLockIsTheStagesOneLock() throws IOException {
        Pattern lock = Pattern.compile("\\block\\s*\\(\\s*resource\\s*:\\s*([^)]*)\\)");
        int locks = 0;
        for (Path step : groovy("vars")) {
            String text = Files.readString(step);
            Matcher found = lock.matcher(text);
            while (found.find()) {
                String resource = found.group(1).strip();
                assertThat(resource.startsWith("DualDeployCli.lockResource(") || text.contains(resource + " = DualDeployCli.lockResource("))
                        .as(step + " locks " + resource + ", not DualDeployCli.lockResource(service, stage)").isTrue();
                locks++;
            }
        }
        assertThat(locks).as("locks found").isGreaterThanOrEqualTo(3);
    }

    @Test
    void theLibraryAsksForTheCliVersionItIsReleasedWith() throws IOException {
        String pom = Files.readString(Path.of("pom.xml"));
        String version = pom.replaceFirst("(?s).*?<artifactId>dualdeploy</artifactId>\\s*<version>([^<]+)</version>.*", "$1");
        assertThat(Files.readString(Path.of("resources/dev/dualdeploy/cli-version")).strip()).isEqualTo(version);
    }
}
