using System.Net;
using System.Security.Cryptography;
using Platform.Silo.Tests.Support;

namespace Platform.Silo.Tests.Artifacts;

/// <summary>A silo killed with SIGKILL in the middle of an upload: the acknowledged version survives whole, nothing half-written is visible or left.</summary>
public sealed class ArtifactCrashTests
{
    [Fact]
    public async Task Silo_killed_mid_upload_keeps_the_acknowledged_version_and_leaves_no_part_of_the_new_one()
    {
        using var dir = new TempDir();
        var data = Path.Combine(dir.Path, "data");
        var acknowledged = new byte[4 << 20];
        Random.Shared.NextBytes(acknowledged);
        var temp = Path.Combine(data, "artifacts", "tmp");

        await using (var silo = await SiloProcess.StartAsync(data))
        {
            (await silo.Http.PutAsync("/v1/artifacts/app/release.tar", new ByteArrayContent(acknowledged))).EnsureSuccessStatusCode();

            var half = new byte[3 << 20];
            Random.Shared.NextBytes(half);
            using var stalled = new StalledContent(half);
            using var cancel = new CancellationTokenSource();
            var upload = silo.Http.PutAsync("/v1/artifacts/app/release.tar", stalled, cancel.Token);
            var fresh = silo.Http.PutAsync("/v1/artifacts/app/never.tar", new StalledContent(half), cancel.Token);
            await stalled.Sent.Task.WaitAsync(TimeSpan.FromSeconds(30));
            // Both uploads are being written to disk when the silo dies.
            await ArtifactBodies.EventuallyAsync(() => Directory.Exists(temp) && Directory.GetFiles(temp).Count(f => new FileInfo(f).Length > 0) == 2,
                TimeSpan.FromSeconds(30), "two partial uploads in " + temp);

            await silo.KillAsync();
            await cancel.CancelAsync();
            await Assert.ThrowsAnyAsync<Exception>(() => upload);
            await Assert.ThrowsAnyAsync<Exception>(() => fresh);
        }

        await using var restarted = await SiloProcess.StartAsync(data);
        Assert.Equal(acknowledged, await restarted.Http.GetByteArrayAsync("/v1/artifacts/app/release.tar"));
        using var head = await restarted.Http.SendAsync(new HttpRequestMessage(HttpMethod.Head, "/v1/artifacts/app/release.tar"));
        Assert.Equal($"\"{Convert.ToHexStringLower(SHA256.HashData(acknowledged))}\"", head.Headers.ETag?.ToString());
        Assert.Equal(HttpStatusCode.NotFound, (await restarted.Http.GetAsync("/v1/artifacts/app/never.tar")).StatusCode);
        Assert.Empty(Directory.GetFiles(temp));
        Assert.Single(Directory.GetFiles(Path.Combine(data, "artifacts", "blobs")));
    }
}
