package dev.dualdeploy.release;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.dualdeploy.testing.Cli;
import dev.dualdeploy.testing.OciPusher;
import dev.dualdeploy.testing.RegistryPeer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Digest resolution against a real registry (Debian docker-registry) on loopback, in each authentication mode. */
class RegistryClientTest {

    @TempDir
    static Path dir;
    private static RegistryPeer open;
    private static RegistryPeer basic;
    private static RegistryPeer token;
    private static OciPusher.Descriptor single;
    private static OciPusher.Descriptor index;
    private static Path credentials;

    @BeforeAll
    static void start() throws IOException, InterruptedException {
        Path storage = dir.resolve("storage");
        open = RegistryPeer.start(storage, dir.resolve("open"), RegistryPeer.Auth.NONE);
        OciPusher pusher = new OciPusher(open.host());
        single = pusher.pushImage("team/loan-api", "1.4.2", "amd64");
        OciPusher.Descriptor amd64 = pusher.pushImage("team/loan-api", "1.5.0-amd64", "amd64");
        OciPusher.Descriptor arm64 = pusher.pushImage("team/loan-api", "1.5.0-arm64", "arm64");
        index = pusher.pushIndex("team/loan-api", "1.5.0", amd64, arm64);
        basic = RegistryPeer.start(storage, dir.resolve("basic"), RegistryPeer.Auth.BASIC);
        token = RegistryPeer.start(storage, dir.resolve("token"), RegistryPeer.Auth.TOKEN);
        credentials = dockerConfig(dir.resolve("docker"), RegistryPeer.PASSWORD);
    }

    @AfterAll
    static void stop() {
        for (RegistryPeer peer : new RegistryPeer[] {open, basic, token}) {
            if (peer != null) {
                peer.close();
            }
        }
    }

    private static Path dockerConfig(Path where, String password) throws IOException {
        Files.createDirectories(where);
        String auth = Base64.getEncoder().encodeToString((RegistryPeer.USER + ":" + password).getBytes(StandardCharsets.UTF_8));
        StringBuilder json = new StringBuilder("{\"auths\":{");
        json.append("\"http://").append(basic.host()).append("/v2/\":{\"auth\":\"").append(auth).append("\"},");
        json.append('"').append(token.host()).append("\":{\"username\":\"").append(RegistryPeer.USER)
                .append("\",\"password\":\"").append(password).append("\"}}}");
        Path file = where.resolve("config.json");
        Files.writeString(file, json);
        return file;
    }

    private static RegistryClient.Resolved resolve(RegistryPeer peer, String rest, RegistryCredentials creds) {
        return new RegistryClient(creds).resolve(ImageRef.parse(peer.host() + "/" + rest));
    }

    @Test
    void aTagResolvesAnonymouslyToTheManifestDigest() {
        RegistryClient.Resolved resolved = resolve(open, "team/loan-api:1.4.2", RegistryCredentials.none());

        assertThat(resolved.digest()).isEqualTo(single.digest());
        assertThat(resolved.mediaType()).isEqualTo("application/vnd.oci.image.manifest.v1+json");
        assertThat(resolved.index()).isFalse();
        assertThat(resolved.pinned()).isEqualTo(open.host() + "/team/loan-api@" + single.digest());
    }

    @Test
    void aMultiPlatformImageResolvesToTheIndexDigest() {
        RegistryClient.Resolved resolved = resolve(open, "team/loan-api:1.5.0", RegistryCredentials.none());

        assertThat(resolved.digest()).isEqualTo(index.digest());
        assertThat(resolved.index()).isTrue();
    }

    @Test
    void aDigestReferenceIsCheckedToExist() {
        assertThat(resolve(open, "team/loan-api@" + single.digest(), RegistryCredentials.none()).digest()).isEqualTo(single.digest());

        RegistryException missing = catchThrowableOfType(RegistryException.class,
                () -> resolve(open, "team/loan-api@sha256:" + "0".repeat(64), RegistryCredentials.none()));
        assertThat(missing.notFound()).isTrue();
        assertThat(missing.getMessage()).contains("not found in " + open.host() + " (no such repository or digest)");
    }

    @Test
    void anUnknownTagIsNotFound() {
        RegistryException e = catchThrowableOfType(RegistryException.class,
                () -> resolve(open, "team/loan-api:9.9.9", RegistryCredentials.none()));

        assertThat(e.notFound()).isTrue();
        assertThat(e.getMessage()).isEqualTo(open.host() + "/team/loan-api:9.9.9: not found in " + open.host()
                + " (no such repository or tag)");
    }

    @Test
    void basicAuthUsesTheDockerConfigCredentials() throws IOException {
        assertThat(resolve(basic, "team/loan-api:1.4.2", RegistryCredentials.fromFile(credentials)).digest()).isEqualTo(single.digest());

        RegistryException none = catchThrowableOfType(RegistryException.class,
                () -> resolve(basic, "team/loan-api:1.4.2", RegistryCredentials.none()));
        assertThat(none.notFound()).isFalse();
        assertThat(none.getMessage()).contains("requires credentials and none are configured");

        Path wrong = dockerConfig(dir.resolve("wrong-basic"), "not the password");
        RegistryException refused = catchThrowableOfType(RegistryException.class,
                () -> resolve(basic, "team/loan-api:1.4.2", RegistryCredentials.fromFile(wrong)));
        assertThat(refused.getMessage()).contains("refused the credentials").doesNotContain("not the password");
    }

    @Test
    void bearerAuthFetchesATokenFromTheChallengeRealm() throws IOException {
        RegistryClient.Resolved resolved = resolve(token, "team/loan-api:1.5.0", RegistryCredentials.fromFile(credentials));
        assertThat(resolved.digest()).isEqualTo(index.digest());

        Path wrong = dockerConfig(dir.resolve("wrong-token"), "not the password");
        RegistryException refused = catchThrowableOfType(RegistryException.class,
                () -> resolve(token, "team/loan-api:1.5.0", RegistryCredentials.fromFile(wrong)));
        assertThat(refused.getMessage()).contains("token service").contains("the credentials were refused")
                .doesNotContain("not the password");
    }

    @Test
    void anUnreachableRegistryIsAFaultNotANotFound() {
        RegistryException e = catchThrowableOfType(RegistryException.class,
                () -> new RegistryClient(RegistryCredentials.none()).resolve(ImageRef.parse("127.0.0.1:9/team/loan-api:1.0")));
        assertThat(e.notFound()).isFalse();
        assertThat(e.getMessage()).isEqualTo("cannot reach 127.0.0.1:9: connection refused");
    }

    @Test
    void credentialsNeverShowThePassword() {
        assertThat(new RegistryCredentials.Basic("u", "hunter2").toString()).doesNotContain("hunter2");
    }

    /** The CLI over the same registry: the pinned reference on stdout, JSON on request, exit codes. */
    @Test
    void theReleaseCommandPrintsThePinnedReference() {
        String ref = open.host() + "/team/loan-api:1.4.2";
        Cli.Run text = Cli.run("release", "--image", ref);
        assertThat(text.code()).as(text.err()).isZero();
        assertThat(text.out().strip()).isEqualTo(open.host() + "/team/loan-api@" + single.digest());

        Cli.Run json = Cli.run("release", "--image",
                token.host() + "/team/loan-api:1.5.0", "--docker-config", credentials.toString(), "--output", "json");
        assertThat(json.code()).as(json.err()).isZero();
        assertThat(json.out()).contains("\"digest\" : \"" + index.digest() + "\"").contains("\"index\" : true");

        Cli.Run missing = Cli.run("release", "--image",
                open.host() + "/team/loan-api:0.0.1");
        assertThat(missing.code()).isEqualTo(2);
        assertThat(missing.err()).contains("not found");

        Cli.Run denied = Cli.run("release", "--image",
                basic.host() + "/team/loan-api:1.4.2", "--docker-config", dir.resolve("none.json").toString());
        assertThat(denied.code()).isEqualTo(4);
    }
}
