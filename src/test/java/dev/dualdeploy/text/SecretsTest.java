package dev.dualdeploy.text;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The registry of secret values and the header-shaped credentials masked in text from elsewhere. */
class SecretsTest {

    @Test
    void aRegisteredValueAndItsBase64AreMaskedWherever() {
        Secrets.register("regSecretValue0042");
        String base64 = Base64.getEncoder().encodeToString("regSecretValue0042".getBytes(StandardCharsets.UTF_8));
        assertThat(Secrets.redact("denied for regSecretValue0042 (" + base64 + ")")).isEqualTo("denied for *** (***)");
    }

    @Test
    void aShortValueIsNotRegisteredSoOrdinaryTextStays() {
        Secrets.register("abc");
        Secrets.register("   ");
        Secrets.register(null);
        assertThat(Secrets.redact("abc of the abcs")).isEqualTo("abc of the abcs");
    }

    @Test
    void credentialHeadersInForeignTextAreMaskedUnregistered() {
        assertThat(Secrets.redact("headers: Authorization=Bearer eyJhbGciOi.x.y; Host=h")).isEqualTo("headers: Authorization=Bearer ***; Host=h");
        assertThat(Secrets.redact("{Authorization=[Bearer unregisteredTok], Accept=[*/*]}")).isEqualTo("{Authorization=[Bearer ***], Accept=[*/*]}");
        assertThat(Secrets.redact("authorization: Basic dXNlcjpwYXNz\n")).isEqualTo("authorization: Basic ***\n");
        assertThat(Secrets.redact("\"Proxy-Authorization\": \"tok123456\"")).isEqualTo("\"Proxy-Authorization\": \"***\"");
        assertThat(Secrets.redact("X-Amz-Security-Token=IQoJb3JpZ2luX2VjEJr//////////wEaCXVz; X-Amz-Date=20261202"))
                .isEqualTo("X-Amz-Security-Token=***; X-Amz-Date=20261202");
        assertThat(Secrets.redact("Authorization: AWS4-HMAC-SHA256 Credential=AKIAEXAMPLE/20261202/eu-west-1/ecs/aws4_request, "
                + "SignedHeaders=host;x-amz-date, Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7"))
                .isEqualTo("Authorization: AWS4-HMAC-SHA256 ***, SignedHeaders=host;x-amz-date, Signature=***");
        assertThat(Secrets.redact("?X-Amz-Credential=AKIA%2F2026&X-Amz-Signature=abcdef&x=1")).isEqualTo("?X-Amz-Credential=***&X-Amz-Signature=***&x=1");
    }

    @Test
    void proseAboutCredentialsStays() {
        String prose = "no AWS credentials found: set AWS_ACCESS_KEY_ID; the credential: a role. Signature of the image checked";
        assertThat(Secrets.redact(prose)).isEqualTo(prose);
    }

    @Test
    void aQuoteCutThroughASecretKeepsNoHalfOfIt() {
        Secrets.register("cutThroughSecret0099");
        String quoted = Text.foreign("x".repeat(Text.MAX_FOREIGN - 8) + "cutThroughSecret0099 and more");
        assertThat(quoted).doesNotContain("cutThrou").startsWith("x".repeat(Text.MAX_FOREIGN - 8) + "***");
    }

    @Test
    void theWriterMasksAValueSplitOverWrites() {
        Secrets.register("splitSecret7777");
        StringWriter target = new StringWriter();
        PrintWriter out = Secrets.writer(new PrintWriter(target), true);
        out.print("token split ");
        out.print("split");
        out.print("Secret7777");
        out.println(" end");
        out.print("held until flushed: splitSecret7777");
        assertThat(target.toString()).isEqualTo("token split *** end" + System.lineSeparator());
        out.flush();
        assertThat(target.toString()).endsWith("held until flushed: ***");
    }
    /**
     * Second hostile review: a secret with a quote, a backslash or a tab was masked nowhere it had been encoded first:
     * in a journal line or a JSON result (JSON string escaping) and in a text result (escaped before it was masked).
     */
    @Test
    void aSecretIsMaskedAsEachSinkEncodesIt() throws Exception {
        String secret = "Tok\"en\\Sec\tret42XYZ";
        Secrets.register(secret);
        String message = "401 from the API: Bearer-less echo " + secret + " end";

        String json = new ObjectMapper().writeValueAsString(Map.of("reason", message));
        assertThat(Secrets.redact(json)).doesNotContain("Sec").contains("***");
        assertThat(Secrets.redact(Text.escape(message))).doesNotContain("Sec").contains("***");

        StringWriter out = new StringWriter();
        PrintWriter stdout = new EscapingWriter(Secrets.writer(out, true));
        stdout.println(message);
        stdout.flush();
        assertThat(out.toString()).doesNotContain("Sec").contains("***");
    }

    @Test
    void aValueAsShortAsACommonWordIsNotRegistered() {
        Secrets.register("sandbox");

        assertThat(Secrets.redact("{\"stage\" : \"sandbox\"}")).isEqualTo("{\"stage\" : \"sandbox\"}");
    }
}
