package dev.dualdeploy.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dualdeploy.config.Side;
import dev.dualdeploy.journal.Event;
import dev.dualdeploy.journal.EventSink;
import dev.dualdeploy.targets.TargetState;
import dev.dualdeploy.text.Text;
import dev.dualdeploy.time.SteppedClock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Review item 4: what a platform says enters an event escaped and capped, so no platform message can flood the journal. */
class EmitTest {

    private final SteppedClock clock = new SteppedClock(Instant.parse("2026-12-01T05:28:48Z"));
    private final List<Event> events = new ArrayList<>();
    private final EventSink sink = EventSink.of("20261201T052848.000Z-0123456789abcdef", clock, events::add);

    @Test
    void aPlatformsProgressLineAndReadBackAreEscapedAndCapped() {
        String huge = "pod loan-api-1: " + "m".repeat(1_000_000) + "\n";

        Emit.progress(sink, "prod", Side.KUBERNETES).event(huge);
        Emit.readBack(sink, "prod", Map.of(), Map.of(Side.LEGACY, TargetState.unreadable(huge)));

        String detail = ((Event.RolloutProgress) events.get(0)).detail();
        assertThat(detail).startsWith("pod loan-api-1: mmm").hasSizeLessThan(Text.MAX_FOREIGN + 40).doesNotContain("\n");
        assertThat(((Event.ReadBack) events.get(1)).detail()).hasSizeLessThan(Text.MAX_FOREIGN + 40);
    }
}
