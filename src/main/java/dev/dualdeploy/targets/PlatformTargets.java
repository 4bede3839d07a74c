package dev.dualdeploy.targets;

import dev.dualdeploy.config.KubernetesSpec;
import dev.dualdeploy.config.LegacySpec;
import dev.dualdeploy.config.Side;
import dev.dualdeploy.config.StageSpec;
import dev.dualdeploy.journal.StageLease;
import dev.dualdeploy.targets.ecs.EcsTarget;
import dev.dualdeploy.targets.kubernetes.KubernetesLease;
import dev.dualdeploy.targets.kubernetes.KubernetesTarget;
import dev.dualdeploy.time.Sleeper;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import software.amazon.awssdk.services.ecs.EcsClient;

/**
 * The platform factory: picks the target of a side from the stage's config (Kubernetes, or the legacy side's one
 * orchestrator, chosen in one place: {@code legacy(LegacySpec, Progress)}), and gives every target it opens the clock
 * and the sleeper it was given. Targets on real platforms: one Kubernetes client per kubeconfig and context, one ECS
 * client per region and endpoint, shared by every stage that names the same ones. A platform that did not answer is not
 * asked again by any target opened here (see {@link Unanswered}), so a command's wait for it is bounded by one call per
 * side.
 */
public final class PlatformTargets implements Targets {

    private final Map<List<Object>, KubernetesClient> kubernetes = new ConcurrentHashMap<>();
    private final Map<List<Object>, EcsClient> ecs = new ConcurrentHashMap<>();
    private final Clock clock;
    private final Sleeper sleeper;
    private final Unanswered unanswered = new Unanswered();

    public PlatformTargets(Clock clock, Sleeper sleeper) {
        this.clock = clock;
        this.sleeper = sleeper;
    }

    @Override
    public DeployTarget open(StageSpec stage, Side side, Progress progress) {
        return unanswered.guard(platform(stage, side, progress), () -> endpoint(stage, side));
    }

    private DeployTarget platform(StageSpec stage, Side side, Progress progress) {
        if (side == Side.KUBERNETES) {
            KubernetesSpec spec = stage.kubernetes().orElseThrow(() -> notConfigured(stage, side));
            return new KubernetesTarget(client(spec), spec, progress, sleeper, clock);
        }
        return legacy(stage.legacy().orElseThrow(() -> notConfigured(stage, side)), progress);
    }

    /** The one place a legacy orchestrator is picked by its spec's type; VM joins here as a second argument. */
    private DeployTarget legacy(LegacySpec spec, Progress progress) {
        return spec.match(ecsSpec -> {
            EcsClient client = ecs.computeIfAbsent(List.of(ecsSpec.region(), ecsSpec.endpoint().map(Object::toString).orElse("")),
                    k -> EcsTarget.connect(ecsSpec));
            return new EcsTarget(client, ecsSpec, progress, sleeper, clock);
        });
    }

    /**
     * The stage's lease on its Kubernetes side, held by {@code holder} (nothing is read yet), or empty for a stage
     * without a Kubernetes side: such a stage has no lease (see the README, "The stage lease").
     *
     * @throws TargetException if the side's client cannot be set up (unreadable kubeconfig)
     */
    public Optional<StageLease> lease(StageSpec stage, String service, String holder) {
        return stage.kubernetes().map(spec -> new KubernetesLease(client(spec), spec.namespace(),
                KubernetesLease.name(service, stage.name()), holder, spec.leaseDuration(), clock));
    }

    private KubernetesClient client(KubernetesSpec spec) {
        return kubernetes.computeIfAbsent(List.of(spec.kubeconfig().map(Object::toString).orElse(""), spec.context().orElse("")),
                k -> KubernetesTarget.connect(spec));
    }

    @Override
    public Clock clock() {
        return clock;
    }

    @Override
    public String endpoint(StageSpec stage, Side side) {
        if (side == Side.KUBERNETES) {
            return stage.kubernetes().map(spec -> kubernetes.get(List.of(spec.kubeconfig().map(Object::toString).orElse(""),
                    spec.context().orElse("")))).map(client -> client.getMasterUrl().toString().replaceAll("/$", ""))
                    .orElse(side.label());
        }
        return stage.legacy().map(spec -> spec.match(ecsSpec -> ecsSpec.endpoint().map(Object::toString)
                .orElse("ECS in " + ecsSpec.region()))).orElse(side.label());
    }

    private static IllegalArgumentException notConfigured(StageSpec stage, Side side) {
        return new IllegalArgumentException("stage " + stage.name() + " has no " + side.label() + " side");
    }

    @Override
    public void close() {
        kubernetes.values().forEach(KubernetesClient::close);
        ecs.values().forEach(EcsClient::close);
        kubernetes.clear();
        ecs.clear();
    }
}
