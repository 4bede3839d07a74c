package dev.dualdeploy.release;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.dualdeploy.config.ConfigException;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Issue 8 items 4, 11 and 12: the Docker config is bounded, and its errors name the file and line or key, never a value. */
class RegistryCredentialsTest {

    @TempDir
    Path tmp;

    @Test
    void item4_anAuthThatIsNotBase64IsNamedByItsKeyNotItsValue() throws IOException {
        Path file = tmp.resolve("config.json");
        Files.writeString(file, "{\"auths\": {\"registry.example.com\": {\"auth\": \"hunter2-is-not-base64!\"}}}");
        RegistryCredentials credentials = RegistryCredentials.fromFile(file);
        assertThatThrownBy(() -> credentials.forRegistry("registry.example.com")).isInstanceOf(ConfigException.class).hasNoCause()
                .hasMessage(file + ": auths[registry.example.com].auth: is not base64 of user:password (the value is not shown)"
                        + " (for example: \"auth\": \"dXNlcjpwYXNzd29yZA==\")")
                .message().doesNotContain("hunter2").doesNotContain("Illegal base64");
    }

    @Test
    void item4_aTruncatedFileIsExit2ByLineWithoutACause() throws IOException {
        Path file = tmp.resolve("config.json");
        Files.writeString(file, "{\n\"auths\": {\n\"r.example.com\": {\"password\": \"hunter2\"");
        assertThatThrownBy(() -> RegistryCredentials.fromFile(file)).isInstanceOf(ConfigException.class).hasNoCause()
                .hasMessageStartingWith(file + ": line 3: the Docker config is not valid JSON").message().doesNotContain("hunter2");
    }

    @Test
    void item11_aDockerConfigLargerThan1MiBIsRefusedWithoutReadingIt() throws IOException {
        Path file = tmp.resolve("big.json");
        try (RandomAccessFile sparse = new RandomAccessFile(file.toFile(), "rw")) {
            sparse.setLength(64L * 1024 * 1024);
        }
        assertThatThrownBy(() -> RegistryCredentials.fromFile(file)).isInstanceOf(ConfigException.class)
                .hasMessage(file + ": the Docker config is larger than 1 MiB; it is not a Docker config");
    }

    @Test
    void aMissingFileMeansNoCredentials() {
        assertThat(RegistryCredentials.fromFile(tmp.resolve("absent.json")).forRegistry("registry.example.com")).isEmpty();
    }
}
