package dev.dualdeploy.config;

import java.nio.file.Path;
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
 */
public record KubernetesSpec(Optional<String> context, String namespace, String deployment, String container,
                             Optional<Path> manifests, Optional<Path> kubeconfig) {
}
