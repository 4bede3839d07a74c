package dev.dualdeploy.traffic.nginx;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.dualdeploy.config.RouterSpec;
import dev.dualdeploy.time.Sleeper;
import dev.dualdeploy.traffic.Split;
import dev.dualdeploy.traffic.TrafficException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every way a {@link NginxRouter#set} can fail before nginx applies the new file leaves the old file in place byte for
 * byte, and the running nginx splitting traffic as before; the message says what failed, quoting nginx where it spoke.
 */
class NginxRouterFailureTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(10);

    @TempDir
    Path dir;

    private NginxPeer nginx;
    private byte[] before;

    /** nginx at 30% on Kubernetes, generation 2, set through the router. */
    @BeforeEach
    void startAt30Percent() throws Exception {
        nginx = NginxPeer.start(dir, Split.of(0));
        router(nginx.spec(TIMEOUT)).set(Split.of(30));
        before = Files.readAllBytes(nginx.include());
    }

    @AfterEach
    void stopNginx() {
        nginx.close();
    }

    private static NginxRouter router(RouterSpec.Nginx spec) {
        return new NginxRouter(spec, Clock.systemUTC(), new Sleeps(Sleeper.SYSTEM));
    }

    private RouterSpec.Nginx with(List<String> test, List<String> reload, Duration timeout) {
        RouterSpec.Nginx spec = nginx.spec(timeout);
        return new RouterSpec.Nginx(spec.file(), spec.legacyUpstream(), spec.kubernetesUpstream(), spec.variable(), test, reload,
                spec.probe(), timeout);
    }

    /** The file is as it was, and the running nginx still applies generation 2 at 30%. */
    private void unchanged() throws Exception {
        assertThat(Files.readAllBytes(nginx.include())).as("the include, byte for byte").isEqualTo(before);
        assertThat(router(nginx.spec(TIMEOUT)).read()).isEqualTo(new Split(30, "generation 2"));
    }

    @Test
    void aSplitNginxRefusesLeavesTheOldFileAndTheTrafficAsTheyWere() throws Exception {
        // "host" is a name nginx itself defines: split_clients may not set it, and nginx -t says so.
        RouterSpec.Nginx spec = nginx.spec(TIMEOUT);
        NginxRouter refused = router(new RouterSpec.Nginx(spec.file(), "legacy", "kubernetes", "host", spec.test(), spec.reload(),
                spec.probe(), TIMEOUT));

        assertThatThrownBy(() -> refused.set(Split.of(60))).isInstanceOf(TrafficException.class)
                .hasMessageContaining("nginx's test command [" + nginx.testCommand().get(0))
                .hasMessageContaining("failed (exit 1) on generation 3 (60% on kubernetes)")
                .hasMessageContaining("nginx: [emerg] the duplicate \"host\" variable in " + nginx.include() + ":3")
                .hasMessageEndingWith(nginx.include() + " is as it was before");

        unchanged();
        nginx.awaitOldWorkersGone();
        Requests.Count count = Requests.send(nginx.base(), 10_000);
        System.out.printf("nginx split after a refused change (30%% before), 10000 requests: %s%n", count);
        assertThat(count.errors()).isZero();
        assertThat(count.kubernetesShare()).isCloseTo(30, within(1.5));
    }

    @Test
    void aBrokenMainConfigurationIsRefusedInNginxsWords() throws Exception {
        Path broken = dir.resolve("broken.conf");
        Files.writeString(broken, Files.readString(nginx.config()).replace("access_log off;", "access_log off;\n    bogus_directive on;"));

        assertThatThrownBy(() -> router(with(nginx.testCommand(broken), nginx.reloadCommand(), TIMEOUT)).set(Split.of(60)))
                .isInstanceOf(TrafficException.class)
                .hasMessageContaining("nginx: [emerg] unknown directive \"bogus_directive\" in " + broken + ":")
                .hasMessageNotContaining("test failed") // the boilerplate line is left out when nginx said what is wrong
                .hasMessageContaining("is as it was before");
        unchanged();
    }

    @Test
    void aTestOrReloadCommandThatIsNotThereIsNamed() throws Exception {
        assertThatThrownBy(() -> router(with(List.of(dir.resolve("no-such-nginx").toString(), "-t"), nginx.reloadCommand(), TIMEOUT))
                .set(Split.of(60)))
                .isInstanceOf(TrafficException.class)
                .hasMessageStartingWith("cannot run the nginx test command [" + dir.resolve("no-such-nginx") + ", -t]: ")
                .hasMessageContaining("No such file or directory")
                .hasMessageEndingWith("is as it was before");
        unchanged();

        assertThatThrownBy(() -> router(with(nginx.testCommand(), List.of(dir.resolve("no-such-nginx").toString(), "-s", "reload"),
                TIMEOUT)).set(Split.of(60)))
                .isInstanceOf(TrafficException.class)
                .hasMessageStartingWith("cannot run the nginx reload command [" + dir.resolve("no-such-nginx") + ", -s, reload]: ")
                .hasMessageEndingWith("is as it was before");
        unchanged();
    }

    @Test
    void aReloadThatFailsPutsTheOldFileBack() throws Exception {
        // The pid file names no running master: nginx -s reload exits 1 and says why.
        Path pidless = dir.resolve("pidless.conf");
        Files.writeString(pidless, Files.readString(nginx.config()).replace("nginx.pid", "elsewhere.pid"));
        List<String> reload = List.of(NginxPeer.binary().toString(), "-p", dir + "/", "-c", pidless.toString(), "-e",
                dir.resolve("error.log").toString(), "-s", "reload");

        assertThatThrownBy(() -> router(with(nginx.testCommand(), reload, TIMEOUT)).set(Split.of(60)))
                .isInstanceOf(TrafficException.class)
                .hasMessageContaining("nginx's reload command [")
                .hasMessageContaining("failed (exit 1) on generation 3 (60% on kubernetes): nginx: [")
                .hasMessageContaining("elsewhere.pid")
                .hasMessageEndingWith("is as it was before");
        unchanged();
    }

    @Test
    void aCommandThatHangsIsStoppedAtTheTimeout() throws Exception {
        long start = System.nanoTime();
        assertThatThrownBy(() -> router(with(List.of("sleep", "60"), nginx.reloadCommand(), Duration.ofSeconds(1))).set(Split.of(60)))
                .isInstanceOf(TrafficException.class)
                .hasMessageStartingWith("the nginx test command [sleep, 60] did not finish within the router's timeout of 1s (the test,"
                        + " the reload and the read-back share it); it was stopped; ")
                .hasMessageEndingWith("is as it was before");
        assertThatThrownBy(() -> router(with(nginx.testCommand(), List.of("sleep", "61"), Duration.ofSeconds(2))).set(Split.of(60)))
                .isInstanceOf(TrafficException.class)
                .hasMessageStartingWith("the nginx reload command [sleep, 61] did not finish within the router's timeout of 2s")
                .hasMessageEndingWith("is as it was before");

        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(8));
        assertThat(ProcessHandle.current().descendants().filter(p -> p.info().arguments().map(a -> List.of(a).contains("60")
                || List.of(a).contains("61")).orElse(false)).toList()).as("sleep commands left running").isEmpty();
        unchanged();
    }

    @Test
    void aFileThatCannotBeWrittenIsNamed() throws Exception {
        RouterSpec.Nginx spec = nginx.spec(TIMEOUT);
        Path missing = dir.resolve("missing/split.conf");
        Path directory = Files.createDirectory(dir.resolve("a-directory.conf"));
        Path underAFile = nginx.include().resolve("split.conf");

        assertThatThrownBy(() -> router(at(spec, missing)).set(Split.of(60))).isInstanceOf(TrafficException.class)
                .hasMessage("the directory of the nginx include " + missing + " does not exist; create it, or point the router's"
                        + " file at a directory that does");
        assertThatThrownBy(() -> router(at(spec, underAFile)).set(Split.of(60))).isInstanceOf(TrafficException.class)
                .hasMessageContaining("the directory of the nginx include " + underAFile + " does not exist");
        assertThatThrownBy(() -> router(at(spec, directory)).set(Split.of(60))).isInstanceOf(TrafficException.class)
                .hasMessage("the nginx include " + directory + " is not a regular file; point the router's file at a file of its"
                        + " own (dualdeploy writes it)");
        assertThat(missing.getParent()).doesNotExist();
        assertThat(directory).isEmptyDirectory();
        unchanged();
    }

    private static RouterSpec.Nginx at(RouterSpec.Nginx spec, Path file) {
        return new RouterSpec.Nginx(file, spec.legacyUpstream(), spec.kubernetesUpstream(), spec.variable(), spec.test(),
                spec.reload(), spec.probe(), spec.timeout());
    }
}
