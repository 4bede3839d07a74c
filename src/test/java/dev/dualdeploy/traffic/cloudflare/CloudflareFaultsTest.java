package dev.dualdeploy.traffic.cloudflare;

import static dev.dualdeploy.traffic.cloudflare.CloudflareFixture.K8S;
import static dev.dualdeploy.traffic.cloudflare.CloudflareFixture.LB;
import static dev.dualdeploy.traffic.cloudflare.CloudflareFixture.LEGACY;
import static dev.dualdeploy.traffic.cloudflare.CloudflareFixture.TOKEN;
import static dev.dualdeploy.traffic.cloudflare.CloudflareFixture.TOKEN_ENV;
import static dev.dualdeploy.traffic.cloudflare.CloudflareFixture.ZONE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.dualdeploy.config.RouterSpec;
import dev.dualdeploy.net.Timeouts;
import dev.dualdeploy.traffic.Split;
import dev.dualdeploy.traffic.TrafficException;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Throttling, server faults, refusals, the network and the token, through the router's client against the simulator. */
class CloudflareFaultsTest {

    private static final String WHERE = "cloudflare load balancer " + LB + " in zone " + ZONE;
    private final CloudflareFixture f = new CloudflareFixture();

    @BeforeEach
    void seed() {
        f.seed("\"steering_policy\": \"random\", \"random_steering\": {\"pool_weights\": {\"" + LEGACY + "\": 0.9, \"" + K8S + "\": 0.1}}");
    }

    @AfterEach
    void stop() {
        f.close();
    }

    @Test
    void a429WithRetryAfterIsWaitedOutAsAskedThenTheAnswerIsUsed() {
        f.sim.throttle(1, 7);

        assertThat(f.router().read().kubernetes()).isEqualTo(10);

        assertThat(f.sleeps).containsExactly(Duration.ofSeconds(7));
        assertThat(f.sim.requests()).hasSize(2);
    }

    @Test
    void aRetryAfterOfTenMinutesIsCappedAtTenSeconds() {
        f.sim.throttle(1, 600);
        f.router().set(Split.of(25));
        assertThat(f.sleeps).containsExactly(CloudflareApi.MAX_RETRY_AFTER);
        assertThat(CloudflareApi.MAX_RETRY_AFTER).isEqualTo(Duration.ofSeconds(10));
        assertThat(f.weight(K8S)).isEqualTo("0.25");
    }

    @Test
    void a429WithoutRetryAfterAndServerErrorsBackOffExponentiallyWithJitter() {
        f.sim.throttle(1);
        f.sim.failNext(2, 503);

        assertThat(f.router().read().kubernetes()).isEqualTo(10);

        // Steps of 500 ms, 1 s, 2 s; a jitter of one half waits three quarters of each.
        assertThat(f.sleeps).containsExactly(Duration.ofMillis(375), Duration.ofMillis(750), Duration.ofMillis(1500));
        assertThat(f.sim.requests()).hasSize(4);
    }

    @Test
    void theBackoffStaysBetweenHalfAndAllOfItsStepWhateverTheJitter() {
        for (double jitter : new double[] {0, 0.999_999, 5, -1}) {
            List<Duration> sleeps = new ArrayList<>();
            f.sim.failNext(4, 500);
            new CloudflareRouter(f.spec(), TOKEN, CloudflareFixture.TIMEOUTS, sleeps::add, () -> jitter).read();
            long[] steps = {500, 1000, 2000, 4000};
            for (int i = 0; i < steps.length; i++) {
                assertThat(sleeps.get(i).toMillis()).as("jitter " + jitter + ", retry " + (i + 1)).isBetween(steps[i] / 2, steps[i]);
            }
        }
    }

    @Test
    void attemptsAreBoundedAndTheLastAnswerIsSaid() {
        f.sim.failNext(5, 502);
        assertThatThrownBy(() -> f.router().set(Split.of(50))).isInstanceOf(TrafficException.class)
                .hasMessage(WHERE + ": GET still answered HTTP 502 after 5 attempts");
        assertThat(f.sim.requests()).hasSize(CloudflareApi.MAX_ATTEMPTS);
        assertThat(f.sleeps).hasSize(CloudflareApi.MAX_ATTEMPTS - 1);
        assertThat(f.patches()).isZero();

        f.sleeps.clear();
        f.sim.throttle(5, 1);
        assertThatThrownBy(() -> f.router().read()).hasMessage(WHERE + ": GET still answered HTTP 429 after 5 attempts: [971] Please wait"
                + " and consider throttling your request speed");
        assertThat(f.sleeps).containsOnly(Duration.ofSeconds(1)).hasSize(4);
    }

    @Test
    void aRefusalIsNotRetriedAndSaysTheApisCodeAndMessage() {
        f.sim.refuseNext(400, 1002, "Invalid pool weights");
        assertThatThrownBy(() -> f.router().set(Split.of(10))).isInstanceOf(TrafficException.class)
                .hasMessage(WHERE + ": GET refused (HTTP 400: [1002] Invalid pool weights)");
        assertThat(f.sim.requests()).hasSize(1);
        assertThat(f.sleeps).isEmpty();
    }

    @Test
    void successFalseInA200SaysTheApisCodeAndMessage() throws IOException {
        f.sim.refuseNext(200, 1004, "DNS Validation Error");
        assertThatThrownBy(() -> f.router().read()).isInstanceOf(TrafficException.class)
                .hasMessage(WHERE + ": GET refused (HTTP 200, success: false: [1004] DNS Validation Error)");

        // A PATCH answered so: nothing was changed, and the message says which call and why.
        CloudflareApi api = new CloudflareApi(f.sim.endpoint(), TOKEN, TOKEN_ENV, WHERE, CloudflareFixture.TIMEOUTS, f.sleeps::add, () -> 0.5);
        f.sim.refuseNext(200, 1002, "pool_weights: unknown pool");
        assertThatThrownBy(() -> api.patch("zones/" + ZONE + "/load_balancers/" + LB, api.json.createObjectNode()))
                .hasMessage(WHERE + ": PATCH refused (HTTP 200, success: false: [1002] pool_weights: unknown pool)");
        assertThat(f.weight(K8S)).isEqualTo("0.1");
        assertThat(f.sleeps).isEmpty();
    }

    @Test
    void anErrorChainIsQuotedAndAnEchoingMessageStaysOneBoundedLine() {
        f.sim.answerNext(400, "application/json", "{\"success\": false, \"errors\": [{\"code\": 6003, \"message\": \"Invalid request"
                + " headers\", \"error_chain\": [{\"code\": 6111, \"message\": \"Invalid format for Authorization header\"}]}],"
                + " \"messages\": [], \"result\": null}");
        assertThatThrownBy(() -> f.router().read()).hasMessage(WHERE + ": GET refused (HTTP 400: [6003] Invalid request headers"
                + " (chained: [6111] Invalid format for Authorization header))");

        f.sim.refuseNext(400, 1003, "pool \"x\nFORGED LOG LINE\" " + "y".repeat(100_000));
        Throwable thrown = catchThrowable(() -> f.router().read());
        assertThat(thrown.getMessage()).doesNotContain("\n").contains("[1003] pool \"x\\nFORGED LOG LINE\" yyy").hasSizeLessThan(1_000);
    }

    @Test
    void aWrongTokenIsAClear401NamingTheVariableNotTheToken() {
        String wrong = "wrongTokenAb12Cd34Ef56-not-the-one";
        Throwable thrown = catchThrowable(() -> f.router(wrong).read());

        assertThat(thrown).isInstanceOf(TrafficException.class).hasMessage(WHERE + ": the Cloudflare API refused the token in " + TOKEN_ENV
                + " (HTTP 401: [10000] Authentication error); it needs the permission Zone > Load Balancers > Edit on this zone");
        assertThat(thrown.getMessage()).doesNotContain(wrong);
        assertThat(f.sim.authorizations()).containsExactly("Bearer " + wrong);
        assertThat(f.sleeps).isEmpty();
    }

    @Test
    void everyRequestCarriesTheBearerToken() {
        CloudflareRouter router = f.router();
        router.set(Split.of(50));
        router.read();
        assertThat(f.sim.authorizations()).hasSize(3).containsOnly("Bearer " + TOKEN);
    }

    @Test
    void theTokenAppearsInNoMessageAndNoToString() {
        List<String> said = new ArrayList<>();
        CloudflareRouter router = CloudflareRouter.open(f.spec(), Map.of(TOKEN_ENV, TOKEN + "\n")::get);
        said.add(router.toString());
        said.add(router.describe());
        said.add(router.read().toString());
        // A server or a proxy that echoes what it was sent: the header, or the token alone.
        f.sim.refuseNext(400, 9001, "bad request: Authorization: Bearer " + TOKEN);
        said.add(catchThrowable(router::read).getMessage());
        f.sim.refuseNext(200, 9002, "token " + TOKEN + " has expired");
        said.add(catchThrowable(router::read).getMessage());
        f.sim.refuseNext(403, 10000, "Authentication error for " + TOKEN);
        said.add(catchThrowable(() -> router.set(Split.of(10))).getMessage());
        said.add(catchThrowable(() -> CloudflareRouter.open(f.spec(), Map.of(TOKEN_ENV, TOKEN + "\u0007x")::get)).getMessage());

        assertThat(said).hasSize(7).allSatisfy(text -> assertThat(text).doesNotContain(TOKEN).doesNotContain(TOKEN.substring(0, 12)));
        assertThat(said.get(3)).contains("Authorization: Bearer ***");
        assertThat(said.get(4)).contains("success: false").contains("token *** has expired");
        assertThat(f.sim.authorizations()).contains("Bearer " + TOKEN);
    }

    @Test
    void aMissingOrEmptyTokenVariableIsNamedWithoutAValue() {
        RouterSpec.Cloudflare spec = f.spec();
        assertThatThrownBy(() -> CloudflareRouter.open(spec, Map.<String, String>of()::get))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("cloudflare load balancer " + LB + ": the environment variable " + TOKEN_ENV + " that must hold the Cloudflare"
                        + " API token is not set; bind the token to it (withCredentials in Jenkins)");
        assertThatThrownBy(() -> CloudflareRouter.open(spec, Map.of(TOKEN_ENV, " \n")::get)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageEndingWith(TOKEN_ENV + " that must hold the Cloudflare API token is empty; bind the token to it (withCredentials"
                        + " in Jenkins)");
        assertThatThrownBy(() -> CloudflareRouter.open(spec, Map.of(TOKEN_ENV, "abc def ghi jkl")::get))
                .hasMessage(WHERE + ": the value of " + TOKEN_ENV + " is not an API token (it holds spaces or control characters)");
        assertThat(f.sim.requests()).isEmpty();
    }

    @Test
    void aRefusedConnectionNamesTheEndpointAndIsTriedAsOftenAsTheTimeoutsSay() throws IOException {
        URI endpoint;
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            endpoint = URI.create("http://127.0.0.1:" + socket.getLocalPort() + "/client/v4/");
        }
        CloudflareRouter router = new CloudflareRouter(CloudflareFixture.spec(endpoint), TOKEN, CloudflareFixture.TIMEOUTS,
                f.sleeps::add, () -> 0.5);

        assertThatThrownBy(router::read).isInstanceOf(TrafficException.class)
                .hasMessage(WHERE + ": cannot reach the Cloudflare API: connection refused by " + endpoint);
        assertThat(f.sleeps).containsExactly(Duration.ofMillis(375));
    }

    @Test
    void anEndpointThatNeverAnswersTimesOutNamingIt() throws IOException {
        // The kernel completes the handshake for the backlog; nobody ever reads or answers.
        try (ServerSocket silent = new ServerSocket(0, 10, InetAddress.getLoopbackAddress())) {
            URI endpoint = URI.create("http://127.0.0.1:" + silent.getLocalPort() + "/client/v4");
            Timeouts quick = new Timeouts(Duration.ofSeconds(2), Duration.ofMillis(300), 0);
            CloudflareRouter router = new CloudflareRouter(CloudflareFixture.spec(endpoint), TOKEN, quick, f.sleeps::add, () -> 0.5);

            assertThatThrownBy(() -> router.set(Split.of(10))).isInstanceOf(TrafficException.class)
                    .hasMessage(WHERE + ": cannot reach the Cloudflare API: no answer from " + endpoint + "/ within 300ms");
            assertThat(f.sleeps).isEmpty();
        }
    }

    @Test
    void idsThatCouldChangeTheUrlAreRefused() {
        RouterSpec.Cloudflare spec = new RouterSpec.Cloudflare("../accounts", LB, LEGACY, K8S, TOKEN_ENV, Optional.empty());
        assertThatThrownBy(() -> CloudflareRouter.open(spec, Map.of(TOKEN_ENV, TOKEN)::get)).isInstanceOf(TrafficException.class)
                .hasMessage("cloudflare: '../accounts' is not a Cloudflare id (letters, digits, '-' and '_')");
    }
}
