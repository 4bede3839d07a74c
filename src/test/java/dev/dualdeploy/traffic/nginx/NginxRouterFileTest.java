package dev.dualdeploy.traffic.nginx;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.dualdeploy.config.RouterSpec;
import dev.dualdeploy.time.Sleeper;
import dev.dualdeploy.time.SteppedClock;
import dev.dualdeploy.traffic.Split;
import dev.dualdeploy.traffic.TrafficException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The include file as dualdeploy owns it: each write one generation above the last, a file someone else wrote never
 * replaced, no name able to write a directive of its own, and two runs never interleaved.
 */
class NginxRouterFileTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(10);

    @TempDir
    Path dir;

    private NginxPeer nginx;

    @BeforeEach
    void startNginx() throws Exception {
        nginx = NginxPeer.start(dir, Split.of(0));
    }

    @AfterEach
    void stopNginx() {
        nginx.close();
    }

    private static NginxRouter router(RouterSpec.Nginx spec) {
        return new NginxRouter(spec, Clock.systemUTC(), new Sleeps(Sleeper.SYSTEM));
    }

    private static RouterSpec.Nginx with(RouterSpec.Nginx spec, Path file, String legacy, String kubernetes, String variable,
            List<String> test) {
        return new RouterSpec.Nginx(file, legacy, kubernetes, variable, test, spec.reload(), spec.probe(), spec.timeout());
    }

    @Test
    void eachWriteIsOneGenerationAboveTheLastAndSettingTheAppliedSplitWritesNothing() throws Exception {
        NginxRouter router = router(nginx.spec(TIMEOUT));
        List<Split> read = new ArrayList<>();
        for (int percent : new int[] {10, 20, 30}) {
            router.set(Split.of(percent));
            read.add(router.read());
        }
        assertThat(read).containsExactly(new Split(10, "generation 2"), new Split(20, "generation 3"), new Split(30, "generation 4"));
        byte[] written = Files.readAllBytes(nginx.include());
        assertThat(written).isEqualTo(NginxRouter.include(nginx.spec(TIMEOUT), Split.of(30), 4).getBytes());

        // The running nginx applies 30% from this very file: nothing is written, tested or reloaded (the test command
        // here would fail if it ran).
        RouterSpec.Nginx spec = nginx.spec(TIMEOUT);
        router(with(spec, spec.file(), "legacy", "kubernetes", spec.variable(), List.of(dir.resolve("no-such-nginx").toString())))
                .set(Split.of(30));
        assertThat(Files.readAllBytes(nginx.include())).isEqualTo(written);
        assertThat(router.read()).isEqualTo(new Split(30, "generation 4"));
    }

    @Test
    void aLinkPlantedAtTheTemporaryNameIsReplacedNotWrittenThrough() throws Exception {
        Path victim = Files.writeString(dir.resolve("victim.txt"), "precious\n");
        Path include = nginx.include();
        Files.createSymbolicLink(include.resolveSibling("." + include.getFileName() + ".dualdeploy.tmp"), victim);

        router(nginx.spec(TIMEOUT)).set(Split.of(10));

        assertThat(Files.readString(victim)).isEqualTo("precious\n");
        assertThat(Files.isSymbolicLink(include)).isFalse();
        assertThat(router(nginx.spec(TIMEOUT)).read().kubernetes()).isEqualTo(10);
    }

    @Test
    void aFileSomeoneElseWroteIsRefusedAndLeftAsItWas() throws Exception {
        Path handWritten = dir.resolve("hand-written.conf");
        String text = "# my own split, do not touch\nsplit_clients $request_id $dualdeploy_upstream {\n    * legacy;\n}\n";
        Files.writeString(handWritten, text);
        RouterSpec.Nginx spec = nginx.spec(TIMEOUT);

        assertThatThrownBy(() -> router(with(spec, handWritten, "legacy", "kubernetes", spec.variable(), spec.test())).set(Split.of(50)))
                .isInstanceOf(TrafficException.class)
                .hasMessage("the nginx include " + handWritten + " exists and was not written by dualdeploy (its first line is not"
                        + " \"# dualdeploy split, generation N …\"); dualdeploy does not overwrite a file it did not write: remove it,"
                        + " or point the router's file elsewhere");
        assertThat(handWritten).hasContent(text);
        assertThat(router(spec).read()).isEqualTo(new Split(0, "generation 1"));
    }

    @Test
    void noNameCanWriteADirectiveOfItsOwn() {
        RouterSpec.Nginx spec = nginx.spec(TIMEOUT);
        Path file = dir.resolve("injected.conf");
        List<String> upstreams = List.of("legacy; return 200 owned", "legacy}", "k8s {", "legacy\n    * evil", "$host", "", "a b",
                "legacy\u202e", "l".repeat(129));
        for (String name : upstreams) {
            assertThatThrownBy(() -> router(with(spec, file, name, "kubernetes", spec.variable(), spec.test())))
                    .as("legacy upstream %s", name).isInstanceOf(TrafficException.class)
                    .hasMessageStartingWith("the nginx router's legacy upstream \"" + dev.dualdeploy.text.Text.foreign(name)
                            + "\" is not an nginx upstream name: letters, digits, '_', '.' and '-' only, at most 128");
            assertThatThrownBy(() -> router(with(spec, file, "legacy", name, spec.variable(), spec.test())))
                    .as("kubernetes upstream %s", name).isInstanceOf(TrafficException.class)
                    .hasMessageStartingWith("the nginx router's kubernetes upstream");
            assertThatThrownBy(() -> NginxRouter.include(with(spec, file, name, "kubernetes", spec.variable(), spec.test()),
                    Split.of(50), 1)).isInstanceOf(TrafficException.class);
        }
        for (String variable : List.of("$dualdeploy_upstream", "up; }", "a-b", "up\n", "")) {
            assertThatThrownBy(() -> router(with(spec, file, "legacy", "kubernetes", variable, spec.test())))
                    .as("variable %s", variable).isInstanceOf(TrafficException.class)
                    .hasMessageContaining("is not an nginx variable name: letters, digits and _ only, at most 64, without the $");
        }
        assertThatThrownBy(() -> router(with(spec, file, "same", "same", spec.variable(), spec.test())))
                .isInstanceOf(TrafficException.class)
                .hasMessage("the nginx router's legacy and kubernetes upstreams are both same; a split needs two different"
                        + " upstream blocks");
        assertThat(router(with(spec, file, "legacy.v1-blue_2", "k8s.prod", "up_1", spec.test())).describe())
                .isEqualTo("nginx include " + file + " (probe " + nginx.probe() + ")");
        assertThat(file).doesNotExist();
    }

    @Test
    void twoRunsAtOnceTakeTurns() throws Exception {
        ExecutorService threads = Executors.newFixedThreadPool(2);
        try {
            List<Callable<Void>> runs = new ArrayList<>();
            for (int percent : new int[] {20, 40}) {
                runs.add(() -> {
                    router(nginx.spec(TIMEOUT)).set(Split.of(percent));
                    return null;
                });
            }
            for (Future<Void> run : threads.invokeAll(runs, 30, TimeUnit.SECONDS)) {
                run.get();
            }
        } finally {
            threads.shutdownNow();
        }
        Split last = router(nginx.spec(TIMEOUT)).read();
        assertThat(last.reported()).as("two writes, one after the other").isEqualTo("generation 3");
        assertThat(last.kubernetes()).isIn(20.0, 40.0);
        assertThat(Files.readString(nginx.include())).isEqualTo(NginxRouter.include(nginx.spec(TIMEOUT), last, 3));
        try (var files = Files.list(dir)) {
            assertThat(files.map(f -> f.getFileName().toString()).filter(n -> n.contains("split.conf")).sorted().toList())
                    .as("nothing left beside the include but its lock").containsExactly("split.conf", "split.conf.lock");
        }
    }

    @Test
    void aLockHeldByAnotherRunIsWaitedForUntilTheTimeout() throws Exception {
        byte[] before = Files.readAllBytes(nginx.include());
        SteppedClock clock = new SteppedClock(Instant.parse("2026-03-01T09:00:00Z"));
        Sleeps sleeps = new Sleeps(clock);
        NginxRouter router = new NginxRouter(nginx.spec(Duration.ofSeconds(2)), clock, sleeps);
        Path lock = dir.resolve("split.conf.lock");

        try (FileChannel channel = FileChannel.open(lock, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
             FileLock held = channel.lock()) {
            assertThatThrownBy(() -> router.set(Split.of(50))).isInstanceOf(TrafficException.class)
                    .hasMessage("another run is changing the nginx include " + nginx.include() + ": it holds " + lock
                            + " and did not let go within the router's timeout");
        }
        assertThat(Files.readAllBytes(nginx.include())).isEqualTo(before);
        assertThat(sleeps.asked().stream().reduce(Duration.ZERO, Duration::plus)).isEqualTo(Duration.ofSeconds(2));
        assertThat(sleeps.asked().get(0)).isEqualTo(Duration.ofMillis(20));

        // Once it is let go, the next run goes ahead.
        NginxRouter after = router(nginx.spec(TIMEOUT));
        after.set(Split.of(50));
        assertThat(after.read()).isEqualTo(new Split(50, "generation 2"));
    }
}
