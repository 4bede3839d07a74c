package dev.dualdeploy.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.dualdeploy.config.ConfigLoader;
import dev.dualdeploy.config.Side;
import dev.dualdeploy.config.StageSpec;
import dev.dualdeploy.journal.Event;
import dev.dualdeploy.journal.EventSink;
import dev.dualdeploy.journal.Judged;
import dev.dualdeploy.journal.RunIds;
import dev.dualdeploy.metrics.Measurement;
import dev.dualdeploy.metrics.MetricsProvider;
import dev.dualdeploy.release.Release;
import dev.dualdeploy.targets.DeployTarget;
import dev.dualdeploy.targets.Progress;
import dev.dualdeploy.targets.Rollout;
import dev.dualdeploy.targets.TargetState;
import dev.dualdeploy.targets.Targets;
import dev.dualdeploy.testing.FakeRouter;
import dev.dualdeploy.time.Abort;
import dev.dualdeploy.time.SteppedClock;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * The cutover engine over a router in memory and sides in memory, with time stepped: the steps, the read-back after
 * every set, the revert on FAIL, ERROR, abort and a lost lease, resuming where the router is, and the parity refusal.
 * The real routers are tested against their peers, and the whole command in the local environment.
 */
class CutoverTest {

    private static final String GOOD = "registry.example.com/loan-api@sha256:" + "a".repeat(64);
    private static final String OTHER = "registry.example.com/loan-api@sha256:" + "b".repeat(64);

    private final SteppedClock clock = new SteppedClock(Instant.parse("2026-12-02T10:00:00Z"));
    private final List<Event> journal = new CopyOnWriteArrayList<>();
    private final EventSink events = EventSink.of(RunIds.next(clock), clock, journal::add);
    private final Map<Side, String> runs = new EnumMap<>(Map.of(Side.LEGACY, GOOD, Side.KUBERNETES, GOOD));
    private final Map<Side, TargetState.Health> health = new EnumMap<>(Map.of(Side.LEGACY, TargetState.Health.HEALTHY,
            Side.KUBERNETES, TargetState.Health.HEALTHY));
    /** The Kubernetes error rate at a share of traffic: a release that is fine at 25% and fails at 50%. */
    private volatile double failFrom = 101;
    private final Abort abort = Abort.create();
    private final AtomicReference<String> lost = new AtomicReference<>();

    private static final StageSpec STAGE = new ConfigLoader().parse("dualdeploy.yaml", """
            service: loan-api
            image: registry.example.com/loan-api
            stages:
              - name: prod
                legacy: { ecs: { cluster: prod, service: loan-api, container: app, region: eu-west-1 } }
                kubernetes: { namespace: loan, deployment: loan-api, container: app }
                cutover:
                  router: { nginx: { file: /x.conf, legacy_upstream: a, kubernetes_upstream: b, probe: 'http://127.0.0.1:9/p' } }
                  steps: [10, 25, 50, 100]
                  gate:
                    soak: 60s
                    interval: 10s
                    checks: [ { slo: { metric: error_rate, max: 0.02, breaches: 2 } } ]
                    metrics: { provider: prometheus, address: 'http://127.0.0.1:9', queries: { error_rate: 'e{side="{{side}}"}' } }
            """, Path.of(".")).stage("prod").orElseThrow();

    private Cutover.Result run(FakeRouter router, Cutover.Goal goal, Optional<Judged.Verdict> judged) {
        MetricsProvider metrics = (query, window) -> Measurement.of(query, List.of(
                query.side().equals("kubernetes") && router.share() >= failFrom ? 0.2 : 0.001));
        Cutover cutover = new Cutover(new Sides(), router, stage -> new Gate("loan-api", stage.name(), stage.gate(), metrics, clock, clock,
                events, abort), events, clock, abort, () -> Optional.ofNullable(lost.get()));
        return cutover.run(STAGE, goal, judged);
    }

    private List<String> traffic() {
        return journal.stream().filter(e -> e instanceof Event.TrafficSet || e instanceof Event.TrafficReadBack).map(Event::message).toList();
    }

    private List<String> gates() {
        return journal.stream().filter(e -> e instanceof Event.GateDecided).map(e -> ((Event.GateDecided) e).phase() + " "
                + ((Event.GateDecided) e).decision()).toList();
    }

    @Test
    void everyStepIsSetReadBackAndJudgedUpToTheLast() {
        FakeRouter router = new FakeRouter(0);

        Cutover.Result result = run(router, Cutover.Goal.to(100), Optional.empty());

        assertThat(result.outcome()).isEqualTo(Cutover.Outcome.SUCCEEDED);
        assertThat(router.sets()).containsExactly(10.0, 25.0, 50.0, 100.0);
        assertThat(gates()).containsExactly("cutover 10% PASS", "cutover 25% PASS", "cutover 50% PASS", "cutover 100% PASS");
        assertThat(result.before().orElseThrow().kubernetes()).isZero();
        assertThat(result.after().orElseThrow().kubernetes()).isEqualTo(100);
        assertThat(result.reason()).startsWith("100% of traffic is on kubernetes; steps judged: 10% PASS, 25% PASS, 50% PASS, 100% PASS");
        assertThat(traffic()).contains("traffic: setting 25% on kubernetes (step 2 of 4, 2 of 4 in this run) at fake router",
                "traffic read back: 25% on kubernetes (fake 25.0), as set");
        assertThat(journal).filteredOn(e -> e instanceof Event.TrafficReadBack r && r.expected().isPresent())
                .allMatch(e -> ((Event.TrafficReadBack) e).matches()).hasSize(4);
        Event.StageEnded ended = (Event.StageEnded) journal.get(journal.size() - 1);
        assertThat(ended.outcome()).isEqualTo("SUCCEEDED");
        assertThat(ended.parity()).contains(Event.ParityStatus.PARITY);
    }

    @Test
    void aFailAtFiftyPercentPutsTrafficBackOnLegacyAndReadsItBack() {
        failFrom = 50;
        FakeRouter router = new FakeRouter(0);

        Cutover.Result result = run(router, Cutover.Goal.to(100), Optional.empty());

        assertThat(result.outcome()).isEqualTo(Cutover.Outcome.REVERTED);
        assertThat(router.sets()).containsExactly(10.0, 25.0, 50.0, 0.0);
        assertThat(router.share()).isZero();
        assertThat(gates()).containsExactly("cutover 10% PASS", "cutover 25% PASS", "cutover 50% FAIL");
        assertThat(result.reason()).startsWith("the gate at 50% (step 3 of 4, 3 of 4 in this run) is FAIL: ")
                .contains("; traffic is back on legacy (read back 0% on kubernetes, ");
        assertThat(traffic()).endsWith("traffic read back: 0% on kubernetes (fake 0.0), as set");
        assertThat(result.after().orElseThrow().kubernetes()).isZero();
    }

    @Test
    void aRunResumesAtTheShareTheRouterHoldsAndJudgesItAgainUnlessAPassThereIsKnown() {
        FakeRouter router = new FakeRouter(25);
        Cutover.Result result = run(router, Cutover.Goal.to(50), Optional.empty());
        assertThat(result.outcome()).isEqualTo(Cutover.Outcome.SUCCEEDED);
        assertThat(gates()).containsExactly("cutover 25% PASS", "cutover 50% PASS");
        assertThat(router.sets()).containsExactly(50.0);

        journal.clear();
        FakeRouter known = new FakeRouter(25);
        run(known, Cutover.Goal.nextStep(), Optional.of(new Judged.Verdict(25.0, Optional.of(GOOD), "fake router")));
        assertThat(gates()).containsExactly("cutover 50% PASS");
        assertThat(known.sets()).containsExactly(50.0);

        // A PASS on another release (deployed since, from a job whose journal this one does not hold) is no PASS here.
        journal.clear();
        FakeRouter stale = new FakeRouter(25);
        run(stale, Cutover.Goal.nextStep(), Optional.of(new Judged.Verdict(25.0, Optional.of(OTHER), "fake router")));
        assertThat(gates()).containsExactly("cutover 25% PASS", "cutover 50% PASS");

        // A PASS read from another router (another load balancer under the same stage name) is no PASS here either.
        journal.clear();
        run(new FakeRouter(25), Cutover.Goal.nextStep(), Optional.of(new Judged.Verdict(25.0, Optional.of(GOOD), "another router")));
        assertThat(gates()).containsExactly("cutover 25% PASS", "cutover 50% PASS");
    }

    @Test
    void aShareThatIsNoStepIsJudgedThenTheNextStepsFollow() {
        FakeRouter router = new FakeRouter(30);
        run(router, Cutover.Goal.to(100), Optional.empty());
        assertThat(gates()).containsExactly("cutover 30% PASS", "cutover 50% PASS", "cutover 100% PASS");
        assertThat(router.sets()).containsExactly(50.0, 100.0);
    }

    @Test
    void nextAtTheLastStepAndToWhereItIsWithAKnownPassMoveNothing() {
        FakeRouter router = new FakeRouter(100);
        Cutover.Result result = run(router, Cutover.Goal.nextStep(), Optional.empty());
        assertThat(result.outcome()).isEqualTo(Cutover.Outcome.SUCCEEDED);
        assertThat(result.reason()).isEqualTo("100% of traffic is on kubernetes, at or beyond the last step (100%); nothing to move");
        assertThat(router.sets()).isEmpty();

        FakeRouter at = new FakeRouter(50);
        assertThat(run(at, Cutover.Goal.to(50), Optional.of(new Judged.Verdict(50.0, Optional.of(GOOD), "fake router"))).reason())
                .isEqualTo("50% of traffic is on kubernetes already,"
                + " judged PASS by an earlier run; nothing to move");
        assertThat(at.sets()).isEmpty();
        assertThat(gates()).isEmpty();
    }

    @Test
    void aLowerStepIsOneMoveDownAndJudged() {
        FakeRouter router = new FakeRouter(100);
        run(router, Cutover.Goal.to(25), Optional.empty());
        assertThat(router.sets()).containsExactly(25.0);
        assertThat(gates()).containsExactly("cutover 25% PASS");
    }

    @Test
    void sidesNotAtParityOrNotHealthyMoveNoTraffic() {
        runs.put(Side.KUBERNETES, OTHER);
        FakeRouter router = new FakeRouter(10);
        Cutover.Result drift = run(router, Cutover.Goal.to(100), Optional.empty());
        assertThat(drift.outcome()).isEqualTo(Cutover.Outcome.REFUSED);
        assertThat(drift.reason()).startsWith("traffic not moved: the sides do not run the same release (sides differ: legacy"
                + " aaaaaaaaaaaa, kubernetes bbbbbbbbbbbb); deploy one release to both sides first");
        assertThat(router.sets()).isEmpty();
        assertThat(traffic()).isEmpty();

        runs.put(Side.KUBERNETES, GOOD);
        health.put(Side.KUBERNETES, TargetState.Health.DEGRADED);
        Cutover.Result unhealthy = run(router, Cutover.Goal.to(100), Optional.empty());
        assertThat(unhealthy.outcome()).isEqualTo(Cutover.Outcome.REFUSED);
        assertThat(unhealthy.reason()).isEqualTo("traffic not moved: kubernetes is DEGRADED (1/2 ready); both sides must be healthy"
                + " before traffic moves");
        assertThat(router.sets()).isEmpty();
    }

    @Test
    void aReadBackThatDiffersIsAnErrorAndTrafficGoesBack() {
        FakeRouter router = new FakeRouter(0);
        router.lie = 20.0;
        Cutover.Result result = run(router, Cutover.Goal.to(25), Optional.empty());
        // The lie holds for the revert's read-back too, so going back cannot be proven: a person must look.
        assertThat(result.outcome()).isEqualTo(Cutover.Outcome.ROUTER_FAILED);
        assertThat(result.reason()).startsWith("set 10% on kubernetes, but fake router reads back 20% on kubernetes (fake 10.0)")
                .contains("putting traffic back on legacy FAILED: set 0% on kubernetes, but fake router reads back 20%")
                .endsWith("a person must set 0% on kubernetes at fake router");
        assertThat(traffic()).contains("traffic read back: 20% on kubernetes (fake 10.0), NOT the 10% just set");
        assertThat(gates()).isEmpty();
    }

    @Test
    void aSetThatFailsIsPutBackAndSaysTheRouterFailed() {
        FakeRouter router = new FakeRouter(10);
        router.failSets.set(1);
        Cutover.Result result = run(router, Cutover.Goal.to(25), Optional.of(new Judged.Verdict(10.0, Optional.of(GOOD), "fake router")));
        assertThat(result.outcome()).isEqualTo(Cutover.Outcome.ROUTER_FAILED);
        assertThat(result.reason()).isEqualTo("setting 25% on kubernetes failed at fake router: the fake refused the change; traffic is"
                + " back on legacy (read back 0% on kubernetes, 0.0s after the decision)");
        assertThat(router.share()).isZero();
    }

    @Test
    void anUnreadableRouterMovesNothing() {
        FakeRouter router = new FakeRouter(10);
        router.failReads.set(1);
        Cutover.Result result = run(router, Cutover.Goal.to(100), Optional.empty());
        assertThat(result.outcome()).isEqualTo(Cutover.Outcome.ROUTER_FAILED);
        assertThat(result.reason()).isEqualTo("cannot read where traffic is at fake router: connection refused by fake; nothing was"
                + " changed, and traffic is wherever the router last put it");
        assertThat(router.sets()).isEmpty();
        assertThat(traffic()).containsExactly("traffic: cannot read fake router: connection refused by fake");
    }

    @Test
    void anAbortDuringAGatePutsTrafficBack() {
        FakeRouter router = new FakeRouter(0);
        failFrom = 101;
        Clock stepped = clock;
        // Aborted at the first window of the second step.
        MetricsProvider metrics = (query, window) -> {
            if (router.share() == 25) {
                abort.request("SIGTERM");
            }
            return Measurement.of(query, List.of(0.001));
        };
        Cutover cutover = new Cutover(new Sides(), router, stage -> new Gate("loan-api", stage.name(), stage.gate(), metrics, clock, clock,
                events, abort), events, stepped, abort, Optional::empty);
        Cutover.Result result = cutover.run(STAGE, Cutover.Goal.to(100), Optional.empty());
        assertThat(result.outcome()).isEqualTo(Cutover.Outcome.ABORTED);
        assertThat(router.sets()).containsExactly(10.0, 25.0, 0.0);
        assertThat(result.reason()).startsWith("aborted (SIGTERM) during the gate at 25%; traffic is back on legacy");
    }

    @Test
    void aLostLeasePutsTrafficBack() {
        FakeRouter leased = new FakeRouter(0);
        lost.set("taken over by run x");
        Cutover.Result lease = run(leased, Cutover.Goal.to(100), Optional.empty());
        assertThat(lease.outcome()).isEqualTo(Cutover.Outcome.REVERTED);
        assertThat(leased.sets()).containsExactly(0.0);
        assertThat(lease.reason()).startsWith("the stage's lease was lost (taken over by run x); traffic is back on legacy");
    }

    @Test
    void revertSetsZeroWithoutParityOrGate() {
        runs.put(Side.KUBERNETES, OTHER);
        FakeRouter router = new FakeRouter(50);
        Cutover.Result result = run(router, Cutover.Goal.toLegacy(), Optional.empty());
        assertThat(result.outcome()).isEqualTo(Cutover.Outcome.SUCCEEDED);
        assertThat(result.reason()).isEqualTo("reverted as asked (--revert); traffic is back on legacy (read back 0% on kubernetes)");
        assertThat(router.sets()).containsExactly(0.0);
        assertThat(result.before()).as("a revert does not read first: the read-back after it says where traffic is").isEmpty();
        assertThat(result.parity()).isEmpty();
    }

    @Test
    void aGoalThatIsNoStepIsRefusedBeforeAnythingIsRead() {
        FakeRouter router = new FakeRouter(0);
        assertThatThrownBy(() -> run(router, Cutover.Goal.to(30), Optional.empty())).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("30% is not a step of stage prod's cutover [10, 25, 50, 100]");
        assertThat(journal).isEmpty();
    }

    @Test
    void aGateThatCannotBeMadeMovesNothingAndOneThatFailsToRunPutsTrafficBack() {
        FakeRouter router = new FakeRouter(0);
        Cutover unmade = new Cutover(new Sides(), router, stage -> {
            throw new IllegalArgumentException("metrics.auth.bearer_token_env names PROM_TOKEN, which is not set");
        }, events, clock, abort, Optional::empty);
        assertThatThrownBy(() -> unmade.run(STAGE, Cutover.Goal.to(100), Optional.empty())).isInstanceOf(IllegalArgumentException.class);
        assertThat(router.sets()).as("nothing moved before the gate existed").isEmpty();

        Gate broken = new Gate("loan-api", "prod", STAGE.cutover().orElseThrow().gate(), (query, window) -> {
            throw new IllegalStateException("provider exploded");
        }, clock, clock, events, abort);
        Cutover.Result result = new Cutover(new Sides(), router, stage -> broken, events, clock, abort, Optional::empty)
                .run(STAGE, Cutover.Goal.to(100), Optional.empty());
        assertThat(result.outcome()).isEqualTo(Cutover.Outcome.REVERTED);
        assertThat(result.reason()).startsWith("the gate at 10% (step 1 of 4, 1 of 4 in this run) could not run (IllegalStateException:"
                + " provider exploded); traffic is back on legacy");
        assertThat(router.sets()).containsExactly(10.0, 0.0);
    }

    /** Both sides in memory: each runs what {@link #runs} says, with the health {@link #health} says. */
    private final class Sides implements Targets {
        @Override
        public DeployTarget open(StageSpec stage, Side side, Progress progress) {
            return new DeployTarget() {
                @Override
                public TargetState current() {
                    String image = runs.get(side);
                    TargetState.Health h = health.get(side);
                    return new TargetState(Optional.of(image), Optional.of(image.substring(image.indexOf('@') + 1)), Optional.of("1.0.0"),
                            Optional.of(image), Optional.empty(), h, h == TargetState.Health.HEALTHY ? "2/2 ready" : "1/2 ready",
                            Set.of(Side.LEGACY, Side.KUBERNETES));
                }

                @Override
                public Rollout deploy(Release release) {
                    throw new AssertionError("a cutover deploys nothing");
                }

                @Override
                public TargetState markGood(Release release, Set<Side> passedOn) {
                    throw new AssertionError("a cutover records nothing");
                }

                @Override
                public Rollout rollback() {
                    throw new AssertionError("a cutover rolls nothing back");
                }

                @Override
                public String describe() {
                    return side.label() + " in memory";
                }
            };
        }

        @Override
        public Clock clock() {
            return clock;
        }

        @Override
        public void close() {
        }
    }
}
