using BenchmarkDotNet.Running;

namespace EdgeStream.Benchmarks;

internal static class Program
{
    /// <summary><c>throughput …</c> runs the throughput harness, <c>overload …</c> the overload run; anything else goes to BenchmarkDotNet.</summary>
    private static async Task<int> Main(string[] args)
    {
        if (args is ["throughput", .. var rest])
        {
            return await Throughput.ThroughputHarness.RunAsync(rest, Console.Out, Console.Error);
        }

        if (args is ["overload", .. var options])
        {
            return await OverloadRun.RunAsync(options, Console.Out);
        }

        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
        return 0;
    }
}
