using Berth.Core.Auth;

namespace Berth.Core.Audit;

/// <summary>Who is acting and from where, for the audit entries of the current request or job.</summary>
public sealed class AuditContext
{
    public Actor Actor { get; private set; } = Actor.System;

    public string? ClientAddress { get; private set; }

    public string? RequestId { get; private set; }

    public void Set(Actor actor, string? clientAddress, string? requestId)
    {
        Actor = actor;
        ClientAddress = clientAddress;
        RequestId = requestId;
    }
}
