using System.Runtime.InteropServices;

namespace EdgeStream.Cli;

internal static class Program
{
    private static int Main(string[] args)
    {
        if (args.Length == 0 || args[0] is not ("run" or "demo"))
        {
            return CliApp.Run(args, Console.In, Console.Out, Console.Error);
        }

        // `run` and `demo` run until told to stop: the first Ctrl-C (SIGINT) or SIGTERM stops them cleanly (the rule
        // finishes what it took, the exit code says whether everything was delivered); a second one ends the process.
        using var stop = new CancellationTokenSource();
        void OnSignal(PosixSignalContext context)
        {
            if (!stop.IsCancellationRequested)
            {
                context.Cancel = true;
                _ = stop.CancelAsync(); // on the pool: the signal thread stays free for a second Ctrl-C
            }
        }

        using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
        using var terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
        return CliApp.Run(args, Console.In, Console.Out, Console.Error, stop.Token);
    }
}
