package dev.dualdeploy.traffic.nginx;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.dualdeploy.config.RouterSpec;
import dev.dualdeploy.traffic.Split;
import java.net.URI;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

/** The include's text, and the header and state lines read back from it, without an nginx. */
class IncludeTest {

    private static final RouterSpec.Nginx SPEC = new RouterSpec.Nginx(Path.of("split.conf"), "legacy", "kubernetes",
            RouterSpec.Nginx.DEFAULT_VARIABLE, RouterSpec.Nginx.DEFAULT_TEST, RouterSpec.Nginx.DEFAULT_RELOAD,
            URI.create("http://127.0.0.1/__dualdeploy"), RouterSpec.Nginx.DEFAULT_TIMEOUT);

    /** The file the README quotes. */
    @Test
    void theFileAt25Percent() {
        assertThat(NginxRouter.include(SPEC, Split.of(25), 7)).isEqualTo("""
                # dualdeploy split, generation 7 (written by dualdeploy at each cutover step; do not edit: the next step replaces this file)
                # 25% of requests to upstream kubernetes, the rest to legacy, drawn by $request_id; use it as proxy_pass http://$dualdeploy_upstream;
                split_clients $request_id $dualdeploy_upstream {
                    25% kubernetes;
                    * legacy;
                }
                # What this nginx applies, for dualdeploy to read back through the probe location:
                # add_header X-Dualdeploy-Split $dualdeploy_upstream_split always;
                map $request_id $dualdeploy_upstream_split {
                    default "generation=7 kubernetes=25 legacy-upstream=legacy kubernetes-upstream=kubernetes";
                }
                """);
    }

    @Test
    void zeroAndAHundredAreOneCatchAllLine() {
        assertThat(block(Split.of(0))).isEqualTo(List.of("    * legacy;"));
        assertThat(block(Split.of(100))).isEqualTo(List.of("    * kubernetes;"));
        // Below half a hundredth split_clients cannot express the share: it is exactly the nearer end.
        assertThat(block(new Split(0.004, ""))).isEqualTo(List.of("    * legacy;"));
        assertThat(block(new Split(99.996, ""))).isEqualTo(List.of("    * kubernetes;"));
        assertThat(block(new Split(0.01, ""))).isEqualTo(List.of("    0.01% kubernetes;", "    * legacy;"));
        assertThat(block(new Split(12.5, ""))).isEqualTo(List.of("    12.5% kubernetes;", "    * legacy;"));
        assertThat(block(new Split(200.0 / 3, ""))).isEqualTo(List.of("    66.67% kubernetes;", "    * legacy;"));
        assertThat(block(new Split(99.99, ""))).isEqualTo(List.of("    99.99% kubernetes;", "    * legacy;"));
    }

    private static List<String> block(Split split) {
        List<String> lines = NginxRouter.include(SPEC, split, 1).lines().toList();
        return lines.subList(lines.indexOf("split_clients $request_id $dualdeploy_upstream {") + 1, lines.indexOf("}"));
    }

    @Test
    void theStateReadsBackAsWritten() {
        for (int basisPoints : new int[] {0, 1, 1250, 3333, 5000, 9999, 10_000}) {
            String value = Include.state(42, basisPoints, "legacy", "kubernetes");
            assertThat(Include.parse(value)).contains(new Include.State(42, basisPoints, "legacy", "kubernetes"));
        }
        assertThat(Include.parse("generation=7 kubernetes=33.33 legacy-upstream=a kubernetes-upstream=b").orElseThrow().split())
                .isEqualTo(new Split(33.33, "generation 7"));
        for (String bad : List.of("", "generation=7", "generation=7 kubernetes=100.01 legacy-upstream=a kubernetes-upstream=b",
                "generation=7 kubernetes=25.125 legacy-upstream=a kubernetes-upstream=b",
                "generation=-1 kubernetes=25 legacy-upstream=a kubernetes-upstream=b",
                "generation=7 kubernetes=25 legacy-upstream=a;b kubernetes-upstream=b",
                "generation=1234567890123456789 kubernetes=25 legacy-upstream=a kubernetes-upstream=b")) {
            assertThat(Include.parse(bad)).as(bad).isEqualTo(Optional.empty());
        }
    }

    @Test
    void theGenerationIsTheFirstLinesOwn() {
        assertThat(Include.generation("# dualdeploy split, generation 7 (written by dualdeploy …)")).hasValue(7);
        assertThat(Include.generation("# dualdeploy split, generation 123456789012345678")).hasValue(123_456_789_012_345_678L);
        for (String other : List.of("", "# dualdeploy split, generation 7x", "# dualdeploy split, generation ",
                "#dualdeploy split, generation 7",
                "# dualdeploy split, generation 1234567890123456789", " # dualdeploy split, generation 7")) {
            assertThat(Include.generation(other)).as(other).isEqualTo(OptionalLong.empty());
        }
    }

    @Test
    void aGenerationOutsideTheFilesRangeIsRefused() {
        assertThatThrownBy(() -> NginxRouter.include(SPEC, Split.of(1), 0)).isInstanceOf(IllegalArgumentException.class);
        assertThat(NginxRouter.include(SPEC, Split.of(1), Include.LAST_GENERATION + 1)).startsWith(
                "# dualdeploy split, generation 999999999999999999 ");
    }
}
