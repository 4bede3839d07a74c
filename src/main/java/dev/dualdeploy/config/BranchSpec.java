package dev.dualdeploy.config;

import java.util.List;
import java.util.regex.Pattern;

/**
 * One entry of {@code branches:}: the stage chain for branches whose name matches a glob. In a glob, {@code *}
 * matches any characters except {@code /}, {@code **} matches any characters, and {@code ?} one character.
 *
 * @param pattern the glob as written, such as {@code release/*} or {@code PR-*}
 * @param stages the stages, in promotion order, that such a branch deploys to; may be empty
 */
public record BranchSpec(String pattern, List<String> stages) {

    public BranchSpec {
        stages = List.copyOf(stages);
    }

    /** Whether the branch name matches this entry's glob. */
    public boolean matches(String branch) {
        return regex(pattern).matcher(branch).matches();
    }

    static Pattern regex(String glob) {
        StringBuilder regex = new StringBuilder();
        for (int i = 0; i < glob.length(); i++) {
            char c = glob.charAt(i);
            if (c == '*' && i + 1 < glob.length() && glob.charAt(i + 1) == '*') {
                regex.append(".*");
                i++;
            } else if (c == '*') {
                regex.append("[^/]*");
            } else if (c == '?') {
                regex.append("[^/]");
            } else {
                regex.append(Pattern.quote(String.valueOf(c)));
            }
        }
        return Pattern.compile(regex.toString());
    }
}
