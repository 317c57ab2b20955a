using EdgeStream.AspNetCore;
using Microsoft.AspNetCore.Routing;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Maps EdgeStream's management API, in eKuiper's REST shape.</summary>
public static class EdgeStreamEndpointRouteBuilderExtensions
{
    /// <summary>
    /// Maps eKuiper's REST API for the app's <see cref="EdgeStream.EdgeStreamEngine"/> under <paramref name="prefix"/>:
    /// <c>/streams</c> and <c>/tables</c> (<c>POST</c> <c>{"sql": "CREATE …"}</c>, <c>GET</c> the names,
    /// <c>GET/PUT/DELETE /{name}</c>), <c>/rules</c> (<c>POST</c> a rule JSON, <c>GET</c> ids with status,
    /// <c>GET/PUT/DELETE /{id}</c>, <c>POST /{id}/start|stop|restart</c>, <c>GET /{id}/status|explain</c>) and
    /// <c>POST /rules/validate</c>. Nothing is served unless this is called. The API can change every rule, so put
    /// your authorization on the group it returns, e.g. <c>.RequireAuthorization("EdgeStreamAdmin")</c>. Errors are
    /// eKuiper's <c>{"error": code, "message": "…"}</c> with 400 (invalid) or 404 (unknown); secrets are masked.
    /// </summary>
    /// <param name="endpoints">The app (or another route builder).</param>
    /// <param name="prefix">The path the API is under, e.g. <c>/edgestream</c>.</param>
    /// <returns>The endpoints' group, for authorization and other conventions.</returns>
    public static RouteGroupBuilder MapEdgeStream(this IEndpointRouteBuilder endpoints, string prefix)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentException.ThrowIfNullOrWhiteSpace(prefix);
        var group = endpoints.MapGroup(prefix);
        ManagementApi.Map(group);
        return group;
    }
}
