package dev.dualdeploy.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dualdeploy.local.LocalEnvironment;
import dev.dualdeploy.release.Release;
import dev.dualdeploy.targets.kubernetes.KubernetesTarget;
import dev.dualdeploy.testing.Cli;
import dev.dualdeploy.testing.Cli.Run;
import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Text a platform holds (a Deployment's version annotation, which anyone who can edit it writes) reaches a command's
 * text result on stdout escaped: no escape sequence rewrites the terminal, no bidi override reorders it, and no line
 * break forges a record. One printed record is one line.
 */
class PlatformTextOnStdoutTest {

    static final String HOSTILE = "9.9\u001b[2J\u001b[31mPWNED\r\nfake line\u202e";

    @TempDir
    static Path dir;
    static LocalEnvironment env;
    static String config;

    @BeforeAll
    static void start() throws IOException {
        env = LocalEnvironment.start(dir, LocalEnvironment.sampleRelease("0.9.0"), 1);
        config = env.config().toString();
    }

    @AfterAll
    static void stop() {
        if (env != null) {
            env.close();
        }
    }

    private static void plant() {
        env.kubernetes().client().apps().deployments().inNamespace("sandbox").withName(LocalEnvironment.SERVICE)
                .edit(d -> {
                    d.getMetadata().getAnnotations().put(KubernetesTarget.VERSION, HOSTILE);
                    return d;
                });
    }

    private static void assertSafe(Run run, int records) {
        assertThat(run.out()).as(run.out()).doesNotContain("\u001b", "\r", "\u202e");
        assertThat(run.out().lines()).as(run.out()).hasSize(records).noneMatch(l -> l.startsWith("fake line"));
        assertThat(run.out()).contains("PWNED");
    }

    @Test
    void statusShowsAPlantedVersionEscapedOnOneLine() {
        plant();
        Run status = Cli.run("status", "-f", config, "--stage", "sandbox");
        // The stage's line, its traffic (read from its router) and one per side.
        assertSafe(status, 4);
    }

    @Test
    void deployShowsAPlantedVersionEscapedOnOneLine() {
        Release running = LocalEnvironment.sampleRelease("0.9.0");
        plant();
        Run deploy = Cli.run("deploy", "-f", config, "--stage", "sandbox", "--image", running.image(), "--no-gate");
        // The stage's line, one per side and the parity.
        assertSafe(deploy, 4);
    }
}
