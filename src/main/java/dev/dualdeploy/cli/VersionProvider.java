package dev.dualdeploy.cli;

import java.util.Optional;
import picocli.CommandLine;

/** Reads the version from the jar manifest ("development" when run from classes). */
final class VersionProvider implements CommandLine.IVersionProvider {

    @Override
    public String[] getVersion() {
        String version = Optional.ofNullable(Main.class.getPackage().getImplementationVersion()).orElse("development");
        return new String[] {"dualdeploy " + version, "Java " + System.getProperty("java.version")};
    }
}
