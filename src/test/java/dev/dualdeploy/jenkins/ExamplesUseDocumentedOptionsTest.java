package dev.dualdeploy.jenkins;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** Every option an example passes to a step is documented in that step's help page. */
class ExamplesUseDocumentedOptionsTest {

    private static final Pattern CALL = Pattern.compile("\\b(dualDeploy\\w*)\\s*\\(");
    private static final Pattern KEY = Pattern.compile("(?<![\\w.'\"])(\\w+)\\s*:");

    @Test
    void examplesUseOnlyDocumentedOptions() throws IOException {
        List<Path> examples;
        try (Stream<Path> files = Files.list(Path.of("examples"))) {
            examples = files.filter(f -> f.toString().endsWith(".Jenkinsfile")).sorted().toList();
        }
        assertThat(examples).hasSize(3);
        int checked = 0;
        for (Path example : examples) {
            String text = Files.readString(example).replaceAll("(?m)//.*$", "");
            Matcher call = CALL.matcher(text);
            while (call.find()) {
                String step = call.group(1);
                String help = Files.readString(Path.of("vars", step + ".txt"));
                for (String key : topLevelKeys(text, call.end())) {
                    assertThat(help).as(example + ": " + step + "(" + key + ": …) is documented in vars/" + step + ".txt")
                            .contains("<code>" + key + "</code>");
                    checked++;
                }
            }
        }
        assertThat(checked).as("options checked").isGreaterThan(8);
    }

    /** Issue 8 item 17: the README's Jenkinsfiles (the one against {@code local} among them) pass documented options only. */
    @Test
    void readmeJenkinsfilesUseOnlyDocumentedOptions() throws IOException {
        String readme = Files.readString(Path.of("README.md"));
        Matcher block = Pattern.compile("```groovy\n(.*?)```", Pattern.DOTALL).matcher(readme);
        int checked = 0;
        boolean local = false;
        while (block.find()) {
            String text = block.group(1).replaceAll("(?m)//.*$", "");
            local |= text.contains("/tmp/dualdeploy-local/dualdeploy.yaml");
            Matcher call = CALL.matcher(text);
            while (call.find()) {
                String step = call.group(1);
                String help = Files.readString(Path.of("vars", step + ".txt"));
                for (String key : topLevelKeys(text, call.end())) {
                    assertThat(help).as("README: " + step + "(" + key + ": …) is documented in vars/" + step + ".txt")
                            .contains("<code>" + key + "</code>");
                    checked++;
                }
            }
        }
        assertThat(local).as("the README has a Jenkinsfile that runs against `dualdeploy local`").isTrue();
        assertThat(checked).as("options checked").isGreaterThan(5);
    }

    /** The keys of the map passed to a step, skipping those of nested maps and lists. */
    private static Set<String> topLevelKeys(String text, int from) {
        Set<String> keys = new LinkedHashSet<>();
        int depth = 0;
        for (int i = from; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == '\'' || c == '"') {
                i = text.indexOf(c, i + 1);
                continue;
            }
            if (c == '(' || c == '[') {
                depth++;
            } else if (c == ']' || c == ')' && depth > 0) {
                depth--;
            } else if (c == ')') {
                break;
            } else if (depth == 0 && Character.isLetter(c) && (i == from || !Character.isLetterOrDigit(text.charAt(i - 1)))) {
                Matcher key = KEY.matcher(text).region(i, text.length());
                if (key.lookingAt()) {
                    keys.add(key.group(1));
                }
            }
        }
        return keys;
    }
}
