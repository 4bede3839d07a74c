package dev.dualdeploy.journal;

import java.util.List;
import java.util.Optional;

/**
 * What the journal knows of a stage's cutover: the share of traffic an earlier run left on Kubernetes after that share's
 * gate PASSED, so that the next run does not judge it again. The router says where traffic is; only the journal can say
 * it was judged there.
 *
 * <p>Knowledge is given up at the first doubt, since not knowing only costs a gate run again: the stage's last run that
 * changed or judged anything must be a cutover that ended with exit 0, and left traffic where its last PASS was. A
 * deploy or rollback of the stage after it (the release under the traffic changed), a run that did not end, a failed
 * run and an unreadable file each mean "not known".
 */
public final class Judged {

    /**
     * A share judged PASS, and the release Kubernetes ran when it was judged: a verdict on another release says nothing
     * (a deploy from another job, whose journal this agent does not hold, changes the release under the traffic).
     *
     * @param share the Kubernetes share, in percent
     * @param image the Kubernetes side's image as the run read it ({@code repository@sha256:…}), or empty if unknown
     * @param router the router the share was read from, as it describes itself: a verdict on another router (a config
     *               that names another load balancer under the same stage name) says nothing of this one
     */
    public record Verdict(double share, Optional<String> image, String router) {
    }

    private Judged() {
    }

    /**
     * The share judged PASS by the stage's last cutover that moved or judged traffic, if nothing came after it.
     *
     * @param except the calling run's id, left out
     * @return empty when it is not known (see the class comment) or the directory does not exist
     */
    public static Optional<Verdict> share(Journal journal, String stage, String except) {
        List<String> runs;
        try {
            runs = Interrupted.newestFirst(journal.directory());
        } catch (JournalException e) {
            return Optional.empty();
        }
        for (String id : runs) {
            if (id.equals(except)) {
                continue;
            }
            List<Event> events;
            try {
                if (!Interrupted.names(journal, id, stage)) {
                    continue;
                }
                events = journal.read(id).events();
            } catch (JournalException unreadable) {
                return Optional.empty();
            }
            Optional<Event.StageStarted> began = events.stream().filter(Event.StageStarted.class::isInstance)
                    .map(Event.StageStarted.class::cast).filter(s -> s.stage().equals(Optional.of(stage))).findFirst();
            Optional<String> touched = began.map(Event.StageStarted::action);
            if (touched.isEmpty() || touched.get().equals("gate")) {
                continue; // it did not work on the stage, or only judged what ran without moving anything
            }
            if (!touched.get().equals("cutover")) {
                return Optional.empty(); // a deploy, a rollback or a revert came after the last verdict
            }
            boolean ended = events.stream().anyMatch(e -> e instanceof Event.RunEnded end && end.exitCode() == 0);
            if (!ended) {
                return Optional.empty();
            }
            Optional<Double> share = Optional.empty();
            Optional<Double> passed = Optional.empty();
            String router = "";
            boolean acted = false;
            for (Event event : events) {
                if (!event.stage().equals(Optional.of(stage))) {
                    continue;
                }
                if (event instanceof Event.TrafficSet) {
                    passed = Optional.empty();
                    acted = true;
                } else if (event instanceof Event.TrafficReadBack read && read.kubernetes().isPresent()) {
                    share = read.kubernetes();
                    router = read.router();
                } else if (event instanceof Event.GateDecided gate && gate.phase().startsWith("cutover")) {
                    acted = true;
                    passed = gate.decision() == Event.Decision.PASS ? share : Optional.empty();
                }
            }
            if (!acted) {
                continue; // it found traffic judged already, and moved nothing: the verdict before it stands
            }
            Optional<Double> last = share;
            Optional<String> image = began.flatMap(Event.StageStarted::image);
            String read = router;
            return passed.filter(p -> last.isPresent() && Math.abs(p - last.get()) < 0.005).map(p -> new Verdict(p, image, read));
        }
        return Optional.empty();
    }
}
