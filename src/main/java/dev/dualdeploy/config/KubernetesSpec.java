package dev.dualdeploy.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;

/**
 * A Kubernetes Deployment that runs the release.
 *
 * @param context the kubeconfig context, or empty for the current context (or in-cluster config)
 * @param namespace the namespace of the Deployment
 * @param deployment the Deployment name
 * @param container the container in the pod template whose image is the release
 * @param manifests a directory (or file) of YAML manifests to server-side apply with the release, or empty to patch
 *                  the existing Deployment's image only; relative paths are resolved against the config file
 * @param kubeconfig a kubeconfig file, or empty for {@code KUBECONFIG} / {@code ~/.kube/config} / in-cluster
 * @param leaseDuration how long the stage's lease (a Lease in {@code namespace}) lives without renewal: how long a run
 *                      that died blocks the stage
 */
public record KubernetesSpec(Optional<String> context, String namespace, String deployment, String container,
                             Optional<Path> manifests, Optional<Path> kubeconfig, Duration leaseDuration) {

    /** The stage lease's duration when the config names none. */
    public static final Duration DEFAULT_LEASE_DURATION = Duration.ofSeconds(60);
    /** The shortest: a renewal every third of it must fit a slow API server's answer. */
    public static final Duration MIN_LEASE_DURATION = Duration.ofSeconds(15);
    /** The longest: a run that died blocks the stage this long. */
    public static final Duration MAX_LEASE_DURATION = Duration.ofMinutes(10);

    /** A spec with the default lease duration. */
    public KubernetesSpec(Optional<String> context, String namespace, String deployment, String container,
                          Optional<Path> manifests, Optional<Path> kubeconfig) {
        this(context, namespace, deployment, container, manifests, kubeconfig, DEFAULT_LEASE_DURATION);
    }
}
