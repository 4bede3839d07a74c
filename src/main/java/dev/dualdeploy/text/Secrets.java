package dev.dualdeploy.text;

import com.fasterxml.jackson.core.io.JsonStringEncoder;
import java.io.PrintWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The secret values this process holds, and the one way text leaves the process with them masked. A credential is
 * {@link #register registered} where it is read (the kubeconfig's token, key and password, the AWS secret key and
 * session token, the metrics token or password a config's {@code *_env} key names, a registry password, a probe URL's
 * password); every sink that writes text out of the process (stdout, stderr, the journal, the JUnit report) passes it
 * through {@link #redact} or a {@link #writer}. A platform may quote whatever it was sent in an error (a proxy that
 * echoes the request's headers into a 500), so text from elsewhere is masked too where it is shaped like a credential
 * header, whether or not its value was registered ({@code Authorization: Bearer …}, {@code X-Amz-Security-Token=…},
 * {@code AWS4-HMAC-SHA256 Credential=…, Signature=…}).
 */
public final class Secrets {

    /**
     * The shortest value registered. A shorter one ({@code "1"}, {@code "true"}, {@code "sandbox"}, an empty password)
     * would mask every occurrence of ordinary text (a stage's name, a JSON key) and mangle results and journal lines, and
     * is guessed in no time anyway.
     */
    public static final int MIN_LENGTH = 8;

    private static final Set<String> VALUES = ConcurrentHashMap.newKeySet();

    /** {@link #VALUES}, longest first: a value that contains another is masked whole, not around the inner one. */
    private static volatile List<String> longestFirst = List.of();

    /** The schemes of an Authorization header, kept when its credential is masked so that the message still says which. */
    private static final String SCHEMES = "(?:Bearer|Basic|Token|Digest|Negotiate|AWS4-HMAC-SHA256|AWS)";

    /** The characters a header value in foreign text ends at: a space, a separator, a quote, a bracket, an escape. */
    private static final String VALUE = "[^\\s,;\"'\\]\\[}{<>&\\\\]+";

    private static final List<Pattern> HEADERS = List.of(
            // Authorization: Bearer x, Authorization=[Bearer x], "authorization": "Basic x", Proxy-Authorization too.
            Pattern.compile("(?i)(\\bauthorization[\"']?\\s*[:=]\\s*\\[?[\"']?\\s*(?:" + SCHEMES + "\\s+)?)" + VALUE),
            // X-Amz-Security-Token: x, X-Amz-Security-Token=x (a header, or a presigned URL's parameter).
            Pattern.compile("(?i)(\\bx-amz-security-token[\"']?\\s*[:=]\\s*\\[?[\"']?\\s*)" + VALUE),
            // The parts of a SigV4 signature: AWS4-HMAC-SHA256 Credential=AKID/..., SignedHeaders=..., Signature=hex, and
            // their query forms. Only with '=' and no space, as a signature writes them: "credential: ..." in a sentence
            // is prose.
            Pattern.compile("(\\b(?:Credential|Signature|X-Amz-Signature|X-Amz-Credential)=)" + VALUE));

    private Secrets() {
    }

    /**
     * Remembers a secret value, and its base64, for {@link #redact}. Idempotent. A null value or one shorter than
     * {@link #MIN_LENGTH} is ignored; surrounding white space is not part of the value.
     */
    public static void register(String value) {
        if (value == null || value.strip().length() < MIN_LENGTH) {
            return;
        }
        String secret = value.strip();
        VALUES.add(secret);
        // As each sink writes it: escaped for a line (Text.escape), inside a JSON string (the journal, --output json),
        // both, and in XML (the JUnit report); the raw value no longer matches once a quote, a backslash or a control
        // character in it is encoded.
        String escaped = Text.escape(secret);
        VALUES.add(escaped);
        VALUES.add(json(secret));
        VALUES.add(json(escaped));
        VALUES.add(xml(secret));
        VALUES.add(xml(escaped));
        byte[] bytes = secret.getBytes(StandardCharsets.UTF_8);
        VALUES.add(Base64.getEncoder().encodeToString(bytes));
        VALUES.add(Base64.getUrlEncoder().withoutPadding().encodeToString(bytes));
        // A multi-line value (a PEM key) is quoted line by line as often as whole.
        secret.lines().map(String::strip).filter(l -> l.length() >= MIN_LENGTH && !l.startsWith("-----")).forEach(VALUES::add);
        synchronized (VALUES) {
            List<String> sorted = new ArrayList<>(VALUES);
            sorted.sort(Comparator.comparingInt(String::length).reversed());
            longestFirst = List.copyOf(sorted);
        }
    }

    private static String json(String value) {
        return new String(JsonStringEncoder.getInstance().quoteAsString(value));
    }

    private static String xml(String value) {
        return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;").replace("'", "&apos;");
    }

    /**
     * The text with every registered value replaced by {@link Text#REDACTED}, and the value of every credential-shaped
     * header in it too. Null stays null; text without either comes back as it is.
     */
    public static String redact(String text) {
        if (text == null || text.isEmpty()) {
            return text;
        }
        String out = text;
        for (String value : longestFirst) {
            if (out.contains(value)) {
                out = out.replace(value, Text.REDACTED);
            }
        }
        for (Pattern header : HEADERS) {
            Matcher matcher = header.matcher(out);
            if (matcher.find()) {
                out = matcher.replaceAll(m -> Matcher.quoteReplacement(m.group(1) + Text.REDACTED));
            }
        }
        return out;
    }

    /**
     * A writer that writes to {@code out} line by line, each line {@link #redact redacted} first: a value split over
     * two writes ({@code print("Bearer "); print(token)}) is still masked. {@code flush} writes the part of a line held
     * so far. {@code autoFlush} as for {@link PrintWriter}.
     */
    public static PrintWriter writer(Writer out, boolean autoFlush) {
        return new PrintWriter(new Redacting(out), autoFlush);
    }

    /** Holds what is written until a line ends or it is flushed, and writes it redacted. */
    private static final class Redacting extends Writer {

        private final Writer out;
        private final StringBuilder line = new StringBuilder();

        Redacting(Writer out) {
            super(out);
            this.out = out;
        }

        @Override
        public void write(char[] buffer, int offset, int length) throws java.io.IOException {
            synchronized (lock) {
                for (int i = offset; i < offset + length; i++) {
                    line.append(buffer[i]);
                    if (buffer[i] == '\n') {
                        emit();
                    }
                }
            }
        }

        private void emit() throws java.io.IOException {
            if (line.length() > 0) {
                out.write(redact(line.toString()));
                line.setLength(0);
            }
        }

        @Override
        public void flush() throws java.io.IOException {
            synchronized (lock) {
                emit();
                out.flush();
            }
        }

        @Override
        public void close() throws java.io.IOException {
            synchronized (lock) {
                emit();
                out.close();
            }
        }
    }
}
