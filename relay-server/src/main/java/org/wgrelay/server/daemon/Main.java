package org.wgrelay.server.daemon;

import org.wgrelay.control.cli.CtlCommand;
import org.wgrelay.server.control.RelayVerbs;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code wg-relay} command: {@code serve}, {@code --help}, {@code --version}. */
@Command(
        name = "wg-relay",
        mixinStandardHelpOptions = true,
        versionProvider = Main.Version.class,
        description = "Transparent UDP relay for stock WireGuard.")
public final class Main implements Runnable {

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the command line and returns the exit status. */
    public static int run(String... args) {
        // ctl is given the relay's verb catalogue, which lives beside the verbs' code.
        CommandLine cli = new CommandLine(new Main())
                .addSubcommand(new ServeCommand())
                .addSubcommand(new CtlCommand(RelayVerbs.catalogue()))
                .addSubcommand(new CommandLine.HelpCommand());
        // Labels and other verb arguments may start with '-'; only ctl's own options are options.
        cli.getSubcommands().get("ctl").setUnmatchedOptionsArePositionalParams(true);
        // One clear line on stderr for a bad option, no usage dump (SPEC).
        cli.setParameterExceptionHandler((ex, a) -> {
            ex.getCommandLine()
                    .getErr()
                    .println("wg-relay: " + ex.getMessage() + " (see '"
                            + ex.getCommandLine().getCommandSpec().qualifiedName() + " --help')");
            return 2;
        });
        return cli.execute(args);
    }

    @Override
    public void run() {
        CommandLine.usage(this, System.out);
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Main.class.getPackage().getImplementationVersion();
            return new String[] {"wg-relay " + (v == null ? "dev" : v)};
        }
    }
}
