package dev.dualdeploy.cli;

import dev.dualdeploy.release.ImageRef;
import dev.dualdeploy.release.RegistryClient;
import dev.dualdeploy.release.RegistryCredentials;
import dev.dualdeploy.release.RegistryException;
import dev.dualdeploy.report.JsonReport;
import dev.dualdeploy.text.Text;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code dualdeploy release}: resolves an image reference to the digest every stage then deploys. */
@Command(name = "release", mixinStandardHelpOptions = true, footer = ExitCodes.HELP,
        description = {"Resolve an image reference (repository:tag) to its manifest digest through the registry's OCI"
                + " distribution API, and print it pinned: repository@sha256:…",
                "A multi-platform image resolves to the digest of its index. Credentials come from the Docker config."})
final class ReleaseCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--image", required = true, paramLabel = "REF", description = "The image, such as registry.example.com/loan-api:1.4.2.")
    String image;

    @Option(names = "--docker-config", paramLabel = "FILE",
            description = "A Docker config.json with registry credentials (default: $DOCKER_CONFIG/config.json, else ~/.docker/config.json).")
    Path dockerConfig;

    @Option(names = "--output", defaultValue = "text", paramLabel = "FORMAT",
            description = "text (the pinned reference alone on stdout) or json.")
    BaseCommand.Output output;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        ImageRef ref;
        try {
            ref = ImageRef.parse(image);
        } catch (IllegalArgumentException e) {
            throw new UsageException("--image: " + e.getMessage());
        }
        RegistryCredentials credentials = dockerConfig != null ? RegistryCredentials.fromFile(dockerConfig)
                : RegistryCredentials.fromEnvironment(System.getenv());
        try {
            RegistryClient.Resolved resolved = new RegistryClient(credentials).resolve(ref);
            if (output == BaseCommand.Output.json) {
                out.println(JsonReport.write(JsonReport.release(resolved, ExitCodes.OK)));
            } else {
                err.println("resolved " + ref + " to " + resolved.digest() + (resolved.index() ? " (a multi-platform index)" : ""));
                out.println(resolved.pinned());
            }
            return ExitCodes.OK;
        } catch (RegistryException e) {
            int code = e.notFound() ? ExitCodes.BAD_INPUT : ExitCodes.NEEDS_ATTENTION;
            err.println("error: " + Text.line(e.getMessage()));
            if (output == BaseCommand.Output.json) {
                out.println(JsonReport.write(JsonReport.error("release", code, e.getMessage())));
            }
            return code;
        }
    }
}
