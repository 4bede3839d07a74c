package dev.dualdeploy.text;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** Issue 8 item 13: control characters in a printed value are escaped, once and for all messages. */
class TextTest {

    @Test
    void controlCharactersAreEscapedAndEverythingElseIsKept() {
        assertThat(Text.escape("stage 'a\nb\r\tc\u0000d\u001b[2J\u007f\u0085\u2028\u202e\u2066' ü → ok"))
                .isEqualTo("stage 'a\\nb\\r\\tc\\u0000d\\u001b[2J\\u007f\\u0085\\u2028\\u202e\\u2066' ü → ok");
        assertThat(Text.escape("plain C:\\path")).isEqualTo("plain C:\\path");
        assertThat(Text.escape(Text.escape("a\nb"))).as("escaping twice changes nothing").isEqualTo("a\\nb");
        assertThat(Text.escape(null)).isNull();
    }

    @Test
    void aLongLineIsClippedSayingHowMuchWasLeftOut() {
        assertThat(Text.line("x".repeat(12), 10)).isEqualTo("xxxxxxxxxx… (2 more characters)");
        assertThat(Text.line("short\n", 10)).isEqualTo("short\\n");
        assertThat(Text.line("x".repeat(9) + "\uD83D\uDE80y", 10)).as("never half a surrogate pair")
                .isEqualTo("xxxxxxxxx… (3 more characters)");
        assertThat(Text.oneLine("x".repeat(299) + "\uD83D\uDE80y")).isEqualTo("x".repeat(299) + "…");
        assertThat(Text.line("y".repeat(5_000))).hasSize(Text.MAX_LINE + "… (3000 more characters)".length());
    }

    /** Review item 13: a URL's user information, query values and fragment are hidden; what identifies it stays. */
    @Test
    void redactUrlHidesUserinfoQueryValuesAndTheFragment() {
        assertThat(Text.redactUrl("https://user:tok3n@loan-api.internal:8443/health?access_token=tok3n&verbose&x=#tok3n"))
                .isEqualTo("https://***@loan-api.internal:8443/health?access_token=***&***&x=***#***");
        assertThat(Text.redactUrl("https://{{side}}.loan-api.internal/health")).isEqualTo("https://{{side}}.loan-api.internal/health");
        assertThat(Text.redactUrl("http://a@b@host/p@q?")).isEqualTo("http://***@host/p@q?");
        assertThat(Text.redactUrl("not a url")).isEqualTo("not a url");
        assertThat(Text.redactUrl(null)).isNull();
    }
}
