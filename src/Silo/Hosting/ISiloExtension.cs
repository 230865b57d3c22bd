using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Platform.Silo.Hosting;

/// <summary>Code loaded from an assembly named in Platform:Extensions: registers its grains and services and maps its endpoints.</summary>
public interface ISiloExtension
{
    void ConfigureServices(IServiceCollection services);
    void MapEndpoints(IEndpointRouteBuilder endpoints);
}
