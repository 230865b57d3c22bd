using Platform.Agent.Handlers;
using Platform.Protocol;

namespace Platform.Agent;

public sealed partial class NodeAgent
{
    private void AddMemberEvent(string type, MemberInfo member)
    {
        if (_memberCoalescer is { } coalescer) coalescer.Add(type, member);
        else Dispatch(new MemberHandlerEvent(type, [member]));
    }
}
