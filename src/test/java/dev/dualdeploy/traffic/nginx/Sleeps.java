package dev.dualdeploy.traffic.nginx;

import dev.dualdeploy.time.Sleeper;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Records every sleep the router asks for and passes it on: to a stepped clock (no wall time) where the test only needs
 * the router's deadline to pass, or to the real sleeper where a real nginx has to finish its reload meanwhile.
 */
final class Sleeps implements Sleeper {

    private final Sleeper next;
    private final List<Duration> asked = new CopyOnWriteArrayList<>();

    Sleeps(Sleeper next) {
        this.next = next;
    }

    @Override
    public void sleep(Duration duration) {
        asked.add(duration);
        next.sleep(duration);
    }

    List<Duration> asked() {
        return List.copyOf(asked);
    }
}
