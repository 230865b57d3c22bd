using Platform.Protocol;

namespace Platform.Silo.Tls;

/// <summary>Where the agent certificate check runs: in front of <see cref="AgentProtocol.ConnectPath"/> always, and on any endpoint that asks for it.</summary>
public static class AgentCertificateEndpoints
{
    /// <summary>
    /// Puts <see cref="AgentCertificateCheck"/> in front of this endpoint's handler. Without a client CA configured
    /// (no <see cref="AgentCertificateCheck"/> registered) the endpoint is left as it is.
    /// </summary>
    public static TBuilder RequireAgentCertificate<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder
    {
        // Finally: runs after the handler's request delegate is built, whatever kind of handler it is.
        builder.Finally(endpoint =>
        {
            var inner = endpoint.RequestDelegate;
            if (inner is null) return;
            endpoint.RequestDelegate = async context =>
            {
                var check = context.RequestServices.GetService<AgentCertificateCheck>();
                if (check is null || await check.EnforceAsync(context)) await inner(context);
            };
        });
        return builder;
    }

    /// <summary>The check on <see cref="AgentProtocol.ConnectPath"/>, before routing, so that it holds whoever maps the route.</summary>
    internal sealed class StartupFilter : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            var check = app.ApplicationServices.GetRequiredService<AgentCertificateCheck>();
            app.Use(async (context, nextMiddleware) =>
            {
                if (!context.Request.Path.StartsWithSegments(AgentProtocol.ConnectPath, StringComparison.OrdinalIgnoreCase)
                    || await check.EnforceAsync(context))
                    await nextMiddleware(context);
            });
            next(app);
        };
    }
}
