using Platform.Protocol;

namespace Platform.Agent;

public sealed partial class NodeAgent
{
    /// <summary>A TTL report made at a silo (<c>PUT /v1/agent/check/pass/:id</c>) for a configured or registered check; the new state goes back as any check change does.</summary>
    private void OnCheckReport(CheckState report)
    {
        try
        {
            // Registered checks never share an id with the configuration's, so one of the two has it, or neither.
            if (_registeredChecks.TryUpdate(report.Id, report.Status, report.Output)) return;
            if (_checks is null)
            {
                LogCheckReportRefused(_logger, report.Id, "this node defines no check with this id");
                return;
            }
            _checks.Update(report.Id, report.Status, report.Output);
        }
        catch (Exception failure) when (failure is KeyNotFoundException or InvalidOperationException or ArgumentException or ObjectDisposedException)
        {
            // The silo only knows the checks this agent reported, not which have a TTL: a report for another kind ends here.
            LogCheckReportRefused(_logger, report.Id, failure.Message);
        }
    }
}
