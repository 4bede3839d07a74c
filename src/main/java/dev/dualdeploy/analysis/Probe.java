package dev.dualdeploy.analysis;

import dev.dualdeploy.config.Side;
import java.util.Optional;

/**
 * One answer of an HTTP probe, as it happens (the gate journals it with its window).
 *
 * @param url the URL probed
 * @param side the side whose {@code {{side}}} the URL names, or empty
 * @param code the status code; 0 when there was no answer
 * @param answer what it got, such as {@code answered 503} or {@code did not answer (…)}
 * @param expected the status code the check expects
 * @param inARow how many unexpected answers in a row, this one included; 0 when it was expected
 */
public record Probe(String url, Optional<Side> side, int code, String answer, int expected, int inARow) {

    /** Whether it answered as expected. */
    public boolean expectedAnswer() {
        return code == expected;
    }
}
