package dev.dualdeploy.journal;

import dev.dualdeploy.config.Side;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/** One event of every kind, with every optional field both present and absent somewhere, for the journal's tests. */
final class Events {

    static final String IMAGE = "registry.example.com/loan-api@sha256:" + "ab".repeat(32);
    static final String OLD = "registry.example.com/loan-api@sha256:" + "cd".repeat(32);

    private Events() {
    }

    static List<Event> everyKind(String run, Instant t) {
        Optional<String> sandbox = Optional.of("sandbox");
        Optional<Side> k8s = Optional.of(Side.KUBERNETES);
        Optional<Side> none = Optional.empty();
        return List.of(
                new Event.RunStarted(run, t, Optional.empty(), none, "deploy", List.of("sandbox"), Optional.of(IMAGE), Optional.of("1.4.2"),
                        Optional.of("jenkins-loan-api-main-42")),
                new Event.LockAcquired(run, t.plusMillis(1), sandbox, none, "dualdeploy-loan-api-sandbox", run, Duration.ofSeconds(30)),
                new Event.ApprovalAsked(run, t.plusMillis(2), sandbox, none, List.of("alice", "ops"), Duration.ofMinutes(30),
                        "kubernetes 1.4.1 → 1.4.2"),
                new Event.ApprovalAnswered(run, t.plusMillis(3), sandbox, none, true, Optional.of("alice"), Optional.empty()),
                new Event.StageStarted(run, t.plusMillis(4), sandbox, none, "deploy", List.of(Side.LEGACY, Side.KUBERNETES), Optional.of(IMAGE),
                        Optional.of("1.4.2"), List.of(OLD, "")),
                new Event.RolloutStarted(run, t.plusMillis(5), sandbox, k8s, "kubernetes loan/loan-api", IMAGE, "1.4.2", Optional.of(OLD)),
                new Event.RolloutProgress(run, t.plusMillis(6), sandbox, k8s, "updated 2/3, ready 1/3"),
                new Event.RolloutEnded(run, t.plusMillis(7), sandbox, k8s, Event.RolloutStatus.SUCCEEDED, "3/3 ready", Duration.ofMillis(12_340)),
                new Event.RolloutEnded(run, t.plusMillis(7), sandbox, Optional.of(Side.LEGACY), Event.RolloutStatus.FAILED,
                        "superseded by cdcdcdcdcdcd: another writer updated the service", Duration.ZERO, Optional.of(OLD)),
                new Event.ReadBack(run, t.plusMillis(8), sandbox, k8s, "kubernetes loan/loan-api", Optional.of(IMAGE),
                        Optional.of("sha256:" + "ab".repeat(32)), Optional.of("1.4.2"), Optional.of(OLD), Event.Health.HEALTHY, "3/3 ready",
                        Optional.of(IMAGE), List.of(Side.LEGACY, Side.KUBERNETES)),
                new Event.ReadBack(run, t.plusMillis(9), sandbox, Optional.of(Side.LEGACY), "ecs sandbox/loan-api", Optional.empty(),
                        Optional.empty(), Optional.empty(), Optional.empty(), Event.Health.DEGRADED, "no answer within 10s"),
                new Event.Parity(run, t.plusMillis(10), sandbox, none, Event.ParityStatus.PARITY, "all sides run abababababab"),
                new Event.GateStarted(run, t.plusMillis(11), sandbox, none, "canary", List.of(Side.KUBERNETES), Duration.ofMinutes(15),
                        Duration.ofSeconds(30), 30, List.of("slo error_rate [kubernetes]")),
                new Event.GateWindowMeasured(run, t.plusMillis(12), sandbox, k8s, "canary", 1, 30, t.plusSeconds(30), Duration.ofSeconds(30),
                        "error_rate", "kubernetes", Optional.of(0.0021), Optional.empty(), Optional.empty()),
                new Event.GateWindowMeasured(run, t.plusMillis(13), sandbox, Optional.of(Side.LEGACY), "canary", 2, 30, t.plusSeconds(60),
                        Duration.ofSeconds(30), "error_rate", "legacy before-deploy", Optional.empty(), Optional.of("connection refused"),
                        Optional.of("1 in a row; error_limit 2")),
                new Event.CheckVerdict(run, t.plusMillis(14), sandbox, k8s, "canary", "slo error_rate [kubernetes]", "slo error_rate",
                        Event.VerdictOutcome.PASS, "error_rate at most 0.21% over 30 windows", List.of("kubernetes"),
                        java.util.Map.of("kubernetes", List.of(0.0021, 0.0019))),
                new Event.GateDecided(run, t.plusMillis(15), sandbox, none, "canary", List.of(Side.KUBERNETES), Event.VerdictOutcome.PASS,
                        Event.Decision.PASS, "all 1 checks passed over 15m (30 windows)", 30, 30, t.plusMillis(11), Duration.ofMinutes(15)),
                new Event.GateSkipped(run, t.plusMillis(16), sandbox, none, "--no-gate: the stage is not judged before promotion"),
                new Event.LastGoodRecorded(run, t.plusMillis(17), sandbox, none, List.of(Side.LEGACY, Side.KUBERNETES), "1.4.2"),
                new Event.RollbackStarted(run, t.plusMillis(18), sandbox, none, List.of(Side.LEGACY), "asked for", Optional.empty()),
                new Event.RollbackEnded(run, t.plusMillis(19), sandbox, Optional.of(Side.LEGACY), Event.RolloutStatus.TIMED_OUT,
                        "1/2 tasks running after 10m", Duration.ofMinutes(10)),
                new Event.RollbackEnded(run, t.plusMillis(19), sandbox, k8s, Event.RolloutStatus.FAILED, "forbidden", Duration.ZERO,
                        Optional.of("forbidden")),
                new Event.Notice(run, t.plusMillis(19), sandbox, none, "canary kubernetes needs both sides enabled; judging legacy alone"),
                new Event.TrafficSet(run, t.plusMillis(19), sandbox, none, "nginx include /etc/nginx/dd.conf", 25, "step 2 of 4"),
                new Event.TrafficReadBack(run, t.plusMillis(19), sandbox, none, "nginx include /etc/nginx/dd.conf", Optional.of(25.0),
                        "generation 7", Optional.of(25.0), Optional.empty()),
                new Event.TrafficReadBack(run, t.plusMillis(19), sandbox, none, "cloudflare load balancer x in zone y", Optional.empty(),
                        "", Optional.empty(), Optional.of("connection refused")),
                new Event.Aborted(run, t.plusMillis(20), sandbox, none, "SIGTERM"),
                new Event.StageEnded(run, t.plusMillis(20), sandbox, none, "ROLLED_BACK", "the gate FAILED", Optional.of(Event.ParityStatus.PARITY),
                        Optional.of("all sides run abababababab"), List.of(Side.LEGACY, Side.KUBERNETES)),
                new Event.LockLost(run, t.plusMillis(21), sandbox, none, "dualdeploy-loan-api-sandbox", "released", Optional.empty()),
                new Event.RunEnded(run, t.plusMillis(22), Optional.empty(), none, "ROLLED_BACK", 1, "the gate FAILED; every side is back on 1.4.1"));
    }
}
