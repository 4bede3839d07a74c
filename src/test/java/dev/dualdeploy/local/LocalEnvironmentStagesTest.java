package dev.dualdeploy.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.dualdeploy.config.ConfigLoader;
import dev.dualdeploy.config.StageSpec;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A local environment started with some of its stages has those alone, seeded and in its config. */
class LocalEnvironmentStagesTest {

    @Test
    void anEnvironmentOfOneStageSeedsAndConfiguresThatStageAlone(@TempDir Path dir) {
        try (LocalEnvironment env = LocalEnvironment.start(dir, LocalEnvironment.sampleRelease("1.0.0"), 1, List.of("prod"))) {
            assertThat(new ConfigLoader().load(env.config()).stages()).extracting(StageSpec::name).containsExactly("prod");
            assertThat(env.kubernetes().client().apps().deployments().inNamespace("prod").withName(LocalEnvironment.SERVICE).get())
                    .isNotNull();
            assertThat(env.kubernetes().client().namespaces().withName("sandbox").get()).isNull();
        }
    }

    @Test
    void aStageTheEnvironmentDoesNotHaveIsRefused(@TempDir Path dir) {
        assertThatThrownBy(() -> LocalEnvironment.start(dir, LocalEnvironment.sampleRelease("1.0.0"), 1, List.of("prod", "qa")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("[prod, qa]");
    }
}
