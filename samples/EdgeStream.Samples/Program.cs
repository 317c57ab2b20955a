namespace EdgeStream.Samples;

internal static class Program
{
    private static async Task<int> Main()
    {
        await Samples.RunAllAsync(Console.Out);
        return 0;
    }
}
