package dev.dualdeploy.config;

import java.util.List;

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

    /**
     * Whether the branch name matches this entry's glob, in time proportional to the product of their lengths. A
     * regex of the glob backtracked exponentially on globs such as {@code *a*a*a*a*b} (issue 8 item 11).
     */
    public boolean matches(String branch) {
        int n = branch.length();
        // matched[j]: the glob read so far matches the first j characters of the branch.
        boolean[] matched = new boolean[n + 1];
        matched[0] = true;
        for (int i = 0; i < pattern.length(); i++) {
            char c = pattern.charAt(i);
            boolean[] next = new boolean[n + 1];
            if (c == '*') {
                boolean acrossSlashes = i + 1 < pattern.length() && pattern.charAt(i + 1) == '*';
                if (acrossSlashes) {
                    i++;
                }
                boolean reachable = false;
                for (int j = 0; j <= n; j++) {
                    reachable = matched[j] || reachable && (acrossSlashes || branch.charAt(j - 1) != '/');
                    next[j] = reachable;
                }
            } else {
                for (int j = 1; j <= n; j++) {
                    char b = branch.charAt(j - 1);
                    next[j] = matched[j - 1] && (c == '?' ? b != '/' : b == c);
                }
            }
            matched = next;
        }
        return matched[n];
    }
}
