package dev.dualdeploy.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.dualdeploy.config.ConfigLoader;
import dev.dualdeploy.config.Side;
import dev.dualdeploy.config.StageSpec;
import dev.dualdeploy.config.ToggleSpec;
import dev.dualdeploy.journal.Event;
import dev.dualdeploy.journal.EventSink;
import dev.dualdeploy.pipeline.Rollouts;
import dev.dualdeploy.pipeline.Parity;
import dev.dualdeploy.pipeline.Rollback;
import dev.dualdeploy.pipeline.StageOutcome;
import dev.dualdeploy.pipeline.StageResult;
import dev.dualdeploy.release.Release;
import dev.dualdeploy.report.JsonReport;
import dev.dualdeploy.targets.DeployTarget;
import dev.dualdeploy.targets.Progress;
import dev.dualdeploy.targets.Rollout;
import dev.dualdeploy.targets.RolloutResult;
import dev.dualdeploy.targets.TargetException;
import dev.dualdeploy.targets.TargetState;
import dev.dualdeploy.targets.Targets;
import dev.dualdeploy.testing.ProgressRecorder;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/**
 * Issue 8 item 16, found by the hostile review: a side whose platform stops answering after the rollout was reported
 * by deploy and rollback as "DEGRADED, unknown digest" with a stage in DRIFT (exit 1 or 0). It is UNREADABLE with its
 * one-line reason, the stage's parity is UNREADABLE (never a DRIFT claim about digests nobody read), and the exit code
 * is 4 (a person must look), in the printed summary, the progress lines and the JSON alike.
 */
class UnreadableSideReportTest {

    private static final String GOOD = "sha256:" + "a".repeat(64);
    private static final String NEW = "sha256:" + "b".repeat(64);
    private static final String REPOSITORY = "registry.example.com/loan-api";
    private static final String WHY = "kubernetes prod/loan-api: no answer from https://127.0.0.1:6443 within 10s";

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

    private final List<String> progress = new CopyOnWriteArrayList<>();
    private final List<Event> events = new CopyOnWriteArrayList<>();
    private final EventSink sink = ProgressRecorder.lines(progress, events::add);

    /**
     * A target in memory whose platform answers until {@link #hangUp()}, then fails every call as a real client does
     * when its read timeout passes.
     */
    private static final class Fake implements DeployTarget {
        private final String name;
        private volatile String image;
        private volatile String lastGood;
        private volatile String previousGood;
        private volatile boolean answering = true;
        private volatile boolean hangUpAfterRollout;

        Fake(String name, String image) {
            this.name = name;
            this.image = image;
            this.lastGood = image;
        }

        void hangUp() {
            answering = false;
        }

        private void answer() {
            if (!answering) {
                throw new TargetException(WHY);
            }
        }

        @Override
        public TargetState current() {
            answer();
            String digest = image.substring(image.indexOf('@') + 1);
            return new TargetState(Optional.of(image), Optional.of(digest), Optional.of(digest.equals(GOOD) ? "1.0.0" : "1.1.0"),
                    Optional.ofNullable(lastGood), Optional.ofNullable(previousGood), TargetState.Health.HEALTHY, "2/2 ready");
        }

        @Override
        public Rollout deploy(Release release) {
            answer();
            image = release.image();
            return timeout -> {
                if (hangUpAfterRollout) {
                    hangUp();
                }
                return new RolloutResult(RolloutResult.Outcome.SUCCEEDED, "2/2 ready", Duration.ofSeconds(1));
            };
        }

        @Override
        public TargetState markGood(Release release, Set<Side> passedOn) {
            answer();
            previousGood = lastGood;
            lastGood = release.image();
            return current();
        }

        @Override
        public Rollout rollback() {
            answer();
            String to = image.equals(lastGood) ? previousGood : lastGood;
            image = to;
            return timeout -> {
                if (hangUpAfterRollout) {
                    hangUp();
                }
                return new RolloutResult(RolloutResult.Outcome.SUCCEEDED, "back on " + to, Duration.ofSeconds(1));
            };
        }

        @Override
        public String describe() {
            return name;
        }
    }

    private final Map<Side, Fake> fakes = new EnumMap<>(Map.of(
            Side.LEGACY, new Fake("ecs prod/loan-api", REPOSITORY + "@" + GOOD),
            Side.KUBERNETES, new Fake("kubernetes prod/loan-api", REPOSITORY + "@" + GOOD)));

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

    private String printed(String command, StageResult report, boolean json) {
        StringWriter out = new StringWriter();
        Print.stage(new PrintWriter(out, true), command, report, List.copyOf(events), ExitCodes.of(report), json,
                "20261201T000000.000Z-0000000000000000");
        return out.toString();
    }

    private void assertUnreadableEverywhere(String command, StageResult report) throws Exception {
        assertThat(report.parity().outcome()).isEqualTo(Parity.Outcome.UNREADABLE);
        assertThat(report.parity().reason()).isEqualTo("parity unknown: kubernetes cannot be read: " + WHY);
        assertThat(ExitCodes.of(report)).isEqualTo(ExitCodes.NEEDS_ATTENTION);

        String text = printed(command, report, false);
        assertThat(text).contains("kubernetes (kubernetes prod/loan-api): UNREADABLE, cannot be read: " + WHY)
                .contains("parity: UNREADABLE (parity unknown: kubernetes cannot be read: " + WHY + ")")
                .doesNotContain("DEGRADED").doesNotContain("unknown digest").doesNotContain("DRIFT");
        assertThat(String.join("\n", progress)).doesNotContain("DEGRADED").doesNotContain("unknown digest")
                .doesNotContain("DRIFT").contains("[UNREADABLE]");

        // Read from the run's events, the JSON is the one the result says (JsonFromEventsTest, for an unreadable side).
        assertThat(JsonReport.write(JsonReport.stage(command, List.copyOf(events), ExitCodes.of(report))))
                .isEqualTo(JsonReport.write(ResultJson.stage(command, report, ExitCodes.of(report))));
        JsonNode json = new ObjectMapper().readTree(printed(command, report, true));
        assertThat(json.get("exitCode").asInt()).isEqualTo(4);
        assertThat(json.get("parity").get("status").asText()).isEqualTo("UNREADABLE");
        JsonNode kubernetes = json.get("sides").findParents("side").stream()
                .filter(s -> s.get("side").asText().equals("kubernetes")).findFirst().orElseThrow();
        assertThat(kubernetes.get("running").get("health").asText()).isEqualTo("UNREADABLE");
        assertThat(kubernetes.get("running").get("readable").asBoolean()).isFalse();
        assertThat(kubernetes.get("running").get("detail").asText()).isEqualTo(WHY);
        assertThat(json.toString()).doesNotContain("DEGRADED").doesNotContain("unknown digest").doesNotContain("DRIFT");
    }

    @Test
    void aDeployWhoseKubernetesSideStopsAnsweringAfterTheRolloutReportsItUnreadable() throws Exception {
        fakes.get(Side.KUBERNETES).hangUpAfterRollout = true;

        StageResult report = new Rollouts(targets, sink).run(STAGE, new Release(REPOSITORY, NEW, "1.1.0"),
                new ToggleSpec(true, true), true);

        // Legacy is returned to its last good release; kubernetes cannot be read, so nobody knows: a person must look.
        assertThat(report.outcome()).isEqualTo(StageOutcome.ROLLBACK_FAILED);
        assertThat(report.reason()).contains("kubernetes cannot be read: " + WHY).doesNotContain("unknown digest");
        assertUnreadableEverywhere("deploy", report);
    }

    @Test
    void aDeployWithoutRollbackWhoseSideStopsAnsweringExits4Not1() throws Exception {
        fakes.get(Side.KUBERNETES).hangUpAfterRollout = true;

        StageResult report = new Rollouts(targets, sink).run(STAGE, new Release(REPOSITORY, NEW, "1.1.0"),
                new ToggleSpec(true, true), false);

        assertThat(report.outcome()).isEqualTo(StageOutcome.FAILED);
        assertUnreadableEverywhere("deploy", report);
    }

    @Test
    void aRollbackWhoseSideStopsAnsweringAfterwardsIsNotReportedAsSucceeded() throws Exception {
        Release good = new Release(REPOSITORY, GOOD, "1.0.0");
        Release next = new Release(REPOSITORY, NEW, "1.1.0");
        StageResult deployed = new Rollouts(targets, sink).run(STAGE, next, new ToggleSpec(true, true), true);
        assertThat(deployed.outcome()).as(deployed.reason()).isEqualTo(StageOutcome.SUCCEEDED);
        progress.clear();
        events.clear();
        fakes.get(Side.KUBERNETES).hangUpAfterRollout = true;

        StageResult report = new Rollback(targets, sink).run(STAGE, List.of(Side.LEGACY, Side.KUBERNETES));

        assertThat(fakes.get(Side.LEGACY).current().image()).contains(good.image());
        assertThat(report.outcome()).isEqualTo(StageOutcome.ROLLBACK_FAILED);
        assertThat(report.reason()).isEqualTo("rollback to " + Release.shortDigest(GOOD) + " failed: kubernetes cannot be read: " + WHY);
        assertUnreadableEverywhere("rollback", report);
    }
}
