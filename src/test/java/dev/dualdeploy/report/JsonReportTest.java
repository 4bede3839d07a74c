package dev.dualdeploy.report;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.dualdeploy.journal.Event;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * The deploy/rollback result read from a run's events when the run ended before any stage did (hostile review: a
 * SIGTERM during the preflight reads under --output json was an error JSON and exit 2 while the journal said 6).
 */
class JsonReportTest {

    private static final String RUN = "20261202T070000.000Z-0123456789abcdef";
    private static final Instant T = Instant.parse("2026-12-02T07:00:00Z");

    @Test
    void aRunThatEndedBeforeAnyStageDidIsOneResultWithTheRunsOutcomeAndNothingKnownOfTheSides() {
        List<Event> events = List.of(
                new Event.RunStarted(RUN, T, Optional.empty(), Optional.empty(), "deploy", List.of("sandbox"), Optional.empty(),
                        Optional.empty(), Optional.of("root")),
                new Event.Aborted(RUN, T, Optional.of("sandbox"), Optional.empty(), "SIGTERM"),
                new Event.RunEnded(RUN, T, Optional.empty(), Optional.empty(), "ABORTED", 6,
                        "aborted (SIGTERM) during the preflight reads: nothing was changed"));

        ObjectNode json = JsonReport.stage("deploy", events, 6);

        assertThat(json.get("exitCode").asInt()).isEqualTo(6);
        assertThat(json.get("stage").asText()).isEqualTo("sandbox");
        assertThat(json.get("outcome").asText()).isEqualTo("ABORTED");
        assertThat(json.get("reason").asText()).isEqualTo("aborted (SIGTERM) during the preflight reads: nothing was changed");
        assertThat(json.get("parity").get("status").asText()).isEqualTo("UNREADABLE");
        assertThat(json.get("sides")).isEmpty();
        assertThat(json.get("release").isNull()).isTrue();
    }

    @Test
    void eventsWithNeitherAStageEndNorARunEndAreNoResult() {
        assertThatThrownBy(() -> JsonReport.stage("deploy", List.of(), 70)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("no stage ended in the run's events");
    }
}
