package dev.dualdeploy.cli;

import dev.dualdeploy.config.StageSpec;
import dev.dualdeploy.journal.EventSink;
import dev.dualdeploy.metrics.MetricsProvider;
import dev.dualdeploy.metrics.Providers;
import dev.dualdeploy.pipeline.Gate;
import dev.dualdeploy.time.Sleeper;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/** Makes the gate of a stage with its metrics provider, credentials read from the environment; closing closes them. */
final class GateFactory implements Function<StageSpec, Gate>, AutoCloseable {

    private final String service;
    private final EventSink events;
    private final List<MetricsProvider> opened = new ArrayList<>();

    GateFactory(String service, EventSink events) {
        this.service = service;
        this.events = events;
    }

    @Override
    public Gate apply(StageSpec stage) {
        MetricsProvider provider = stage.gate().metrics().map(m -> Providers.open(m, System::getenv)).orElse(null);
        if (provider != null) {
            opened.add(provider);
        }
        return new Gate(service, stage.name(), stage.gate(), provider, events.clock(), Sleeper.SYSTEM, events);
    }

    @Override
    public void close() {
        opened.forEach(MetricsProvider::close);
        opened.clear();
    }
}
