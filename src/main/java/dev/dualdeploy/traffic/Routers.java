package dev.dualdeploy.traffic;

import dev.dualdeploy.config.RouterSpec;
import dev.dualdeploy.traffic.alb.AlbRouter;
import dev.dualdeploy.traffic.cloudflare.CloudflareRouter;
import dev.dualdeploy.traffic.nginx.NginxRouter;
import dev.dualdeploy.traffic.route53.Route53Router;
import java.util.function.Function;

/** Makes the router a stage's {@code cutover.router:} names: one implementation per platform, chosen here alone. */
public final class Routers {

    private Routers() {
    }

    /**
     * Opens the router. Reads nothing from it yet.
     *
     * @param environment reads an environment variable (a credential is named in the config and held in the environment)
     * @throws IllegalArgumentException if a credential's environment variable is not set; the message names the
     *                                  variable, never a value
     * @throws TrafficException if the router's client cannot be set up
     */
    public static TrafficRouter open(RouterSpec spec, Function<String, String> environment) {
        if (spec instanceof RouterSpec.Cloudflare cloudflare) {
            return CloudflareRouter.open(cloudflare, environment);
        }
        if (spec instanceof RouterSpec.Alb alb) {
            return AlbRouter.open(alb, environment);
        }
        if (spec instanceof RouterSpec.Route53 route53) {
            return Route53Router.open(route53, environment);
        }
        return NginxRouter.open((RouterSpec.Nginx) spec, environment);
    }
}
