package dev.dualdeploy.cli;

import java.io.PrintWriter;

/** The {@code dualdeploy} entry point: the only place that exits the JVM. */
public final class Main {

    private Main() {
    }

    public static void main(String[] args) {
        PrintWriter out = new PrintWriter(System.out, true);
        PrintWriter err = new PrintWriter(System.err, true);
        System.exit(DualDeployCommand.run(args, out, err));
    }
}
