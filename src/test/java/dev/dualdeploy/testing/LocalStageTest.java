package dev.dualdeploy.testing;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dualdeploy.config.ConfigLoader;
import dev.dualdeploy.config.DualDeploySpec;
import dev.dualdeploy.config.Side;
import dev.dualdeploy.config.StageSpec;
import dev.dualdeploy.config.ToggleSpec;
import dev.dualdeploy.journal.EventSink;
import dev.dualdeploy.local.LocalEnvironment;
import dev.dualdeploy.metrics.MetricsProvider;
import dev.dualdeploy.pipeline.Rollouts;
import dev.dualdeploy.pipeline.Gate;
import dev.dualdeploy.pipeline.Deploy;
import dev.dualdeploy.pipeline.StageOutcome;
import dev.dualdeploy.pipeline.StageResult;
import dev.dualdeploy.release.Release;
import dev.dualdeploy.targets.DeployTarget;
import dev.dualdeploy.targets.PlatformTargets;
import dev.dualdeploy.time.Sleeper;
import dev.dualdeploy.time.SteppedClock;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;

/**
 * The stage {@code prod} of a local environment of its own (real ECS and Kubernetes simulators, seeded with that stage
 * alone), on which 1.0.0 passed on both sides after 0.9.0: both sides record 1.0.0 as the last good release and 0.9.0
 * as the good release before it.
 * The base of the tests that leave the platforms as a killed or interrupted run would and then run the engine again.
 */
public abstract class LocalStageTest {

    protected static final Release OLDEST = LocalEnvironment.sampleRelease("0.9.0");
    protected static final Release GOOD = LocalEnvironment.sampleRelease("1.0.0");
    protected static final Release NEXT = LocalEnvironment.sampleRelease("1.2.0");
    protected static final String STAGE = "prod";
    protected static final ToggleSpec BOTH = new ToggleSpec(true, true);

    protected LocalEnvironment env;
    protected DualDeploySpec config;
    protected PlatformTargets targets;
    protected final List<String> events = new CopyOnWriteArrayList<>();
    protected final EventSink sink = ProgressRecorder.lines(events);

    @BeforeEach
    void startLocalStage(@TempDir Path dir) {
        env = LocalEnvironment.start(dir, OLDEST, 2, List.of(STAGE)); // the other stages would only cost their seeding
        config = new ConfigLoader().load(env.config());
        targets = new PlatformTargets(Clock.systemUTC(), Sleeper.SYSTEM);
        StageResult good = deploy(GOOD, BOTH);
        assertThat(good.outcome()).as(good.reason()).isEqualTo(StageOutcome.SUCCEEDED);
    }

    @AfterEach
    void stopLocalStage() {
        targets.close();
        env.close();
    }

    protected StageSpec stage() {
        return config.stage(STAGE).orElseThrow();
    }

    /** A target of the stage whose progress lines go to {@link #events}, marked as the test's own. */
    protected DeployTarget target(Side side) {
        return targets.open(stage(), side, message -> events.add("[test/" + side.label() + "] " + message));
    }

    /** A deploy with automatic rollback, as {@code dualdeploy deploy --no-gate} runs it. */
    protected StageResult deploy(Release release, ToggleSpec toggle) {
        return new Rollouts(targets, sink).run(stage(), release, toggle, true);
    }

    /** The digest that runs on the side, as read back from its platform. */
    protected Optional<String> runs(Side side) {
        return target(side).current().digest();
    }

    /** A promotion whose gate's time is stepped (a soak takes no wall time); the deploys are real. */
    protected Deploy promotion(MetricsProvider provider) {
        SteppedClock stepped = new SteppedClock(Instant.now());
        return new Deploy(targets, sink, stage -> new Gate(LocalEnvironment.SERVICE, stage.name(), stage.gate(), provider,
                stepped, stepped, sink), Clock.systemUTC());
    }
}
