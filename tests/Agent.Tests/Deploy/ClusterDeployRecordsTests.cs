using System.Text;
using Platform.Agent.Deploy;

namespace Platform.Agent.Tests.Deploy;

public sealed class ClusterDeployRecordsTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "platform-records-" + Guid.NewGuid().ToString("N")[..8]);

    public ClusterDeployRecordsTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void A_deploy_recorded_as_running_is_known_to_the_next_agent_process()
    {
        ClusterDeployRecords.Open(_dir).Begin("d1", DateTimeOffset.UnixEpoch);
        var reopened = ClusterDeployRecords.Open(_dir);
        Assert.Equal(ClusterDeployRecord.Running, reopened.Find("d1")?.Status);
        Assert.Null(reopened.Find("d2"));
    }

    [Fact]
    public void A_result_is_resent_until_acknowledged_and_the_acknowledgement_survives_a_restart()
    {
        var records = ClusterDeployRecords.Open(_dir);
        records.Begin("d1", DateTimeOffset.UnixEpoch);
        Assert.Empty(records.Unacknowledged());
        records.Finish("d1", new ClusterDeployRecord { Status = "succeeded", OutputTail = "ok" });
        Assert.Equal(["d1"], records.Unacknowledged().Select(r => r.Id));
        records.Acknowledge("d1");
        Assert.Empty(ClusterDeployRecords.Open(_dir).Unacknowledged());
        Assert.Equal("succeeded", ClusterDeployRecords.Open(_dir).Find("d1")?.Status);
    }

    [Fact]
    public void A_state_file_that_is_not_json_is_an_error_naming_it()
    {
        File.WriteAllText(Path.Combine(_dir, "deploys.json"), "not json");
        var e = Assert.Throws<DeployException>(() => ClusterDeployRecords.Open(_dir));
        Assert.Contains("deploys.json", e.Message);
    }

    [Fact]
    public void Output_goes_out_in_order_and_keeps_the_last_4_KiB()
    {
        var chunks = new List<byte[]>();
        var output = new DeployOutput(chunks.Add);
        output.Write("héllo\n");
        output.Flush();
        output.Write(new string('x', 5000));
        output.Flush();
        Assert.Equal([7, 5000], chunks.Select(c => c.Length));
        Assert.Equal("héllo\n", Encoding.UTF8.GetString(chunks[0]));
        var tail = output.Tail();
        Assert.Equal(DeployOutput.TailBytes, Encoding.UTF8.GetByteCount(tail));
        Assert.Equal(new string('x', 4096), tail);
    }
}
