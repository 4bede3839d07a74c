package dev.dualdeploy.net;

import dev.dualdeploy.text.Secrets;
import java.net.URI;
import software.amazon.awssdk.auth.credentials.AwsCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.AwsSessionCredentials;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.core.client.config.ClientOverrideConfiguration;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.http.SdkHttpClient;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.utils.SdkAutoCloseable;

/**
 * What every AWS SDK client of the CLI shares (ECS, CloudWatch): the URL-connection HTTP client with the connect and
 * read timeouts of {@link Timeouts}, a per-attempt and a per-call timeout, a bounded retry count, and errors of one
 * line a person can act on. The SDK's own messages are made for developers: a missing credential is a 1,500-character
 * dump of every provider in the chain, a hung endpoint a bare timeout class.
 */
public final class AwsClients {

    /** The one line for a missing credential; it names variables, never a value. */
    public static final String NO_CREDENTIALS = "no AWS credentials found: set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or "
            + "AWS_PROFILE (with ~/.aws/credentials), or run where a container or instance role applies";

    private AwsClients() {
    }

    /** The default credential chain, failing with {@link #NO_CREDENTIALS} instead of the chain's dump. */
    public static AwsCredentialsProvider credentials() {
        return new OneLineCredentials(DefaultCredentialsProvider.builder().build());
    }

    /** The HTTP client, with the connect timeout and the read (socket) timeout. */
    public static SdkHttpClient.Builder<?> http(Timeouts timeouts) {
        return UrlConnectionHttpClient.builder().connectionTimeout(timeouts.connect()).socketTimeout(timeouts.read());
    }

    /**
     * The client settings: one attempt may take connect + read, the whole call {@link Timeouts#call()}, with
     * {@link Timeouts#retries()} retries, and client-side faults rewritten to one line naming the endpoint.
     *
     * @param endpoint the endpoint for messages when a request never got as far as having one, such as
     *                 {@code ecs in eu-west-1}
     */
    public static ClientOverrideConfiguration override(Timeouts timeouts, String endpoint) {
        return ClientOverrideConfiguration.builder()
                .apiCallAttemptTimeout(timeouts.connect().plus(timeouts.read()))
                .apiCallTimeout(timeouts.call())
                .retryStrategy(AwsRetryStrategy.standardRetryStrategy().toBuilder().maxAttempts(timeouts.retries() + 1).build())
                .addExecutionInterceptor(new OneLineErrors(timeouts, endpoint))
                .build();
    }

    /** Rewrites the SDK's client-side exceptions to {@link #describe}; service exceptions keep their type. */
    private static final class OneLineErrors implements ExecutionInterceptor {

        private final Timeouts timeouts;
        private final String endpoint;

        OneLineErrors(Timeouts timeouts, String endpoint) {
            this.timeouts = timeouts;
            this.endpoint = endpoint;
        }

        @Override
        public Throwable modifyException(Context.FailedExecution context, ExecutionAttributes attributes) {
            Throwable fault = context.exception();
            if (fault instanceof AwsServiceException || !(fault instanceof SdkClientException)) {
                return fault;
            }
            String where = context.httpRequest().map(r -> URI.create(r.protocol() + "://" + r.host()
                    + (r.port() > 0 ? ":" + r.port() : "")).toString()).orElse(endpoint);
            if (fault.getMessage() != null && fault.getMessage().startsWith("Unable to load credentials")) {
                return SdkClientException.create(NO_CREDENTIALS);
            }
            // A network fault keeps its cause (it holds no content, and callers tell "no answer" from other faults by
            // it); any other client fault loses it, since its chain can carry the provider chain's dump or details.
            return SdkClientException.builder().message(Faults.describe(fault, where, timeouts.read()))
                    .cause(Faults.network(fault) ? fault : null).build();
        }
    }

    /** The default chain with a one-line failure; closing it closes the chain (the client closes what it was given). */
    private static final class OneLineCredentials implements AwsCredentialsProvider, SdkAutoCloseable {

        private final DefaultCredentialsProvider chain;

        OneLineCredentials(DefaultCredentialsProvider chain) {
            this.chain = chain;
        }

        @Override
        public AwsCredentials resolveCredentials() {
            try {
                AwsCredentials credentials = chain.resolveCredentials();
                // The secret parts, wherever the chain found them (the environment, a credentials file, a role): an
                // endpoint may echo what it was sent in an error. The access key id is no secret.
                Secrets.register(credentials.secretAccessKey());
                if (credentials instanceof AwsSessionCredentials session) {
                    Secrets.register(session.sessionToken());
                }
                return credentials;
            } catch (SdkClientException e) {
                // The chain's message lists every provider it tried, over 1,500 characters; a person needs one line.
                throw SdkClientException.create(NO_CREDENTIALS);
            }
        }

        @Override
        public void close() {
            chain.close();
        }

        @Override
        public String toString() {
            return "DefaultCredentialsProvider";
        }
    }
}
