using Platform.Agent.Configuration;
using Platform.Protocol;

namespace Platform.Agent;

public sealed partial class NodeAgent
{
    /// <summary>The tags the last hello carried: tags replaced since then were changed locally while connecting.</summary>
    private IReadOnlyDictionary<string, string>? _helloTags;

    /// <summary>
    /// Applies a configuration read again (SIGHUP), as Serf's agent does: the event handlers are replaced and the tags set;
    /// changed tags are sent to the silo (a <c>member-update</c> for everyone). Everything else takes effect at the next start.
    /// </summary>
    public async Task ReloadAsync(AgentSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        _dispatcher.UpdateScripts(settings.Handlers);
        LogReloaded(_logger, settings.Handlers.Count);
        if (!TakesMemberEvents && settings.Handlers.Any(h => h.TakesMemberEvents))
            LogMemberHandlersNeedRestart(_logger);
        if (SetTags(settings.Tags, fromSilo: false))
        {
            LogTagsChangedLocally(_logger, settings.Tags.Count);
            // While disconnected the frame is not sent; the next hello carries the tags instead.
            await _connection.SendAsync(new TagsFrame(Tags)).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// At a welcome: adopts the tags the silo registered (changed through the API while away, say), unless they were
    /// changed locally since the hello went out; then those local tags are answered, to be sent to the silo.
    /// </summary>
    private IReadOnlyDictionary<string, string>? AdoptRegisteredTags(IReadOnlyDictionary<string, string> registered)
    {
        lock (_tagsGate)
        {
            if (!ReferenceEquals(_tags, _helloTags)) return _tags;
            SetTags(registered, fromSilo: true);
            return null;
        }
    }
}
