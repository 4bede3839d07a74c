package dev.dualdeploy.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import dev.dualdeploy.cli.DualDeployCommand;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Runs many CLI command lines in one JVM started by a test with an environment of its choosing (the CLI reads
 * credentials from environment variables, which a running JVM cannot change). Argument 1: a JSON array of argument
 * arrays; argument 2: where to write a JSON array of {@code {code, out, err}}, one per command line, in order.
 */
public final class CliBatch {

    private static final ObjectMapper JSON = new ObjectMapper();

    private CliBatch() {
    }

    /** One command line's outcome, as {@link Cli.Run}. */
    public static List<Cli.Run> read(Path results) throws IOException {
        List<Cli.Run> runs = new ArrayList<>();
        for (JsonNode node : JSON.readTree(results.toFile())) {
            runs.add(new Cli.Run(node.get("code").asInt(), node.get("out").asText(), node.get("err").asText()));
        }
        return runs;
    }

    /** Writes the command lines for {@link #main}. */
    public static void write(Path file, List<List<String>> commandLines) throws IOException {
        Files.write(file, JSON.writeValueAsBytes(commandLines));
    }

    public static void main(String[] args) throws IOException {
        ArrayNode results = JSON.createArrayNode();
        for (JsonNode line : JSON.readTree(Path.of(args[0]).toFile())) {
            List<String> arguments = new ArrayList<>();
            line.forEach(a -> arguments.add(a.asText()));
            StringWriter out = new StringWriter();
            StringWriter err = new StringWriter();
            int code = DualDeployCommand.run(arguments.toArray(String[]::new), new PrintWriter(out, true), new PrintWriter(err, true));
            results.addObject().put("code", code).put("out", out.toString()).put("err", err.toString());
        }
        JSON.writeValue(Path.of(args[1]).toFile(), results);
    }
}
