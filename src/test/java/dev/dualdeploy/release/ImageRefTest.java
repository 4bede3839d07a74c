package dev.dualdeploy.release;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.dualdeploy.testing.Cli;
import java.time.Duration;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** The OCI reference grammar, and issue 8 item 11: a reference of any length is judged fast, with no stack overflow. */
class ImageRefTest {

    private static final String DIGEST = "sha256:" + "a".repeat(64);

    @Test
    void splitsRegistryPathTagAndDigest() {
        assertThat(ImageRef.parse("registry.example.com:5000/team/loan-api:1.4.2@" + DIGEST)).isEqualTo(new ImageRef(
                "registry.example.com:5000/team/loan-api", Optional.of("1.4.2"), Optional.of(DIGEST)));
        assertThat(ImageRef.parse("loan-api")).isEqualTo(new ImageRef("loan-api", Optional.empty(), Optional.empty()));
        assertThat(ImageRef.parse("localhost:5000")).as("one component: the part after ':' is a tag")
                .isEqualTo(new ImageRef("localhost", Optional.of("5000"), Optional.empty()));
        assertThat(ImageRef.parse("[::1]:5000/a__b/c.d-e@" + DIGEST).repository()).isEqualTo("[::1]:5000/a__b/c.d-e");
        assertThat(ImageRef.parse("Registry.Example.com/loan-api").repository()).isEqualTo("Registry.Example.com/loan-api");
    }

    static Stream<String> invalid() {
        return Stream.of("Loan-api", "registry.example.com/Loan", "a//b", "a/", "/a", "a-/b", "a/b:", "a/b:-x", "a@sha256:12",
                "a@sha256:" + "A".repeat(64), "a:b@", "a/b@@sha256:" + "a".repeat(64), "-a.com/b", "a.com:port/b", "a/b c", "a\u0000/b");
    }

    @ParameterizedTest
    @MethodSource("invalid")
    void refusesWhatTheGrammarRefuses(String text) {
        assertThatThrownBy(() -> ImageRef.parse(text)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void aNameOver255CharactersIsRefused() {
        assertThat(ImageRef.parse("a/".repeat(127) + "a").repository()).hasSize(255);
        assertThatThrownBy(() -> ImageRef.parse("a/".repeat(127) + "ab")).hasMessageContaining("longer than 255 characters");
    }

    @Test
    void aFiveThousandSegmentReferenceIsRefusedFast() {
        // issue 8 item 11: this overflowed the stack in the one reference regex.
        String huge = "registry.example.com/" + "a/".repeat(5_000) + "app@" + DIGEST;
        long started = System.nanoTime();

        assertThatThrownBy(() -> ImageRef.parse(huge)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("an image reference of " + huge.length() + " characters is longer than 640 (a name of at most 255, a tag and a digest)");
        Cli.Run deploy = Cli.run("deploy", "--stage", "sandbox", "-f", "does-not-matter.yaml", "--image", huge);
        Cli.Run release = Cli.run("release", "--image", huge);

        assertThat(release.code()).isEqualTo(2);
        assertThat(release.err()).contains("--image: an image reference of " + huge.length() + " characters is longer than 640");
        assertThat(deploy.code()).isEqualTo(2);
        assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(5));
    }

    @Test
    void backtrackingInputsAreFast() {
        long started = System.nanoTime();
        for (String text : new String[] {"a" + "-".repeat(600) + "!", "a.".repeat(127) + "!/b", "a" + "__a".repeat(80) + "_",
                "x".repeat(250) + "/" + "a".repeat(250) + ":" + "t".repeat(129)}) {
            assertThatThrownBy(() -> ImageRef.parse(text)).isInstanceOf(IllegalArgumentException.class);
        }
        assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(1));
    }
}
