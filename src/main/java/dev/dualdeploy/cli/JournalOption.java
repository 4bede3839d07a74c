package dev.dualdeploy.cli;

import java.nio.file.Path;
import picocli.CommandLine.Option;

/** The {@code --journal} option of the commands that record a run, as {@code history} reads it. */
final class JournalOption {

    @Option(names = "--journal", defaultValue = ".dualdeploy/journal", paramLabel = "DIR",
            description = "The journal directory this run is recorded in, one file per run (default: ${DEFAULT-VALUE}, under the"
                    + " working directory); `dualdeploy history` reads it.")
    Path journal;
}
