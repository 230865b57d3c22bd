using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Platform.Silo.Tests.Support;

namespace Platform.Silo.Tests.Artifacts;

/// <summary>The artifact directory on a small tmpfs: an upload that does not fit is refused whole, and the space is free again afterwards.</summary>
public sealed class ArtifactDiskFullTests
{
    [Fact]
    public async Task Upload_that_fills_the_disk_answers_507_and_leaves_nothing_behind()
    {
        using var dir = new TempDir();
        var artifacts = Directory.CreateDirectory(Path.Combine(dir.Path, "artifacts")).FullName;
        await using var disk = await SmallDisk.MountAsync(artifacts, 8);
        await using (var silo = await SiloProcess.StartAsync(Path.Combine(dir.Path, "data"), null, "--Platform:Artifacts:Directory", artifacts))
        {
            using var full = await silo.Http.PutAsync("/v1/artifacts/big/app", new ByteArrayContent(new byte[12 << 20]));
            Assert.Equal(HttpStatusCode.InsufficientStorage, full.StatusCode);
            Assert.Contains("no space left for artifact 'big/app'", await full.Content.ReadAsStringAsync());
            Assert.Empty(Directory.GetFiles(Path.Combine(artifacts, "tmp")));
            Assert.Empty(Directory.GetFiles(Path.Combine(artifacts, "blobs")));
            Assert.Equal(HttpStatusCode.NotFound, (await silo.Http.GetAsync("/v1/artifacts/big/app")).StatusCode);

            var small = new byte[4 << 20];
            Random.Shared.NextBytes(small);
            using var fits = await silo.Http.PutAsync("/v1/artifacts/small/app", new ByteArrayContent(small));
            Assert.Equal(HttpStatusCode.Created, fits.StatusCode);
            Assert.Equal(small, await silo.Http.GetByteArrayAsync("/v1/artifacts/small/app"));
            var list = await silo.Http.GetFromJsonAsync<JsonElement>("/v1/artifacts");
            Assert.Equal(["small/app"], list.EnumerateArray().Select(a => a.GetProperty("name").GetString()));
        }
    }
}
