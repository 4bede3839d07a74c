package dev.dualdeploy.metrics;

import dev.dualdeploy.config.MetricsSpec;
import dev.dualdeploy.metrics.cloudwatch.CloudWatchProvider;
import dev.dualdeploy.metrics.prometheus.PrometheusProvider;
import dev.dualdeploy.text.Secrets;
import java.util.Optional;
import java.util.function.Function;

/** Makes the provider a gate's {@code metrics:} names. */
public final class Providers {

    private Providers() {
    }

    /**
     * Opens the provider.
     *
     * @param environment reads an environment variable (credentials are named in the config, held in the environment)
     * @throws IllegalArgumentException if a credential's environment variable is not set; the message names the
     *                                  variable, never a value
     */
    public static MetricsProvider open(MetricsSpec spec, Function<String, String> environment) {
        if (spec.provider() == MetricsSpec.Provider.CLOUDWATCH) {
            return new CloudWatchProvider(CloudWatchProvider.connect(spec.region().orElseThrow(), spec.endpoint(), spec.timeout()));
        }
        MetricsSpec.Auth auth = spec.auth();
        PrometheusProvider.Auth credentials = new PrometheusProvider.Auth.None();
        if (auth.bearerTokenEnv().isPresent()) {
            credentials = new PrometheusProvider.Auth.Bearer(required(environment, auth.bearerTokenEnv().get(), "bearer_token_env"));
        } else if (auth.usernameEnv().isPresent()) {
            credentials = new PrometheusProvider.Auth.Basic(required(environment, auth.usernameEnv().get(), "username_env"),
                    required(environment, auth.passwordEnv().orElseThrow(), "password_env"));
        }
        // The token or the password (not the user name): the server or a proxy may quote the request in an error.
        credentials.header().ifPresent(h -> Secrets.register(h.substring(h.indexOf(' ') + 1)));
        if (credentials instanceof PrometheusProvider.Auth.Basic basic) {
            Secrets.register(basic.password());
        }
        return new PrometheusProvider(spec.address().orElseThrow(), credentials, spec.timeout());
    }

    private static String required(Function<String, String> environment, String name, String key) {
        String value = Optional.ofNullable(environment.apply(name)).filter(v -> !v.isEmpty()).orElse(null);
        if (value == null) {
            throw new IllegalArgumentException("metrics.auth." + key + " names the environment variable " + name
                    + ", which is not set; bind the credential to it (withCredentials in Jenkins)");
        }
        return value;
    }
}
