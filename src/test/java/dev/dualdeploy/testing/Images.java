package dev.dualdeploy.testing;

import dev.dualdeploy.release.Release;

/** Releases with recognisable digests for tests. */
public final class Images {

    public static final String REPOSITORY = "registry.example.com/loan-api";

    private Images() {
    }

    /** A sha256 digest made of one repeated hex digit, such as {@code sha256:aaaa…}. */
    public static String digest(char hex) {
        return "sha256:" + String.valueOf(hex).repeat(64);
    }

    /** A release of {@link #REPOSITORY} at {@code digest(hex)}. */
    public static Release release(char hex, String version) {
        return new Release(REPOSITORY, digest(hex), version);
    }
}
