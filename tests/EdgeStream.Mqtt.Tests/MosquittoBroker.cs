using EdgeStream.TestServers;

namespace EdgeStream.Mqtt.Tests;

/// <summary>
/// The real Mosquitto broker of this test assembly (<see cref="Mosquitto"/>): started once before the tests, torn
/// down after. When it cannot start, the tests fail with the reason (never skip). Tests that kill or restart it
/// must leave it running.
/// </summary>
[SetUpFixture]
public sealed class MosquittoBroker
{
    private static Mosquitto? broker;

    public const string User = Mosquitto.User;

    public const string Password = Mosquitto.Password;

    public static Mosquitto Broker => broker ?? throw new InvalidOperationException("the Mosquitto fixture did not start");

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        try
        {
            broker = await Mosquitto.StartAsync();
        }
        catch (InvalidOperationException e)
        {
            Assert.Fail(e.Message);
        }
    }

    [OneTimeTearDown]
    public async Task StopAsync()
    {
        if (broker is not null)
        {
            await broker.DisposeAsync();
        }
    }
}
