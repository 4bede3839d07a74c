package dev.dualdeploy.traffic.route53;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dualdeploy.config.RouterSpec;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import software.amazon.awssdk.awscore.endpoints.AwsEndpointAttribute;
import software.amazon.awssdk.awscore.endpoints.authscheme.SigV4AuthScheme;
import software.amazon.awssdk.endpoints.Endpoint;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.route53.endpoints.Route53EndpointParams;
import software.amazon.awssdk.services.route53.endpoints.Route53EndpointProvider;

/**
 * Which region the client is built for, and what the SDK's own endpoint rules make of it: Route53 is global, so every
 * region of a partition reaches that partition's one endpoint, signed for its home region.
 */
class Route53RegionTest {

    private static RouterSpec.Route53 spec(String region) {
        return new RouterSpec.Route53(region, "Z1", "api.example.com", "CNAME", "legacy", "kubernetes", Optional.empty());
    }

    @ParameterizedTest
    @CsvSource(nullValues = "-", value = {
        "eu-west-1, -, eu-west-1",
        "'', -, aws-global",
        "'', us-gov-west-1, us-gov-west-1",
        "us-east-1, cn-north-1, us-east-1"})
    void theSpecsRegionThenAwsRegionThenTheGlobalOne(String configured, String awsRegion, String expected) {
        Map<String, String> environment = awsRegion == null ? Map.of() : Map.of("AWS_REGION", awsRegion);
        assertThat(Route53Router.region(spec(configured), environment::get)).isEqualTo(Region.of(expected));
    }

    @ParameterizedTest
    @CsvSource({
        "eu-west-1, https://route53.amazonaws.com, us-east-1",
        "aws-global, https://route53.amazonaws.com, us-east-1",
        "ap-southeast-2, https://route53.amazonaws.com, us-east-1",
        "us-gov-west-1, https://route53.us-gov.amazonaws.com, us-gov-west-1",
        "cn-north-1, https://route53.amazonaws.com.cn, cn-northwest-1"})
    void everyRegionOfAPartitionReachesItsOneEndpoint(String region, String url, String signingRegion) {
        Endpoint endpoint = Route53EndpointProvider.defaultProvider().resolveEndpoint(Route53EndpointParams.builder()
                .region(Region.of(region)).useFips(false).useDualStack(false).build()).join();
        assertThat(endpoint.url()).hasToString(url);
        assertThat(endpoint.attribute(AwsEndpointAttribute.AUTH_SCHEMES)).singleElement()
                .isInstanceOfSatisfying(SigV4AuthScheme.class, s -> assertThat(s.signingRegion()).isEqualTo(signingRegion));
    }
}
