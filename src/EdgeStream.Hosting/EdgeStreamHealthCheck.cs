using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace EdgeStream.Hosting;

/// <summary>Reports the engine's rules: unhealthy (or the registration's failure status) when any stopped on an error.</summary>
internal sealed class EdgeStreamHealthCheck(EdgeStreamEngine engine) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var data = new Dictionary<string, object>(StringComparer.Ordinal);
        var failed = new List<string>();
        int running = 0, stopped = 0;
        foreach (var status in engine.GetRuleStatuses())
        {
            var id = status.Id;
            data[id] = status.State.ToString();
            switch (status.State)
            {
                case RuleState.Running:
                    running++;
                    break;
                case RuleState.StoppedByError:
                    failed.Add(status.LastError is { } error ? $"{id} ({error})" : id);
                    break;
                default:
                    stopped++;
                    break;
            }
        }

        var summary = $"{running} rule(s) running, {stopped} stopped, {failed.Count} failed";
        return Task.FromResult(failed.Count == 0
            ? HealthCheckResult.Healthy(summary, data)
            : new HealthCheckResult(context.Registration.FailureStatus, $"{summary}: {string.Join("; ", failed)}", data: data));
    }
}
