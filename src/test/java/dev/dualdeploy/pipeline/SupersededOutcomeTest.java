package dev.dualdeploy.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dualdeploy.config.CheckSpec;
import dev.dualdeploy.config.ConfigLoader;
import dev.dualdeploy.config.GateSpec;
import dev.dualdeploy.config.MetricsSpec;
import dev.dualdeploy.config.Side;
import dev.dualdeploy.config.StageSpec;
import dev.dualdeploy.config.ToggleSpec;
import dev.dualdeploy.journal.EventSink;
import dev.dualdeploy.metrics.Measurement;
import dev.dualdeploy.metrics.MetricsProvider;
import dev.dualdeploy.release.Release;
import dev.dualdeploy.targets.DeployTarget;
import dev.dualdeploy.targets.Progress;
import dev.dualdeploy.targets.Rollout;
import dev.dualdeploy.targets.RolloutResult;
import dev.dualdeploy.targets.TargetState;
import dev.dualdeploy.targets.Targets;
import dev.dualdeploy.testing.ProgressRecorder;
import dev.dualdeploy.time.Abort;
import dev.dualdeploy.time.SteppedClock;
import java.net.URI;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/**
 * The stage outcome when another writer superseded a side's rollout, on in-memory targets: whatever else recovery
 * does, that side is left to them, and the stage is SUPERSEDED (exit 4), never ROLLBACK_FAILED, with a reason that names
 * the other writer's release and says it was left in place.
 */
class SupersededOutcomeTest {

    private static final String REPOSITORY = "registry.example.com/loan-api";
    private static final Release GOOD = new Release(REPOSITORY, "sha256:" + "a".repeat(64), "1.0.0");
    private static final Release NEXT = new Release(REPOSITORY, "sha256:" + "b".repeat(64), "1.1.0");
    private static final Release THEIRS = new Release(REPOSITORY, "sha256:" + "c".repeat(64), "1.0.1");

    private static final StageSpec STAGE = new ConfigLoader().parse("dualdeploy.yaml", """
            service: loan-api
            image: registry.example.com/loan-api
            stages:
              - name: prod
                deploy: { legacy: true, kubernetes: true }
                legacy:
                  ecs: { cluster: prod, service: loan-api, container: app, region: eu-west-1 }
                kubernetes: { namespace: prod, deployment: loan-api, container: app }
            """, Path.of(".")).stage("prod").orElseThrow();

    private final List<String> lines = new CopyOnWriteArrayList<>();
    private final EventSink sink = ProgressRecorder.lines(lines);

    /** A side in memory that records its last good release as a real one does. */
    private static final class Fake implements DeployTarget {
        private final String name;
        private volatile String image = GOOD.image();
        private volatile String lastGood = GOOD.image();
        private volatile String previousGood;
        /** What another writer sets while this side's rollout is followed, or null. */
        private volatile String otherWriter;
        /** Requested when this side is deployed, or null. */
        private volatile Abort abortOnDeploy;
        /** A digest record another writer sets while this side's rollout is followed (the image stays), or null. */
        private volatile String otherRecord;

        Fake(String name) {
            this.name = name;
        }

        @Override
        public TargetState current() {
            String digest = image.substring(image.indexOf('@') + 1);
            return new TargetState(Optional.of(image), Optional.of(digest), Optional.of(digest.equals(GOOD.digest()) ? "1.0.0" : "x"),
                    Optional.ofNullable(lastGood), Optional.ofNullable(previousGood), TargetState.Health.HEALTHY, "2/2 ready",
                    Set.of(Side.LEGACY, Side.KUBERNETES));
        }

        @Override
        public Rollout deploy(Release release) {
            image = release.image();
            if (abortOnDeploy != null) {
                abortOnDeploy.request("SIGTERM");
            }
            return timeout -> {
                if (otherRecord != null) {
                    return RolloutResult.superseded(otherRecord, "superseded by " + Release.shortDigest(otherRecord)
                            + ": another writer changed dualdeploy.dev/digest", Duration.ZERO);
                }
                if (otherWriter != null) {
                    image = otherWriter;
                    return RolloutResult.superseded(otherWriter, "superseded by " + Release.shortImage(otherWriter)
                            + ": another writer set app to " + otherWriter, Duration.ZERO);
                }
                return new RolloutResult(RolloutResult.Outcome.SUCCEEDED, "2/2 ready", Duration.ofSeconds(1));
            };
        }

        @Override
        public TargetState markGood(Release release, Set<Side> passedOn) {
            previousGood = lastGood;
            lastGood = release.image();
            return current();
        }

        @Override
        public Rollout rollback() {
            String to = image.equals(lastGood) ? previousGood : lastGood;
            image = to;
            return timeout -> new RolloutResult(RolloutResult.Outcome.SUCCEEDED, "back on " + to, Duration.ofSeconds(1));
        }

        @Override
        public String describe() {
            return name;
        }
    }

    private final Map<Side, Fake> fakes = new EnumMap<>(Map.of(Side.LEGACY, new Fake("ecs prod/loan-api"),
            Side.KUBERNETES, new Fake("kubernetes prod/loan-api")));

    private final Targets targets = new Targets() {
        @Override
        public DeployTarget open(StageSpec stage, Side side, Progress progress) {
            return fakes.get(side);
        }

        @Override
        public Clock clock() {
            return Clock.systemUTC();
        }

        @Override
        public void close() {
        }
    };

    private void assertLeftToTheOtherWriter(StageResult report) {
        String what = report.outcome() + ": " + report.reason() + "\n" + String.join("\n", lines);
        assertThat(report.outcome()).as(what).isEqualTo(StageOutcome.SUPERSEDED);
        assertThat(report.reason()).as(what).contains("kubernetes was not rolled back: superseded by " + Release.shortImage(THEIRS.image()))
                .contains("a person must look");
        assertThat(fakes.get(Side.KUBERNETES).image).as("left to the other writer").isEqualTo(THEIRS.image());
        assertThat(fakes.get(Side.LEGACY).image).as("what this run changed is back").isEqualTo(GOOD.image());
    }

    @Test
    void aSupersededRolloutWithRollbackIsSuperseded() {
        fakes.get(Side.KUBERNETES).otherWriter = THEIRS.image();

        assertLeftToTheOtherWriter(new Rollouts(targets, sink).run(STAGE, NEXT, new ToggleSpec(true, true), true));
    }

    @Test
    void aSideAnotherWriterChangesDuringAFailingGateIsLeftToThem() {
        GateSpec gate = new GateSpec(Optional.empty(), Duration.ofSeconds(30), Duration.ofSeconds(10), Duration.ofSeconds(20),
                List.of(new CheckSpec.Slo("error_rate", 0.02, 1)),
                Optional.of(new MetricsSpec(MetricsSpec.Provider.PROMETHEUS, Optional.of(URI.create("http://127.0.0.1:9")),
                        Optional.empty(), Optional.empty(), MetricsSpec.Auth.NONE, Duration.ofSeconds(1), Duration.ZERO,
                        Map.of("error_rate", "error_rate{side=\"{{side}}\"}"))),
                100, 2, GateSpec.OnError.FAIL, GateSpec.OnInconclusive.FAIL);
        StageSpec gated = new StageSpec(STAGE.name(), STAGE.toggle(), STAGE.legacy(), STAGE.kubernetes(), STAGE.timeout(), gate,
                STAGE.approval());
        MetricsProvider failing = (query, window) -> {
            fakes.get(Side.KUBERNETES).image = THEIRS.image(); // another writer, during the soak
            return Measurement.of(query, List.of(0.10));
        };
        SteppedClock stepped = new SteppedClock(Instant.parse("2026-12-01T10:00:00Z"));

        StageResult report = new Deploy(targets, sink, stage -> new Gate("loan-api", stage.name(), stage.gate(), failing, stepped,
                stepped, sink), Clock.systemUTC()).run(gated, NEXT, new ToggleSpec(true, true), true, true);

        assertLeftToTheOtherWriter(report);
    }

    /**
     * Another writer changed only the digest record of a side, which still runs this run's image: the reason names what
     * they set (the record), not this run's own release as if it were theirs.
     */
    @Test
    void aSideWhoseDigestRecordAnotherWriterChangedNamesTheirRecordNotOurRelease() {
        fakes.get(Side.KUBERNETES).otherRecord = THEIRS.digest();

        StageResult report = new Rollouts(targets, sink).run(STAGE, NEXT, new ToggleSpec(true, true), true);

        String what = report.outcome() + ": " + report.reason() + "\n" + String.join("\n", lines);
        assertThat(report.outcome()).as(what).isEqualTo(StageOutcome.SUPERSEDED);
        assertThat(report.reason()).as(what).contains("kubernetes was not rolled back: superseded by " + Release.shortDigest(THEIRS.digest()))
                .doesNotContain("superseded by " + Release.shortDigest(NEXT.digest()));
        assertThat(lines).as(what).contains("[prod/kubernetes] not rolled back: superseded by " + Release.shortDigest(THEIRS.digest())
                + " (" + THEIRS.digest() + "), which another writer put there during this run");
    }

    @Test
    void aSupersededRolloutWhenTheRunIsAbortedIsSuperseded() {
        fakes.get(Side.KUBERNETES).otherWriter = THEIRS.image();
        Abort abort = Abort.create();
        fakes.get(Side.KUBERNETES).abortOnDeploy = abort; // the signal comes once kubernetes is deployed

        StageResult report = new Rollouts(targets, sink, abort).run(STAGE, NEXT, new ToggleSpec(true, true), true);

        assertLeftToTheOtherWriter(report);
    }
}
